"""Transfers and callbacks with real peers on loopback: SIPp as the agents' phones (one of
them sending REFER), SIPp as a SIP trunk (challenging with 407), SIPp as the caller."""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import select

from omnidesk.channels.models import Channel
from omnidesk.channels.voice.service import CallLeg
from omnidesk.customers.actions import find_or_create
from omnidesk.customers.schemas import IdentityIn
from omnidesk.interactions.actions import change_state, create_interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from tests.voice.conftest import (
    SCENARIOS,
    Phone,
    create_channel,
    free_port,
    sipp_binary,
)
from tests.voice.test_sipp_agent import agent_ready, finish, register

S = InteractionState
NUMBER = "4930555123"  # what the trunk scenario expects in the Request-URI and To
TRUNK_PASSWORD_ENV = "OMNIDESK_TEST_TRUNK_PASSWORD"


async def peer(phone: Phone, scenario: str, port: int, *args: str) -> asyncio.subprocess.Process:
    """SIPp as a UAS (a phone, a trunk) on `port`, echoing RTP."""
    return await asyncio.create_subprocess_exec(
        sipp_binary(), "-sf", str(SCENARIOS / scenario), "-m", "1", "-rtp_echo",
        "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1", "-mp", str(free_port()),
        "-timeout", "60s", "-timeout_error", "-trace_err", "-trace_msg", "-error_file",
        str(phone.workdir / f"{scenario}.{port}.errors.log"), "-message_file",
        str(phone.workdir / f"{scenario}.{port}.messages.log"), *args, cwd=phone.workdir,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)


def logs(phone: Phone, scenario: str, port: int) -> str:
    """A peer's SIPp logs, for assertion messages."""
    texts = []
    for suffix in ("errors", "messages"):
        path = phone.workdir / f"{scenario}.{port}.{suffix}.log"
        if path.exists():
            texts.append(path.read_text(errors="replace")[-6000:])
    return "\n".join(texts)


def check_proxy_digest(phone: Phone, trunk_port: int) -> None:
    """The second INVITE the trunk got answers its 407 right (RFC 2617, computed here)."""
    log = (phone.workdir / f"trunk.xml.{trunk_port}.messages.log").read_text()
    line = next(line for line in log.splitlines() if line.startswith("Proxy-Authorization:"))
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', line.split("Digest", 1)[1]))
    assert params["username"] == "omni" and params["realm"] == "trunk.example"
    assert params["uri"].startswith(f"sip:{NUMBER}@") and params["qop"] == "auth"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    expected = md5(":".join([md5("omni:trunk.example:trunk-pass"), params["nonce"],
                             params["nc"], params["cnonce"], "auth",
                             md5(f"INVITE:{params['uri']}")]))
    assert params["response"] == expected


