"""What channel tests do with the API: read interactions, messages, events; reply as an agent."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, eventually


async def interactions(api: Api, admin: dict[str, str]) -> list[dict[str, Any]]:
    """The tenant's interactions, newest first."""
    response = await api.client.get("/api/v1/interactions", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def messages(api: Api, admin: dict[str, str], interaction_id: str) -> list[dict[str, Any]]:
    """An interaction's messages, oldest first."""
    response = await api.client.get(f"/api/v1/interactions/{interaction_id}/messages",
                                    headers=admin)
    return response.json()  # type: ignore[no-any-return]


async def events(api: Api, admin: dict[str, str], subject: str) -> list[dict[str, Any]]:
    """The events about one subject."""
    return [e for e in (await api.client.get("/api/v1/events", headers=admin)).json()
            if e["subject"] == subject]


async def reply_and_settle(api: Api, admin: dict[str, str], interaction_id: str,
                           **message: Any) -> None:
    """Post an agent's message and wait until its delivery was recorded either way."""
    posted = await api.client.post(f"/api/v1/interactions/{interaction_id}/messages",
                                   headers=admin, json=message)
    assert posted.status_code == 201, posted.text

    async def settled() -> bool:
        return any(e["type"] in ("message.delivered", "message.failed")
                   for e in await events(api, admin, interaction_id))

    await eventually(settled, "the delivery")
