"""Suggestions for the conversation in front of the agent (the desktop calls exactly this)."""

from __future__ import annotations

from tests.channels.test_api_channel import SECRET, message, signed
from tests.conftest import Api
from tests.knowledge.conftest import Kb, make_kb


async def contact(api: Api, kb: Kb, *texts: str, phone: str = "+1 415 555 0134") -> str:
    """An interaction of the kb's tenant whose customer wrote `texts`; returns its id."""
    channels = (await api.client.get("/api/v1/channels", headers=kb.admin)).json()
    channel_id = next((c["id"] for c in channels if c["name"] == "crm"), None)
    if channel_id is None:
        await api.client.post("/api/v1/queues", headers=kb.admin, json={"name": "support"})
        created = await api.client.post("/api/v1/channels", headers=kb.admin, json={
            "kind": "api", "name": "crm", "default_queue": "support", "secret": SECRET})
        assert created.status_code == 201, created.text
        channel_id = created.json()["id"]
    interaction = ""
    for text in texts:
        raw, headers = signed(message(text, phone=phone), api.db.clock)
        response = await api.client.post(f"/api/v1/channels/api/{channel_id}/messages",
                                         content=raw, headers=headers)
        assert response.status_code == 202, response.text
        interaction = response.json()["interaction_id"]
    return interaction


async def test_suggestions_come_from_the_customers_recent_messages(api: Api, kb: Kb) -> None:
    interaction = await contact(api, kb, "Hello", "My parcel arrived broken",
                                "how do I send it back for a refund?")
    response = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent,
                                    params={"interaction_id": interaction})
    assert response.status_code == 200, response.text
    articles = response.json()["articles"]
    assert articles[0]["id"] == kb.ids["returns"]
    assert set(articles[0]) >= {"id", "title", "snippet", "url"}
    assert articles[0]["url"] == "/help/acme/returns"
    assert "<mark>" in articles[0]["snippet"]
    assert kb.ids["black-friday"] not in {a["id"] for a in articles}  # drafts: never


async def test_suggestions_follow_the_conversation(api: Api, kb: Kb) -> None:
    interaction = await contact(api, kb, "Do you take PayPal?")
    first = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent,
                                 params={"interaction_id": interaction})
    assert first.json()["articles"][0]["id"] == kb.ids["payment-methods"]
    await contact(api, kb, "and how long is express delivery?", "next day delivery possible?")
    later = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent,
                                 params={"interaction_id": interaction})
    assert later.json()["articles"][0]["id"] == kb.ids["delivery-times"]


async def test_no_suggestions_for_small_talk_or_without_an_interaction(api: Api, kb: Kb) -> None:
    interaction = await contact(api, kb, "hi there")
    response = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent,
                                    params={"interaction_id": interaction})
    assert response.json()["articles"] == []
    bare = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent)
    assert bare.status_code == 200 and bare.json()["articles"] == []
    bad = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent,
                               params={"interaction_id": "not-a-uuid"})
    assert bad.status_code == 422 and "interaction_id" in bad.text


async def test_another_tenants_interaction_gets_no_suggestions(api: Api, kb: Kb) -> None:
    other = await make_kb(api, "globex")
    theirs = await contact(api, other, "refund for my return please", phone="+1 415 555 0199")
    response = await api.client.get("/api/v1/knowledge/suggestions", headers=kb.agent,
                                    params={"interaction_id": theirs})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "interaction_id"
