"""The ACD inside the server: offers over the event log, accept, reject, time-out, rebuild."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from omnidesk.acd.service import AcdService, TenantRouter
from omnidesk.acd.writes import apply_decision
from omnidesk.clock import FixedClock
from omnidesk.events.log import last_seq
from omnidesk.events.record import EventRecord
from omnidesk.interactions.models import Interaction
from omnidesk.routing import Decision, OfferCreated
from tests.channels.test_api_channel import message, signed
from tests.conftest import PASSWORD, Api, eventually, make_tenant


@pytest.fixture
async def center(api: Api) -> dict[str, Any]:
    """Tenant acme: queue support (english ≥ 2), agents alice and bob, an API channel."""
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.client.post(f"/api/v1{path}", headers=admin, json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    await post("/skills", {"name": "english"})
    queue = await post("/queues", {"name": "support", "channel": "chat",
                                   "offer_timeout_seconds": 20,
                                   "skills": [{"skill": "english", "min_proficiency": 2}]})
    agents = {}
    for name in ("alice", "bob"):
        user = await post("/users", {"email": f"{name}@acme.example", "name": name.title(),
                                     "role": "agent", "password": PASSWORD})
        agent = await post("/agents", {"user_id": user["id"],
                                       "skills": [{"skill": "english", "proficiency": 4}]})
        agents[name] = {"id": agent["id"], "headers": await api.login(
            "acme", f"{name}@acme.example")}
    channel = await post("/channels", {"kind": "api", "name": "crm", "default_queue": "support"})
    return {"tenant_id": tenant_id, "admin": admin, "queue": queue["id"], "agents": agents,
            "channel": channel}


def acd_of(api: Api) -> AcdService:
    """The app's ACD."""
    acd: AcdService = api.app.state.acd
    return acd


async def go_available(api: Api, center: dict[str, Any], name: str) -> None:
    """The agent's desktop connects and they go available."""
    agent = center["agents"][name]
    await acd_of(api).desktop_opened(center["tenant_id"], uuid.UUID(agent["id"]))
    response = await api.client.put(f"/api/v1/agents/{agent['id']}/state",
                                    headers=agent["headers"], json={"state": "available"})
    assert response.status_code == 200


async def post_contact(api: Api, center: dict[str, Any], clock: FixedClock,
                       phone: str = "+14155550134") -> str:
    raw, headers = signed(message(phone=phone), clock, secret=center["channel"]["secret"])
    response = await api.client.post(
        f"/api/v1/channels/api/{center['channel']['id']}/messages", content=raw, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["interaction_id"])


async def interaction(api: Api, center: dict[str, Any], interaction_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/api/v1/interactions/{interaction_id}",
                                    headers=center["admin"])
    return response.json()  # type: ignore[no-any-return]


async def offered_to(api: Api, center: dict[str, Any], interaction_id: str, name: str) -> None:
    async def check() -> bool:
        row = await interaction(api, center, interaction_id)
        return bool(row["state"] == "offered" and row["agent_id"] == center["agents"][name]["id"])

    await eventually(check, f"an offer to {name}")


async def event_types(api: Api, center: dict[str, Any], subject: str) -> list[str]:
    events = (await api.client.get("/api/v1/events", headers=center["admin"])).json()
    return [e["type"] for e in events if e["subject"] == subject]


