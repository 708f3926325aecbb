"""The settings of a Telegram bot channel (the bot token lives in an environment variable)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class TelegramSettings(BaseModel):
    """`Channel.settings` of kind telegram; `Channel.secret` is the webhook's secret_token."""

    model_config = ConfigDict(extra="forbid")

    bot_token_env: EnvName | None = None  # env variable with the token from @BotFather
    api_base_url: str = "https://api.telegram.org"
