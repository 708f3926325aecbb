"""Every web chat route: the visitor socket, uploads; importing it registers the adapter."""

from __future__ import annotations

from fastapi import APIRouter

from omnidesk.channels.webchat import adapter as _adapter  # noqa: F401 - registers the kind
from omnidesk.channels.webchat.socket import router as socket_router
from omnidesk.channels.webchat.uploads import router as uploads_router

router = APIRouter()
router.include_router(socket_router)
router.include_router(uploads_router)