async def test_a_queued_contact_is_offered_to_an_available_agent_who_accepts(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    await go_available(api, center, "alice")
    contact = await post_contact(api, center, clock)
    await offered_to(api, center, contact, "alice")
    clock.advance(3)
    accepted = await api.client.post(f"/api/v1/interactions/{contact}/accept",
                                     headers=center["agents"]["alice"]["headers"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "connected"
    assert await event_types(api, center, contact) == [
        "interaction.created", "message.created", "interaction.queued", "offer.created",
        "offer.accepted", "interaction.connected"]


async def test_no_offer_goes_to_an_agent_without_a_desktop_or_not_available(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    bob = center["agents"]["bob"]
    await api.client.put(f"/api/v1/agents/{bob['id']}/state", headers=bob["headers"],
                         json={"state": "available"})  # available, but no desktop open
    contact = await post_contact(api, center, clock)
    await asyncio.sleep(0.3)
    assert (await interaction(api, center, contact))["state"] == "queued"
    await go_available(api, center, "alice")
    await offered_to(api, center, contact, "alice")


async def test_a_rejected_offer_goes_to_the_next_agent_and_a_timeout_re_offers(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    await go_available(api, center, "alice")
    clock.advance(1)
    await go_available(api, center, "bob")
    contact = await post_contact(api, center, clock)
    await offered_to(api, center, contact, "alice")  # longest idle first
    rejected = await api.client.post(f"/api/v1/interactions/{contact}/reject",
                                     headers=center["agents"]["alice"]["headers"])
    assert rejected.status_code == 200, rejected.text
    await offered_to(api, center, contact, "bob")
    clock.advance(21)  # bob lets the offer time out: he goes to "missed"
    await offered_to(api, center, contact, "alice")
    bob = (await api.client.get(f"/api/v1/agents/{center['agents']['bob']['id']}",
                                headers=center["admin"])).json()
    assert bob["state"] == "missed"
    late = await api.client.post(f"/api/v1/interactions/{contact}/accept",
                                 headers=center["agents"]["bob"]["headers"])
    assert late.status_code == 409
    assert await event_types(api, center, contact) == [
        "interaction.created", "message.created", "interaction.queued", "offer.created",
        "offer.rejected", "offer.created", "offer.timed_out", "offer.created"]
    row = await interaction(api, center, contact)
    assert row["queued_at"].startswith("2026-11-25T09:00:01")  # requeues keep the wait clock


async def test_only_the_offered_agent_may_answer_an_offer(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    await go_available(api, center, "alice")
    contact = await post_contact(api, center, clock)
    await offered_to(api, center, contact, "alice")
    for who in (center["agents"]["bob"]["headers"], center["admin"]):
        response = await api.client.post(f"/api/v1/interactions/{contact}/accept", headers=who)
        assert response.status_code in (403, 409), response.text
    manual = await api.client.post(f"/api/v1/interactions/{contact}/state",
                                   headers=center["admin"],
                                   json={"state": "connected",
                                         "agent_id": center["agents"]["bob"]["id"]})
    assert manual.status_code == 409


async def test_capacity_is_freed_when_the_contact_closes(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    await api.client.patch(f"/api/v1/agents/{center['agents']['alice']['id']}",
                           headers=center["admin"], json={"capacity": {"chat": 1}})
    await go_available(api, center, "alice")
    first = await post_contact(api, center, clock, phone="+14155550101")
    await offered_to(api, center, first, "alice")
    await api.client.post(f"/api/v1/interactions/{first}/accept",
                          headers=center["agents"]["alice"]["headers"])
    second = await post_contact(api, center, clock, phone="+14155550102")
    await asyncio.sleep(0.3)
    assert (await interaction(api, center, second))["state"] == "queued"  # alice is full
    for state in ("wrap_up", "closed"):
        clock.advance(60)
        response = await api.client.post(f"/api/v1/interactions/{first}/state",
                                         headers=center["agents"]["alice"]["headers"],
                                         json={"state": state, "resolved": True})
        assert response.status_code == 200, response.text
    await offered_to(api, center, second, "alice")


async def test_the_engine_is_rebuilt_from_the_database_in_the_original_order(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    contacts = []
    for index in range(3):
        contacts.append(await post_contact(api, center, clock, phone=f"+1415555020{index}"))
        clock.advance(5)
    fresh = AcdService(api.db)
    router = await fresh.router(center["tenant_id"])
    now = fresh.now()
    waiting = router.engine.waiting(center["queue"], now)
    assert [w.interaction_id for w in waiting] == contacts
    assert [round(w.waited_s) for w in waiting] == [15, 10, 5]


async def test_a_contact_overflows_to_another_queue_after_its_escalation_step(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    admin = center["admin"]
    await api.client.post("/api/v1/skills", headers=admin, json={"name": "german"})
    await api.client.post("/api/v1/queues", headers=admin, json={"name": "german-desk",
                          "skills": [{"skill": "german", "min_proficiency": 3}],
                          "escalation": [{"after_seconds": 30, "overflow_to": "support"}]})
    german = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "api", "name": "de", "default_queue": "german-desk"})
    await go_available(api, center, "alice")  # english only
    contact = await post_contact(api, {**center, "channel": german.json()}, clock)
    await asyncio.sleep(0.3)
    assert (await interaction(api, center, contact))["state"] == "queued"
    clock.advance(31)
    await offered_to(api, center, contact, "alice")
    row = await interaction(api, center, contact)
    assert row["queue_id"] == center["queue"]
    types = await event_types(api, center, contact)
    assert types[-3:] == ["interaction.escalated", "interaction.queued", "offer.created"]


async def test_a_contact_that_waits_too_long_gets_the_configured_outcome(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    response = await api.client.patch(f"/api/v1/queues/{center['queue']}",
                                      headers=center["admin"], json={
        "max_wait_seconds": 120,
        "outcomes": {"max_wait": {"kind": "message_then_end",
                                  "message": "Sorry, everyone is busy."}}})
    assert response.status_code == 200, response.text
    contact = await post_contact(api, center, clock)
    clock.advance(121)

    async def closed() -> bool:
        return bool((await interaction(api, center, contact))["state"] == "closed")

    await eventually(closed, "the max-wait outcome")
    messages = (await api.client.get(f"/api/v1/interactions/{contact}/messages",
                                     headers=center["admin"])).json()
    assert [(m["author_kind"], m["body"]) for m in messages][-1] == (
        "system", "Sorry, everyone is busy.")


async def test_escalation_must_name_things_that_exist(api: Api, center: dict[str, Any]) -> None:
    response = await api.client.patch(f"/api/v1/queues/{center['queue']}",
                                      headers=center["admin"], json={
        "escalation": [{"after_seconds": 10, "overflow_to": "nowhere"}]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "escalation[0].overflow_to"


async def test_waiting_contacts_know_their_position_and_the_queue_its_live_figures(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    contacts = []
    for index in range(3):
        contacts.append(await post_contact(api, center, clock, phone=f"+1415555030{index}"))
        clock.advance(10)
    await eventually(lambda: _known(api, center, contacts[-1]), "the router to queue them")
    positions = [(await api.client.get(f"/api/v1/interactions/{c}/position",
                                       headers=center["admin"])).json() for c in contacts]
    assert [p["position"] for p in positions] == [1, 2, 3]
    assert [p["waited_s"] for p in positions] == [30, 20, 10]
    assert all(p["estimated_wait_s"] is None for p in positions)  # nobody staffed
    async with api.db.read() as session:  # what the phone announcements say: the same
        second_row = await session.get(Interaction, uuid.UUID(contacts[1]))
    assert second_row is not None
    assert await acd_of(api).queue_position(second_row) == (2, None)
    live = (await api.client.get(f"/api/v1/queues/{center['queue']}/live",
                                 headers=center["admin"])).json()
    assert (live["waiting"], live["longest_wait_s"], live["available_agents"]) == (3, 30, 0)
    await go_available(api, center, "alice")
    await offered_to(api, center, contacts[0], "alice")
    on_offer = await api.client.get(f"/api/v1/interactions/{contacts[0]}/position",
                                    headers=center["admin"])
    second = (await api.client.get(f"/api/v1/interactions/{contacts[1]}/position",
                                   headers=center["admin"])).json()
    assert on_offer.json()["position"] == 1  # in line until the agent accepts
    assert second["position"] == 2


async def _known(api: Api, center: dict[str, Any], contact: str) -> bool:
    response = await api.client.get(f"/api/v1/interactions/{contact}/position",
                                    headers=center["admin"])
    return response.status_code == 200


async def test_the_sweep_queues_a_waiting_contact_whose_event_never_reached_the_engine(
        api: Api, center: dict[str, Any], clock: FixedClock,
        caplog: pytest.LogCaptureFixture) -> None:
    acd = acd_of(api)
    router = await acd.router(center["tenant_id"])
    real_translate = acd._translate

    async def drop_queued_events(router: TenantRouter, record: EventRecord) -> list[Any]:
        return [] if record.type == "interaction.queued" else await real_translate(
            router, record)

    acd._translate = drop_queued_events  # type: ignore[method-assign]
    contact = await post_contact(api, center, clock)
    await eventually(lambda: _seen(router, api), "the follower passing the event")
    assert not router.engine.is_queued(contact)
    acd._translate = real_translate  # type: ignore[method-assign]

    await acd.sweep(router)
    assert router.engine.is_queued(contact)
    assert "found 1 waiting contacts the engine missed" in caplog.text
    await go_available(api, center, "alice")
    await offered_to(api, center, contact, "alice")


async def test_the_sweep_waits_for_events_still_on_their_way_and_reports_nothing_missed(
        api: Api, center: dict[str, Any], clock: FixedClock,
        caplog: pytest.LogCaptureFixture) -> None:
    acd = acd_of(api)
    router = await acd.router(center["tenant_id"])
    real_on_events = acd.on_events
    gate = asyncio.Event()

    async def slow_follower(records: list[EventRecord | None]) -> None:
        await gate.wait()
        await real_on_events(records)

    acd.on_events = slow_follower  # type: ignore[method-assign]
    contact = await post_contact(api, center, clock)  # committed; its events wait at the gate
    sweep = asyncio.create_task(acd.sweep(router))
    await asyncio.sleep(0.2)
    assert not sweep.done(), "the sweep should wait for the follower"
    gate.set()
    await asyncio.wait_for(sweep, 5)
    assert router.engine.is_queued(contact)
    assert "missed" not in caplog.text
    await go_available(api, center, "alice")
    await offered_to(api, center, contact, "alice")


async def _seen(router: TenantRouter, api: Api) -> bool:
    """The follower has passed every event of the tenant so far."""
    async with api.db.read() as session:
        return router.seen_seq >= await last_seq(session, router.tenant_id)


async def _two_contacts_withheld_from_the_acd(
        api: Api, center: dict[str, Any], clock: FixedClock) -> tuple[list[str], list[Any]]:
    """Two contacts posted while the ACD's follower only collects what it receives; the
    follower restored, the contacts' ids and every event it did not handle."""
    acd = acd_of(api)
    real_on_events, withheld = acd.on_events, []

    async def collect(records: list[EventRecord | None]) -> None:
        withheld.extend(records)

    acd.on_events = collect  # type: ignore[method-assign]
    ids = [await post_contact(api, center, clock, phone=f"+1415555010{n}") for n in (1, 2)]

    async def both_received() -> bool:
        return sum(1 for r in withheld if r and r.type == "interaction.queued") == 2

    await eventually(both_received, "the follower receiving both contacts")
    acd.on_events = real_on_events  # type: ignore[method-assign]
    return ids, withheld


def _spy_on_writes(acd: AcdService, *, fail_first: bool = False) -> list[list[str]]:
    """The decision kinds of each write transaction of the ACD (the first fails if asked)."""
    real_write, writes = acd.write, []

    async def spied(router: TenantRouter, decisions: Sequence[Decision]) -> None:
        writes.append([type(decision).__name__ for decision in decisions])
        if fail_first and len(writes) == 1:
            raise RuntimeError("the batch's transaction failed")
        await real_write(router, decisions)

    acd.write = spied  # type: ignore[method-assign]
    return writes


async def test_contacts_that_arrive_together_are_offered_in_one_transaction(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    for name in ("alice", "bob"):
        await go_available(api, center, name)
    (first, second), withheld = await _two_contacts_withheld_from_the_acd(api, center, clock)
    writes = _spy_on_writes(acd_of(api))
    await acd_of(api).on_events(withheld)
    assert writes == [["OfferCreated", "OfferCreated"]]
    await _both_offered(api, center, first, second)


async def test_a_failed_batch_is_written_again_one_input_at_a_time(
        api: Api, center: dict[str, Any], clock: FixedClock,
        caplog: pytest.LogCaptureFixture) -> None:
    for name in ("alice", "bob"):
        await go_available(api, center, name)
    (first, second), withheld = await _two_contacts_withheld_from_the_acd(api, center, clock)
    writes = _spy_on_writes(acd_of(api), fail_first=True)
    await acd_of(api).on_events(withheld)
    assert [kinds for kinds in writes if kinds] == [
        ["OfferCreated", "OfferCreated"], ["OfferCreated"], ["OfferCreated"]]
    assert "ACD batch write failed; writing" in caplog.text
    await _both_offered(api, center, first, second)


async def _both_offered(api: Api, center: dict[str, Any], *contacts: str) -> None:
    for contact in contacts:
        assert (await interaction(api, center, contact))["state"] == "offered"


async def test_a_batch_that_fails_still_counts_as_followed(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    await go_available(api, center, "alice")
    _, withheld = await _two_contacts_withheld_from_the_acd(api, center, clock)
    queued = next(r for r in withheld if r and r.type == "interaction.queued")
    acd = acd_of(api)
    _spy_on_writes(acd, fail_first=True)
    with pytest.raises(RuntimeError, match="the batch's transaction failed"):
        await acd.on_events([queued])
    router = await acd.router(center["tenant_id"])
    assert router.seen_seq >= queued.seq  # requests waiting on the router are not held up


async def set_profile(api: Api, center: dict[str, Any], name: str,
                      profile: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Give the agent a routing profile (None: every queue again) through the API."""
    response = await api.client.patch(f"/api/v1/agents/{center['agents'][name]['id']}",
                                      headers=center["admin"], json={"routing_profile": profile})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_agent_serves_only_their_profiles_queues_and_a_delayed_one_late(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    admin = center["admin"]
    sales = await api.client.post("/api/v1/queues", headers=admin, json={
        "name": "sales", "channel": "chat", "skills": [{"skill": "english"}]})
    assert sales.status_code == 201, sales.text
    shop = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "api", "name": "shop", "default_queue": "sales"})
    alice = await set_profile(api, center, "alice", [
        {"queue": "support"}, {"queue": "sales", "priority": 2, "delay_seconds": 30}])
    assert alice["routing_profile"] == [
        {"queue": "support", "priority": 1, "delay_seconds": 0.0},
        {"queue": "sales", "priority": 2, "delay_seconds": 30.0}]
    await set_profile(api, center, "bob", [{"queue": "support"}])
    await go_available(api, center, "bob")
    await go_available(api, center, "alice")
    contact = await post_contact(api, {**center, "channel": shop.json()}, clock)
    await asyncio.sleep(0.3)
    assert (await interaction(api, center, contact))["state"] == "queued"  # bob: not his queue
    clock.advance(29)
    await asyncio.sleep(0.3)
    assert (await interaction(api, center, contact))["state"] == "queued"  # alice: 30 s delay
    clock.advance(2)
    await offered_to(api, center, contact, "alice")
    support_contact = await post_contact(api, center, clock, phone="+14155550199")
    await offered_to(api, center, support_contact, "bob")


async def test_without_a_profile_an_agent_serves_every_queue_again(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    await set_profile(api, center, "alice", [])
    await go_available(api, center, "alice")
    contact = await post_contact(api, center, clock)
    await asyncio.sleep(0.3)
    assert (await interaction(api, center, contact))["state"] == "queued"
    assert (await set_profile(api, center, "alice", None))["routing_profile"] is None
    await offered_to(api, center, contact, "alice")


@pytest.mark.parametrize(("profile", "field"), [
    ([{"queue": "nowhere"}], "routing_profile[0].queue"),
    ([{"queue": "support"}, {"queue": "support"}], "routing_profile"),
    ([{"queue": "support", "delay_seconds": -1}], "routing_profile.0.delay_seconds"),
    ([{"queue": "support", "priority": 0}], "routing_profile.0.priority"),
])
async def test_a_routing_profile_names_existing_queues_once_with_sane_numbers(
        api: Api, center: dict[str, Any], profile: list[dict[str, Any]], field: str) -> None:
    response = await api.client.patch(f"/api/v1/agents/{center['agents']['alice']['id']}",
                                      headers=center["admin"], json={"routing_profile": profile})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_a_renamed_queue_stays_in_the_profiles_and_overflows_that_name_it(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    admin = center["admin"]
    await set_profile(api, center, "alice", [{"queue": "support", "delay_seconds": 5}])
    await api.client.post("/api/v1/skills", headers=admin, json={"name": "german"})
    german = await api.client.post("/api/v1/queues", headers=admin, json={
        "name": "german-desk", "skills": [{"skill": "german", "min_proficiency": 3}],
        "escalation": [{"after_seconds": 30, "overflow_to": "support"}]})
    assert german.status_code == 201, german.text
    renamed = await api.client.patch(f"/api/v1/queues/{center['queue']}",
                                     headers=admin, json={"name": "help"})
    assert renamed.status_code == 200, renamed.text
    german_now = await api.client.get(f"/api/v1/queues/{german.json()['id']}", headers=admin)
    assert german_now.json()["escalation"][0]["overflow_to"] == "help"
    alice = await api.client.get(f"/api/v1/agents/{center['agents']['alice']['id']}",
                                 headers=center["admin"])
    assert alice.json()["routing_profile"] == [
        {"queue": "help", "priority": 1, "delay_seconds": 5.0}]
    await go_available(api, center, "alice")
    contact = await post_contact(api, center, clock)
    clock.advance(6)
    await offered_to(api, center, contact, "alice")


async def test_a_decision_never_writes_another_tenants_rows(
        api: Api, center: dict[str, Any], clock: FixedClock) -> None:
    contact = await post_contact(api, center, clock)  # queued: nobody is available
    other_tenant = await make_tenant(api.db, "globex", admin_email="admin@globex.example")
    offer = OfferCreated(clock.now().timestamp(), contact, center["agents"]["alice"]["id"],
                         center["queue"], "chat", clock.now().timestamp() + 20)
    async with api.db.write() as session:
        await apply_decision(session, other_tenant, offer)
    assert (await interaction(api, center, contact))["state"] == "queued"
    assert "offer.created" not in await event_types(api, center, contact)
