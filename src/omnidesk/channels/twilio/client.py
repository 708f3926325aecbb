"""Twilio's Messages REST API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json."""

from __future__ import annotations

from typing import Any

import httpx

from omnidesk.channels.base import DeliveryError

TIMEOUT_SECONDS = 15.0


def refusal(response: httpx.Response, what: str = "the message") -> str:
    """Twilio's error answer as one line: "Twilio refused <what> (status): message (code)"."""
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    if isinstance(data, dict) and data.get("message"):
        code = f" (code {data['code']})" if data.get("code") else ""
        return f"Twilio refused {what} ({response.status_code}): {data['message']}{code}"
    return f"Twilio refused {what} ({response.status_code})"


async def create_message(*, base_url: str, account_sid: str, username: str, password: str,
                         fields: list[tuple[str, str]]) -> str:
    """Send one message (form fields To, From or MessagingServiceSid, Body, MediaUrl …);
    return its sid."""
    url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(url, data=_grouped(fields),
                                         auth=(username, password))
    except httpx.HTTPError as error:
        raise DeliveryError(f"Twilio could not be reached: {type(error).__name__}") from error
    if response.status_code not in (200, 201):
        raise DeliveryError(refusal(response))
    try:
        sid = response.json()["sid"]
    except (ValueError, KeyError, TypeError) as error:
        raise DeliveryError("Twilio answered without a message sid") from error
    return str(sid)


def _grouped(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Repeated form fields (MediaUrl) as httpx sends them: one name, several values."""
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return grouped
