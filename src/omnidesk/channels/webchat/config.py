"""A web chat channel's settings (`Channel.settings` of kind "webchat")."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

KIND = "webchat"
IDENTITY_KIND = "chat"  # a visitor is a customer identity of kind "chat" (the visitor id)
DEFAULT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                 "text/plain")
ContentType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9.+-]+/[a-z0-9.+*-]+$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class WebchatSettings(BaseModel):
    """What a web chat channel may be told; unknown keys (flow settings …) are left alone."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title: Annotated[str, StringConstraints(max_length=100)] = "Chat with us"
    greeting: Annotated[str, StringConstraints(max_length=500)] = ""
    prechat_required: bool = True  # name and email before the first message
    topics: list[Label] = []  # offered in the pre-chat form; empty: free text
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    allowed_content_types: list[ContentType] = list(DEFAULT_TYPES)
    max_estimated_wait_seconds: int | None = Field(default=None, ge=1)
    offline_queue: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    callback_queue: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    email_channel: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    allowed_origins: list[str] = []  # empty: any page may embed the widget

    def allows(self, content_type: str) -> bool:
        """True when an upload of this type is accepted (`image/*` matches every image)."""
        kind = content_type.split(";", 1)[0].strip().lower()
        return any(kind == allowed or (allowed.endswith("/*")
                                       and kind.startswith(allowed[:-1]))
                   for allowed in self.allowed_content_types)
