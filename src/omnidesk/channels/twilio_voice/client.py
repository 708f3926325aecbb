"""Twilio's Calls REST API: POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json."""

from __future__ import annotations

from typing import Any

import httpx

from omnidesk.channels.twilio.client import refusal

TIMEOUT_SECONDS = 15.0


class CallUpdateError(Exception):
    """Twilio could not be reached or refused to change the call (the reason, no secrets)."""


async def redirect_call(*, base_url: str, account_sid: str, username: str, password: str,
                        call_sid: str, twiml: str) -> dict[str, Any]:
    """Give a live call new TwiML (form field `Twiml`); Twilio's Call resource back."""
    url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(url, data={"Twiml": twiml}, auth=(username, password))
    except httpx.HTTPError as error:
        raise CallUpdateError(f"Twilio could not be reached: {type(error).__name__}") from error
    if response.status_code != 200:
        raise CallUpdateError(refusal(response, "to update the call"))
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}
