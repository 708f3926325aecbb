"""Every API route is reachable: no route of an earlier router shadows a later one."""

from __future__ import annotations

import re

from starlette.routing import compile_path

from omnidesk.app import API_ROUTERS

SAMPLE_ID = "0f4b2c7e-1111-4222-8333-444455556666"


def routes_in_order() -> list[tuple[str, set[str], re.Pattern[str]]]:
    """(path, methods, regex) of every API route, in the order FastAPI tries them."""
    routes = []
    for router in API_ROUTERS:
        for route in router.routes:
            path = getattr(route, "path", None)
            if path is not None:
                methods = set(getattr(route, "methods", None) or {"WEBSOCKET"})
                routes.append((path, methods, compile_path(path)[0]))
    return routes


def test_api_routes_match_as_listed() -> None:
    routes = routes_in_order()
    for path, methods, _ in routes:
        sample = re.sub(r"\{[^}]+\}", SAMPLE_ID, path)
        for method in methods:
            first = next(p for p, ms, regex in routes if method in ms and regex.match(sample))
            assert first == path, f"{method} {sample} reaches {first}, not {path}"
