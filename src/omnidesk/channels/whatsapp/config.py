"""The settings of a WhatsApp Cloud API channel (tokens live in environment variables)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class WhatsAppSettings(BaseModel):
    """`Channel.settings` of kind whatsapp; `Channel.secret` is the Meta app secret."""

    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = ""  # the business number's id in Meta's API setup page
    access_token_env: EnvName | None = None  # env variable with a (system user) access token
    verify_token_env: EnvName | None = None  # env variable with the webhook verify token
    api_base_url: str = "https://graph.facebook.com"
    api_version: Annotated[str, StringConstraints(pattern=r"^v\d+\.\d+$")] = "v21.0"