async def trunk_channel(phone: Phone, trunk_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Voice channel 400 with the SIPp trunk as its trunk (digest user omni)."""
    monkeypatch.setenv(TRUNK_PASSWORD_ENV, "trunk-pass")
    await create_channel(phone, kind="voice", name="d-trunk-line", default_queue="support",
                         settings={"numbers": ["400"], "announce_seconds": 0, "trunk": {
                             "host": "127.0.0.1", "port": trunk_port, "transport": "udp",
                             "username": "omni", "password_env": TRUNK_PASSWORD_ENV,
                             "from_number": "+49 30 400", "ring_seconds": 20}})


async def live_leg(phone: Phone) -> CallLeg:
    """The one live call."""
    async with asyncio.timeout(20):
        while True:
            if phone.voice.legs:
                break
            await asyncio.sleep(0.05)
    (leg,) = phone.voice.legs.values()
    return leg


def types_of(events: list[Any]) -> list[str]:
    """Event types, in order."""
    return [event.type for event in events]


async def test_a_refer_to_another_extension_bridges_the_caller_to_that_agent(
        phone: Phone) -> None:
    await agent_ready(phone)
    ana_port, bea_port = free_port(), free_port()
    assert await asyncio.to_thread(register, phone.voice.port, ana_port, "201") == 200
    assert await asyncio.to_thread(register, phone.voice.port, bea_port, "202") == 200
    ana_phone = await peer(phone, "refer_phone.xml", ana_port, "-key", "target", "202",
                           "-d", "3000")
    bea_phone = await peer(phone, "agent_phone.xml", bea_port)
    caller = asyncio.create_task(phone.sipp("call_audio.xml", "-s", "300", "-d", "9000"))
    await phone.wait_for_event("call.bridged", 30)
    # the REFER's target
    bea_id, _ = await phone.api.ready_agent(phone.admin, "bea@acme.example", "Bea")
    await phone.wait_for_event("call.bridged", 40, count=2)
    result = await caller
    assert result.returncode == 0, phone.explain("call_audio.xml")
    assert await finish(ana_phone) == 0, logs(phone, "refer_phone.xml", ana_port)
    assert await finish(bea_phone) == 0, logs(phone, "agent_phone.xml", bea_port)

    ended = await phone.wait_for_event("call.ended", 20)
    (interaction,) = await phone.interactions()
    assert interaction.state is S.WRAP_UP and str(interaction.agent_id) == bea_id
    events = await phone.events(str(interaction.id))
    types = types_of(events)
    transferred = events[types.index("interaction.transferred")]
    assert transferred.payload["to_agent_id"] == bea_id
    assert transferred.actor.startswith("user:")  # Ana, who pressed transfer on her phone
    second_bridge = len(types) - 1 - types[::-1].index("call.bridged")
    assert types.index("call.bridged") < types.index("interaction.transferred") \
        < second_bridge < types.index("call.ended")
    assert events[second_bridge].payload["agent_id"] == bea_id
    assert events[second_bridge].payload["extension"] == "202"
    assert ended.payload["agent_rtp_received"] > 0  # Bea's phone echoed the caller


async def test_an_api_transfer_to_a_queue_puts_the_caller_back_on_hold_music(
        phone: Phone) -> None:
    agent_id = await agent_ready(phone)
    ana = await phone.api.login("acme", "ana@acme.example")
    ana_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, ana_port, "201") == 200
    ana_phone = await peer(phone, "agent_phone.xml", ana_port)
    caller = asyncio.create_task(phone.sipp("call_audio.xml", "-s", "300", "-d", "6000"))
    bridged = await phone.wait_for_event("call.bridged", 30)
    queues = (await phone.api.client.get("/api/v1/queues", headers=ana)).json()
    sales = next(q["id"] for q in (queues["items"] if isinstance(queues, dict) else queues)
                 if q["name"] == "sales")
    on_break = await phone.api.client.put(f"/api/v1/agents/{agent_id}/state", headers=ana,
                                          json={"state": "break"})
    assert on_break.status_code == 200, on_break.text  # so that the queue does not offer it back
    response = await phone.api.client.post(
        f"/api/v1/interactions/{bridged.subject}/transfer", headers=ana,
        json={"queue_id": sales})
    assert response.status_code == 200, response.text
    assert await finish(ana_phone) == 0, logs(phone, "agent_phone.xml", ana_port)  # our BYE
    leg = await live_leg(phone)
    media = leg.call.media
    assert media is not None and media.forward_to is None and media.background
    assert leg.agent_call is None and not leg.bridged
    result = await caller
    assert result.returncode == 0, phone.explain("call_audio.xml")
    await phone.wait_for_event("call.ended", 20)
    (interaction,) = await phone.interactions()
    assert interaction.state is S.ABANDONED and str(interaction.queue_id) == sales
    types = types_of(await phone.events(bridged.subject))
    assert types.index("interaction.transferred") < types.index("call.ended")


async def test_a_refer_to_a_number_goes_out_through_the_trunk_with_digest(
        phone: Phone, monkeypatch: pytest.MonkeyPatch) -> None:
    await agent_ready(phone)
    trunk_port, ana_port = free_port(), free_port()
    await trunk_channel(phone, trunk_port, monkeypatch)
    assert await asyncio.to_thread(register, phone.voice.port, ana_port, "201") == 200
    ana_phone = await peer(phone, "refer_phone.xml", ana_port, "-key", "target", NUMBER,
                           "-d", "1500")
    trunk = await peer(phone, "trunk.xml", trunk_port)
    caller = asyncio.create_task(phone.sipp("call_audio.xml", "-s", "400", "-d", "8000"))
    transferred = await phone.wait_for_event("call.transferred", 40)
    assert transferred.payload["to_number"] == NUMBER
    leg = await live_leg(phone)
    async with asyncio.timeout(20):  # the caller is bridged to the trunk, audio both ways
        while True:
            external = leg.transfers.external
            if external is not None and external.media is not None \
                    and leg.call.media is not None \
                    and leg.call.media.forward_to is external.media \
                    and external.media.stats.received > 20:
                break
            await asyncio.sleep(0.1)
    result = await caller
    assert result.returncode == 0, phone.explain("call_audio.xml")
    assert await finish(ana_phone) == 0, logs(phone, "refer_phone.xml", ana_port)
    assert await finish(trunk) == 0, logs(phone, "trunk.xml", trunk_port)
    check_proxy_digest(phone, trunk_port)
    await phone.wait_for_event("call.ended", 20)
    (interaction,) = await phone.interactions()
    assert interaction.state is S.WRAP_UP


async def test_refers_to_unknown_targets_and_unknown_replaced_dialogs_are_refused(
        phone: Phone) -> None:
    await agent_ready(phone)
    ana_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, ana_port, "201") == 200
    ana_phone = await peer(phone, "refer_rejected.xml", ana_port)
    result = await phone.sipp("call_audio.xml", "-s", "300", "-d", "3000")
    assert result.returncode == 0, phone.explain("call_audio.xml")
    assert await finish(ana_phone) == 0, logs(phone, "refer_rejected.xml", ana_port)
    await phone.wait_for_event("call.ended", 20)
    (interaction,) = await phone.interactions()
    assert "interaction.transferred" not in types_of(await phone.events(str(interaction.id)))


async def _callback(phone: Phone) -> str:
    """A voice callback to NUMBER, scheduled in support on channel 400 (as the IVR does)."""
    async with phone.api.db.write() as session:
        channel = await session.scalar(select(Channel).where(Channel.name == "d-trunk-line"))
        assert channel is not None
        queue_id = await session.scalar(select(Queue.id).where(Queue.name == "support"))
        customer = await find_or_create(session, tenant_id=channel.tenant_id,
                                        display_name="Carla", identity=IdentityIn(
                                            kind="phone", value="+" + NUMBER), actor="test")
        interaction = await create_interaction(
            session, tenant_id=channel.tenant_id, channel="voice", channel_id=channel.id,
            customer_id=customer.id, actor="test",
            attributes={"flow": {"callback_number": NUMBER}})
        await change_state(session, interaction, StateChange(state=S.QUEUED,
                                                             queue_id=queue_id), actor="test")
        await change_state(session, interaction, StateChange(state=S.CALLBACK_SCHEDULED),
                           actor="test")
        return str(interaction.id)


async def test_an_accepted_callback_rings_the_agent_then_dials_the_customer(
        phone: Phone, monkeypatch: pytest.MonkeyPatch) -> None:
    trunk_port, ana_port = free_port(), free_port()
    await trunk_channel(phone, trunk_port, monkeypatch)
    interaction_id = await _callback(phone)
    trunk = await peer(phone, "trunk.xml", trunk_port)
    ana_phone = await peer(phone, "agent_hangup.xml", ana_port)
    assert await asyncio.to_thread(register, phone.voice.port, ana_port, "201") == 200
    await agent_ready(phone)  # the router offers the callback to Ana now
    ended = await phone.wait_for_event("call.ended", 40)
    assert await finish(ana_phone) == 0, logs(phone, "agent_hangup.xml", ana_port)
    assert await finish(trunk) == 0, logs(phone, "trunk.xml", trunk_port)
    types = types_of(await phone.events(interaction_id))
    assert types.index("offer.created") < types.index("offer.accepted") \
        < types.index("call.dialled") < types.index("call.bridged") < types.index("call.ended")
    assert ended.payload["reason"] == "agent_bye" and ended.payload["to"] == NUMBER
    assert ended.payload["rtp_received"] > 0  # the customer's side (the trunk echoed)
    (interaction,) = await phone.interactions()
    assert interaction.state is S.WRAP_UP


async def test_a_callback_nobody_answers_ends_the_interaction(
        phone: Phone, monkeypatch: pytest.MonkeyPatch) -> None:
    trunk_port, ana_port = free_port(), free_port()
    await trunk_channel(phone, trunk_port, monkeypatch)
    interaction_id = await _callback(phone)
    trunk = await peer(phone, "agent_busy.xml", trunk_port)  # 486 to the INVITE
    ana_phone = await peer(phone, "agent_phone.xml", ana_port)
    assert await asyncio.to_thread(register, phone.voice.port, ana_port, "201") == 200
    await agent_ready(phone)
    failed = await phone.wait_for_event("call.callback_failed", 40)
    assert failed.subject == interaction_id
    assert failed.payload == {"to": NUMBER, "status": 486, "reason": "busy"}
    assert await finish(ana_phone) == 0, logs(phone, "agent_phone.xml", ana_port)
    assert await finish(trunk) == 0, logs(phone, "agent_busy.xml", trunk_port)
    (interaction,) = await phone.interactions()
    assert interaction.state is S.CLOSED
