"""Every error leaves the API as JSON naming the problem and, where there is one, the field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from omnidesk.errors import OmnideskError

log = logging.getLogger("omnidesk.http")


def error_body(code: str, message: str, field: str | None = None,
               fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The JSON shape of every error answer."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    if fields:
        error["fields"] = fields
    return {"error": error}


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[0] if location else "body")


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OmnideskError)
    headers = (None if error.retry_after_s is None
               else {"Retry-After": str(error.retry_after_s)})
    return JSONResponse(error_body(error.code, error.message, error.field),
                        status_code=error.status_code, headers=headers)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [{"field": _field_name(tuple(item.get("loc", ()))), "message": str(item["msg"])}
              for item in error.errors()]
    first = fields[0] if fields else {"field": "body", "message": "invalid request"}
    return JSONResponse(
        error_body("validation_error", f"{first['field']}: {first['message']}", first["field"],
                   fields), status_code=422)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code,
                        headers=getattr(error, "headers", None))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse(error_body("internal_error", "internal error; it has been logged"),
                        status_code=500)


def install(app: FastAPI) -> None:
    """Register the JSON error handlers on the app."""
    app.add_exception_handler(OmnideskError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
