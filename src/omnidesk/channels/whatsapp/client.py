"""The WhatsApp Cloud API: POST /{version}/{phone_number_id}/messages on the Graph API."""

from __future__ import annotations

from typing import Any

import httpx

from omnidesk.channels.base import DeliveryError

TIMEOUT_SECONDS = 15.0


def _refusal(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        code = f" (code {error['code']})" if error.get("code") else ""
        return f"WhatsApp refused the message ({response.status_code}): {error['message']}{code}"
    return f"WhatsApp refused the message ({response.status_code})"


async def send_message(*, base_url: str, api_version: str, phone_number_id: str, token: str,
                       payload: dict[str, Any]) -> str:
    """Send one message (the Cloud API's JSON); return its id (wamid.…)."""
    url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(url, json={"messaging_product": "whatsapp", **payload},
                                         headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise DeliveryError(f"WhatsApp could not be reached: {type(error).__name__}") from error
    if response.status_code != 200:
        raise DeliveryError(_refusal(response))
    try:
        return str(response.json()["messages"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise DeliveryError("WhatsApp answered without a message id") from error
