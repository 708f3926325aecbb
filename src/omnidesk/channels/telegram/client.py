"""The Telegram Bot API: POST /bot<token>/sendMessage (and sendPhoto / sendDocument)."""

from __future__ import annotations

from typing import Any

import httpx

from omnidesk.channels.base import DeliveryError

TIMEOUT_SECONDS = 15.0


async def call(*, base_url: str, token: str, method: str, payload: dict[str, Any]) -> str:
    """Call a send method; return the sent message's message_id. Errors never show the URL
    (it holds the bot token)."""
    url = f"{base_url.rstrip('/')}/bot{token}/{method}"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(url, json=payload)
    except httpx.HTTPError as error:
        raise DeliveryError(f"Telegram could not be reached: {type(error).__name__}") from None
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("ok"):
        description = data.get("description") if isinstance(data, dict) else None
        raise DeliveryError(f"Telegram refused the message ({response.status_code})"
                            + (f": {description}" if description else ""))
    try:
        return str(data["result"]["message_id"])
    except (KeyError, TypeError) as error:
        raise DeliveryError("Telegram answered without a message_id") from error
