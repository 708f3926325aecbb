"""Serve the browser pages and their static files (plain HTML, CSS and ES modules)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / f"{name}.html", media_type="text/html",
                        headers={"Cache-Control": "no-cache"})


@router.get("/")
async def index() -> FileResponse:
    """The start page: links to the desktop, the wallboard, admin and reports."""
    return _page("index")


@router.get("/agent")
async def agent_desktop() -> FileResponse:
    """The agent desktop."""
    return _page("agent")


@router.get("/supervisor")
async def supervisor() -> FileResponse:
    """The supervisor wallboard."""
    return _page("supervisor")


@router.get("/admin")
async def admin() -> FileResponse:
    """The admin pages."""
    return _page("admin")


@router.get("/planner")
async def planner() -> FileResponse:
    """The workforce planner: Erlang staffing and the staffing plan from the forecast."""
    return _page("planner")


def install(app: FastAPI) -> None:
    """Add the pages and the /static files to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
