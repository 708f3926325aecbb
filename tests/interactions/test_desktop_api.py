"""What the agent desktop needs: my agent, my open interactions, the screen pop, internal
notes and consults, transfers to a queue or to an agent."""

from __future__ import annotations

import uuid
from typing import Any

from omnidesk.clock import FixedClock
from omnidesk.interactions.models import Interaction
from tests.acd.test_service import (  # noqa: F401 - center is a fixture
    acd_of,
    center,
    go_available,
    interaction,
    post_contact,
)
from tests.conftest import PASSWORD, Api, eventually


async def _offered_to(api: Api, center: dict[str, Any], interaction_id: str,  # noqa: F811
                      name: str) -> bool:
    row = await interaction(api, center, interaction_id)
    return bool(row["state"] == "offered" and row["agent_id"] == center["agents"][name]["id"])


async def _connected_contact(api: Api, center: dict[str, Any],  # noqa: F811
                             clock: FixedClock) -> str:
    """A contact from the API channel, offered to alice (the only one available), accepted."""
    await go_available(api, center, "alice")
    interaction_id = await post_contact(api, center, clock)
    await eventually(lambda: _offered_to(api, center, interaction_id, "alice"), "alice's offer")
    accepted = await api.client.post(f"/api/v1/interactions/{interaction_id}/accept",
                                     headers=center["agents"]["alice"]["headers"])
    assert accepted.status_code == 200, accepted.text
    return interaction_id


async def test_an_agent_reads_their_own_agent_record(api: Api,
                                                     center: dict[str, Any]) -> None:  # noqa: F811
    alice = center["agents"]["alice"]
    me = await api.client.get("/api/v1/agents/me", headers=alice["headers"])
    assert me.status_code == 200 and me.json()["id"] == alice["id"]
    not_agent = await api.client.get("/api/v1/agents/me", headers=center["admin"])
    assert not_agent.status_code == 403


