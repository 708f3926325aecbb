"""The widget script and a demo page that embeds it (plain files, no build step)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/widget.js")
async def widget_script() -> FileResponse:
    """The embeddable widget: `<script src=".../widget.js" data-channel="ID"></script>`."""
    return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache",
                                 "Access-Control-Allow-Origin": "*"})


@router.get("/widget/demo")
async def widget_demo(channel: Annotated[uuid.UUID, Query()]) -> HTMLResponse:
    """A page that embeds the widget for a channel (for trying it out and browser tests)."""
    page = (STATIC / "demo.html").read_text(encoding="utf-8")
    return HTMLResponse(page.replace("{{CHANNEL_ID}}", str(channel)),
                        headers={"Cache-Control": "no-cache"})
