"""A fake provider on a real loopback HTTP port (uvicorn in-process), for outbound tests.

Shared by the Twilio, WhatsApp and Telegram tests: each builds a small Starlette app that
checks requests the way the provider does and answers in the provider's format.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp


@dataclass
class Seen:
    """One request the fake provider received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """What the fake provider received, in order."""

    requests: list[Seen] = field(default_factory=list)

    async def note(self, request: Request) -> Seen:
        """Record a request (with its body) and return it."""
        seen = Seen(method=request.method, path=request.url.path,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    body=await request.body())
        self.requests.append(seen)
        return seen


class _Server(uvicorn.Server):
    """uvicorn without signal handlers: the test runner owns them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, *, websockets: bool = False) -> AsyncIterator[str]:
    """Serve the app on a free loopback port (WebSockets too if asked); yields its base URL,
    stops it afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning", http="h11",
                                    ws="websockets-sansio" if websockets else "none",
                                    loop="asyncio"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        assert server.started, "the loopback server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