async def test_open_filter_lists_the_agents_open_interactions(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    url = f"/api/v1/interactions?agent_id={alice['id']}&open=true"
    assert [i["id"] for i in (await api.client.get(url, headers=alice["headers"])).json()] == [
        interaction_id]
    for state in ("wrap_up", "closed"):
        await api.client.post(f"/api/v1/interactions/{interaction_id}/state",
                              headers=alice["headers"], json={"state": state})
    assert (await api.client.get(url, headers=alice["headers"])).json() == []
    closed = await api.client.get(f"/api/v1/interactions?agent_id={alice['id']}&open=false",
                                  headers=alice["headers"])
    assert [i["id"] for i in closed.json()] == [interaction_id]


async def test_the_screen_pop_has_customer_history_and_self_service_data(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    first = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    for state in ("wrap_up", "closed"):
        await api.client.post(f"/api/v1/interactions/{first}/state", headers=alice["headers"],
                              json={"state": state, "disposition": "answered"})
    second = await post_contact(api, center, clock)
    await eventually(lambda: _offered_to(api, center, second, "alice"), "the second offer")
    response = await api.client.get(f"/api/v1/interactions/{second}/context",
                                    headers=alice["headers"])
    assert response.status_code == 200, response.text
    context = response.json()
    assert context["customer"]["display_name"] == "Ana"
    assert {"kind": "phone", "value": "+14155550134"} in [
        {"kind": i["kind"], "value": i["value"]} for i in context["customer"]["identities"]]
    assert context["queue_name"] == "support"
    assert [i["id"] for i in context["past_interactions"]] == [first]
    assert context["open_interactions"] == []
    assert context["self_service"] == {} and context["notes"] == []


async def test_a_note_is_stored_streamed_and_never_delivered(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    url = f"/api/v1/interactions/{interaction_id}/notes"
    posted = await api.client.post(url, headers=alice["headers"],
                                   json={"body": "Customer sounds upset; offer a voucher"})
    assert posted.status_code == 201, posted.text
    assert (posted.json()["kind"], posted.json()["author_name"]) == ("note", "Alice")
    notes = (await api.client.get(url, headers=alice["headers"])).json()
    assert [n["body"] for n in notes] == ["Customer sounds upset; offer a voucher"]
    messages = await api.client.get(f"/api/v1/interactions/{interaction_id}/messages",
                                    headers=alice["headers"])
    assert "voucher" not in messages.text  # a note is not a message: nothing to deliver
    events = (await api.client.get("/api/v1/events", headers=center["admin"])).json()
    created = [e for e in events if e["type"] == "note.created"]
    assert created[0]["subject"] == interaction_id
    assert created[0]["payload"]["agent_id"] == alice["id"]


async def test_a_consult_goes_to_a_supervisor_and_only_to_staff(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    supervisor = (await api.client.post("/api/v1/users", headers=center["admin"], json={
        "email": "sue@acme.example", "name": "Sue", "role": "supervisor",
        "password": PASSWORD})).json()
    url = f"/api/v1/interactions/{interaction_id}/notes"
    asked = await api.client.post(url, headers=alice["headers"], json={
        "kind": "consult", "body": "May I refund twice?", "to_user_id": supervisor["id"]})
    assert asked.status_code == 201, asked.text
    assert asked.json()["to_user_id"] == supervisor["id"]
    bob_user = await api.client.get(f"/api/v1/agents/{center['agents']['bob']['id']}",
                                    headers=center["admin"])
    to_agent = await api.client.post(url, headers=alice["headers"], json={
        "kind": "consult", "body": "?", "to_user_id": bob_user.json()["user_id"]})
    assert to_agent.status_code == 422 and to_agent.json()["error"]["field"] == "to_user_id"
    unknown = await api.client.post(url, headers=alice["headers"], json={
        "kind": "consult", "body": "?", "to_user_id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "to_user_id"
    sue = await api.login("acme", "sue@acme.example")
    clock.advance(1)
    answer = await api.client.post(url, headers=sue, json={"body": "Yes, once."})
    assert answer.status_code == 201
    notes = (await api.client.get(url, headers=alice["headers"])).json()
    assert [(n["kind"], n["author_name"]) for n in notes] == [("consult", "Alice"),
                                                              ("note", "Sue")]


async def test_transfer_to_a_queue_requeues_and_frees_the_agent(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    billing = (await api.client.post("/api/v1/queues", headers=center["admin"], json={
        "name": "billing", "channel": "chat"})).json()
    await go_available(api, center, "bob")
    await api.client.put(f"/api/v1/agents/{alice['id']}/state", headers=alice["headers"],
                         json={"state": "break"})
    moved = await api.client.post(f"/api/v1/interactions/{interaction_id}/transfer",
                                  headers=alice["headers"],
                                  json={"queue_id": billing["id"], "note": "Refund question"})
    assert moved.status_code == 200, moved.text
    await eventually(lambda: _offered_to(api, center, interaction_id, "bob"), "bob's offer")
    row = await interaction(api, center, interaction_id)
    assert row["queue_id"] == billing["id"]
    status = acd_of(api).routers[center["tenant_id"]].engine.agent_status(alice["id"])
    assert interaction_id not in status.active and not status.load
    events = (await api.client.get("/api/v1/events", headers=center["admin"])).json()
    mine = [e["type"] for e in events if e["subject"] == interaction_id]
    assert mine[-4:] == ["interaction.transferred", "interaction.queued", "offer.created",
                         "note.created"] or mine[-4:] == [
        "interaction.transferred", "interaction.queued", "note.created", "offer.created"]


async def test_transfer_to_an_agent_rings_that_agent_who_accepts(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice, bob = center["agents"]["alice"], center["agents"]["bob"]
    await go_available(api, center, "bob")
    url = f"/api/v1/interactions/{interaction_id}"
    by_bob = await api.client.post(f"{url}/transfer", headers=bob["headers"],
                                   json={"agent_id": alice["id"]})
    assert by_bob.status_code == 403  # only the agent handling it
    moved = await api.client.post(f"{url}/transfer", headers=alice["headers"],
                                  json={"agent_id": bob["id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["state"], moved.json()["agent_id"]) == ("offered", bob["id"])
    taken = await api.client.post(f"{url}/accept", headers=bob["headers"])
    assert taken.status_code == 200, taken.text
    assert (taken.json()["state"], taken.json()["agent_id"]) == ("connected", bob["id"])
    engine = acd_of(api).routers[center["tenant_id"]].engine
    assert interaction_id in engine.agent_status(bob["id"]).active
    assert interaction_id not in engine.agent_status(alice["id"]).active


async def test_a_rejected_transfer_waits_in_its_queue(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice, bob = center["agents"]["alice"], center["agents"]["bob"]
    await go_available(api, center, "bob")
    url = f"/api/v1/interactions/{interaction_id}"
    await api.client.post(f"{url}/transfer", headers=alice["headers"],
                          json={"agent_id": bob["id"]})
    rejected = await api.client.post(f"{url}/reject", headers=bob["headers"])
    assert rejected.status_code == 200, rejected.text
    # Back in its queue: alice now has room again and is offered it by the router.
    await eventually(lambda: _offered_to(api, center, interaction_id, "alice"), "re-offer")


async def test_an_unanswered_transfer_times_out_to_the_queue(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice, bob = center["agents"]["alice"], center["agents"]["bob"]
    await go_available(api, center, "bob")
    await api.client.put(f"/api/v1/agents/{alice['id']}/state", headers=alice["headers"],
                         json={"state": "break", "reason": "coffee"})
    url = f"/api/v1/interactions/{interaction_id}"
    await api.client.post(f"{url}/transfer", headers=alice["headers"],
                          json={"agent_id": bob["id"]})
    clock.advance(31)

    async def timed_out() -> bool:
        events = (await api.client.get("/api/v1/events", headers=center["admin"])).json()
        return any(e["type"] == "offer.timed_out" and e["subject"] == interaction_id
                   for e in events)

    await eventually(timed_out, "the transfer's time-out")
    # Bob is the only one available: the router offers it to him from the queue.
    await eventually(lambda: _offered_to(api, center, interaction_id, "bob"), "queue offer")


async def test_a_transfer_names_what_is_wrong(api: Api, center: dict[str, Any],  # noqa: F811
                                              clock: FixedClock) -> None:
    interaction_id = await _connected_contact(api, center, clock)
    alice, bob = center["agents"]["alice"], center["agents"]["bob"]
    url = f"/api/v1/interactions/{interaction_id}/transfer"

    async def error(body: dict[str, Any]) -> tuple[int, str]:
        response = await api.client.post(url, headers=alice["headers"], json=body)
        return response.status_code, response.json()["error"]["field"]

    assert await error({}) == (422, "queue_id")
    assert await error({"queue_id": center["queue"], "agent_id": bob["id"]}) == (422, "agent_id")
    assert await error({"queue_id": str(uuid.uuid4())}) == (404, "queue_id")
    assert await error({"agent_id": alice["id"]}) == (422, "agent_id")
    assert await error({"agent_id": bob["id"]}) == (409, "agent_id")  # bob is offline
    assert (await interaction(api, center, interaction_id))["state"] == "connected"


async def _agent_state(api: Api, center: dict[str, Any], name: str) -> str:  # noqa: F811
    agent = center["agents"][name]
    return str((await api.client.get(f"/api/v1/agents/{agent['id']}",
                                     headers=agent["headers"])).json()["state"])


async def test_wrap_up_of_the_last_contact_is_after_contact_work_then_available(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    url = f"/api/v1/interactions/{interaction_id}/state"
    await api.client.post(url, headers=alice["headers"], json={"state": "wrap_up"})
    assert await _agent_state(api, center, "alice") == "after_call_work"
    second = await post_contact(api, center, clock, phone="+14155550999")
    await api.client.post(url, headers=alice["headers"],
                          json={"state": "closed", "disposition": "resolved", "resolved": True})
    assert await _agent_state(api, center, "alice") == "available"
    # Available again: the contact that waited during wrap-up is offered now.
    await eventually(lambda: _offered_to(api, center, second, "alice"), "the next offer")


async def _two_live_chats(api: Api, center: dict[str, Any],  # noqa: F811
                          clock: FixedClock) -> tuple[str, str]:
    """Alice connected with two customers at once."""
    first = await _connected_contact(api, center, clock)
    second = await post_contact(api, center, clock, phone="+14155550999")
    await eventually(lambda: _offered_to(api, center, second, "alice"), "the second chat")
    await api.client.post(f"/api/v1/interactions/{second}/accept",
                          headers=center["agents"]["alice"]["headers"])
    return first, second


async def test_wrap_up_while_other_chats_are_live_keeps_the_agent_available(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    first, _ = await _two_live_chats(api, center, clock)
    alice = center["agents"]["alice"]
    await api.client.post(f"/api/v1/interactions/{first}/state", headers=alice["headers"],
                          json={"state": "wrap_up"})
    assert await _agent_state(api, center, "alice") == "available"


async def test_after_contact_work_lasts_until_the_last_wrap_up_is_closed(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    first, second = await _two_live_chats(api, center, clock)
    alice = center["agents"]["alice"]
    for interaction_id in (first, second):
        await api.client.post(f"/api/v1/interactions/{interaction_id}/state",
                              headers=alice["headers"], json={"state": "wrap_up"})
    assert await _agent_state(api, center, "alice") == "after_call_work"
    closed = {"state": "closed", "disposition": "resolved", "resolved": True}
    await api.client.post(f"/api/v1/interactions/{first}/state", headers=alice["headers"],
                          json=closed)
    assert await _agent_state(api, center, "alice") == "after_call_work"  # one still open
    await api.client.post(f"/api/v1/interactions/{second}/state", headers=alice["headers"],
                          json=closed)
    assert await _agent_state(api, center, "alice") == "available"


async def test_a_break_taken_during_wrap_up_is_kept(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice = center["agents"]["alice"]
    url = f"/api/v1/interactions/{interaction_id}/state"
    await api.client.post(url, headers=alice["headers"], json={"state": "wrap_up"})
    await api.client.put(f"/api/v1/agents/{alice['id']}/state", headers=alice["headers"],
                         json={"state": "break", "reason": "coffee"})
    await api.client.post(url, headers=alice["headers"], json={"state": "closed"})
    assert await _agent_state(api, center, "alice") == "break"


async def test_the_screen_pop_shows_what_self_service_collected(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await post_contact(api, center, clock)
    async with api.db.write() as session:
        row = await session.get(Interaction, uuid.UUID(interaction_id))
        assert row is not None
        row.attributes = {**row.attributes, "flow": {"order_number": "1234", "intent": "where"}}
    context = await api.client.get(f"/api/v1/interactions/{interaction_id}/context",
                                   headers=center["agents"]["alice"]["headers"])
    assert context.json()["self_service"] == {"order_number": "1234", "intent": "where"}


async def test_a_tenants_dispositions_are_the_only_codes_accepted_at_close(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    alice = center["agents"]["alice"]
    url = "/api/v1/dispositions"
    refused = await api.client.post(url, headers=alice["headers"],
                                    json={"code": "solved", "label": "Solved"})
    assert refused.status_code == 403  # agents read, staff write
    for code, label, resolved in (("solved", "Solved", True), ("callback", "Call back", False)):
        created = await api.client.post(url, headers=center["admin"], json={
            "code": code, "label": label, "resolved": resolved})
        assert created.status_code == 201, created.text
    again = await api.client.post(url, headers=center["admin"],
                                  json={"code": "solved", "label": "x"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "code"
    bad = await api.client.post(url, headers=center["admin"], json={"code": "No!", "label": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "code"
    listed = (await api.client.get(url, headers=alice["headers"])).json()
    assert [(d["code"], d["resolved"]) for d in listed] == [("solved", True), ("callback", False)]

    interaction_id = await _connected_contact(api, center, clock)
    state = f"/api/v1/interactions/{interaction_id}/state"
    await api.client.post(state, headers=alice["headers"], json={"state": "wrap_up"})
    unknown = await api.client.post(state, headers=alice["headers"],
                                    json={"state": "closed", "disposition": "whatever"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "disposition"
    closed = await api.client.post(state, headers=alice["headers"],
                                   json={"state": "closed", "disposition": "callback"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    deleted = await api.client.delete(f"{url}/{listed[1]['id']}", headers=center["admin"])
    assert deleted.status_code == 204
    assert [d["code"] for d in (await api.client.get(url, headers=alice["headers"])).json()] == [
        "solved"]


async def test_only_the_agent_handling_an_interaction_or_staff_writes_in_it_or_moves_it(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice, bob = center["agents"]["alice"], center["agents"]["bob"]
    url = f"/api/v1/interactions/{interaction_id}"
    refused = [
        await api.client.post(f"{url}/state", headers=bob["headers"], json={"state": "closed"}),
        await api.client.post(f"{url}/messages", headers=bob["headers"], json={"body": "Hi"}),
        await api.client.post(f"{url}/attachments?filename=a.txt", content=b"a",
                              headers={**bob["headers"], "Content-Type": "text/plain"}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["field"] == "interaction_id"
    assert (await interaction(api, center, interaction_id))["state"] == "connected"
    written = await api.client.post(f"{url}/messages", headers=alice["headers"],
                                    json={"body": "Hello"})
    assert written.status_code == 201, written.text
    held = await api.client.post(f"{url}/state", headers=center["admin"],
                                 json={"state": "on_hold"})
    assert held.status_code == 200, held.text
    resumed = await api.client.post(f"{url}/state", headers=alice["headers"],
                                    json={"state": "connected"})
    assert resumed.status_code == 200, resumed.text


async def test_once_closed_any_agent_may_write_in_an_interaction_again(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:  # noqa: F811
    interaction_id = await _connected_contact(api, center, clock)
    alice, bob = center["agents"]["alice"], center["agents"]["bob"]
    url = f"/api/v1/interactions/{interaction_id}"
    for state in ("wrap_up", "closed"):
        moved = await api.client.post(f"{url}/state", headers=alice["headers"],
                                      json={"state": state})
        assert moved.status_code == 200, moved.text
    written = await api.client.post(f"{url}/messages", headers=bob["headers"],
                                    json={"body": "Following up on your question"})
    assert written.status_code == 201, written.text
