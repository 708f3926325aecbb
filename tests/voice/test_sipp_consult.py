"""Consults and attended transfers end to end: SIPp calls in (its media an RTP peer of this
test sending 400 Hz and keeping what it hears), Ana's phone (extension 201) and Bea's phone
(202) are SIPp UASs with RTP peers sending 1050 Hz and 1750 Hz. Through the API Ana
consults Bea and completes the transfer, makes a conference (everyone hears the two others)
and leaves it, or cancels; and Ana's phone does an attended transfer itself (hold, a call
to 202 through us, REFER with Replaces) — that phone is a small SIP UA written here."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from omnidesk.channels.voice.sip.message import NameAddr, Request, Response, parse
from omnidesk.events.models import Event
from omnidesk.interactions.states import InteractionState
from tests.voice.conftest import SCENARIOS, Phone, free_port, sipp_binary
from tests.voice.test_sipp_agent import agent_ready, finish, register
from tests.voice.test_sipp_monitor import HEARD, SILENT, WINDOW, RtpPeer, level
from tests.voice.test_sipp_transfer import (
    NUMBER,
    check_proxy_digest,
    logs,
    peer,
    trunk_channel,
)

S = InteractionState
TONES = {"caller": 400.0, "ana": 1050.0, "bea": 1750.0}
SIPP_SECONDS = "120s"


def heard(packets: list[bytes]) -> set[str]:
    """Whose tones are in a stretch of received audio."""
    pcm = b"".join(packets)
    levels = {name: level(pcm, frequency) for name, frequency in TONES.items()}
    assert all(value > HEARD or value < SILENT for value in levels.values()), levels
    return {name for name, value in levels.items() if value > HEARD}


async def hears(peer: RtpPeer, expected: set[str], seconds: float = 15) -> None:
    """Wait until the peer hears exactly `expected` (changes go through the buffers and the
    events are recorded a little after the media moved: no fixed sleep)."""
    found: set[str] = set()
    async with asyncio.timeout(seconds):
        while True:
            packets = await peer.next_packets(WINDOW)
            pcm = b"".join(packets)
            levels = {name: level(pcm, frequency) for name, frequency in TONES.items()}
            if all(value > HEARD or value < SILENT for value in levels.values()):
                found = {name for name, value in levels.items() if value > HEARD}
                if found == expected:
                    break
    assert heard(await peer.next_packets(WINDOW)) == expected  # and stays so


@dataclass
class Sipp:
    """A SIPp process (a phone or the caller) and our RTP peer (its media)."""

    process: asyncio.subprocess.Process
    peer: RtpPeer
    name: str

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self.peer.close()


async def sipp_with_peer(phone: Phone, name: str, scenario: str, frequency: float,
                         *args: str) -> Sipp:
    peer = RtpPeer(frequency)
    await peer.open()
    process = await asyncio.create_subprocess_exec(
        sipp_binary(), "-sf", str(SCENARIOS / scenario), "-m", "1",
        "-set", "rtp_host", "127.0.0.1", "-set", "rtp_port", str(peer.port),
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(free_port()),
        "-timeout", SIPP_SECONDS, "-timeout_error", "-trace_err", "-trace_msg",
        "-message_file", str(phone.workdir / f"{name}.messages.log"),
        "-error_file", str(phone.workdir / f"{name}.errors.log"), *args, cwd=phone.workdir,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    return Sipp(process, peer, name)


async def phone_of(phone: Phone, name: str, extension: str, frequency: float) -> Sipp:
    """A registered SIPp phone answering with the test's RTP peer."""
    port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, port, extension) == 200
    return await sipp_with_peer(phone, name, "peer_phone.xml", frequency, "-p", str(port))


async def caller_of(phone: Phone, number: str = "300") -> Sipp:
    """The caller (channel 300, no IVR) with the test's RTP peer."""
    return await sipp_with_peer(phone, "caller", "call_peer.xml", TONES["caller"],
                                "-s", number, "-p", str(free_port()),
                                f"127.0.0.1:{phone.voice.port}")


async def ended_cleanly(phone: Phone, sipp: Sipp) -> None:
    errors = phone.workdir / f"{sipp.name}.errors.log"
    messages = phone.workdir / f"{sipp.name}.messages.log"
    assert await finish(sipp.process) == 0, \
        (errors.read_text() if errors.exists() else "") + \
        (messages.read_text()[-4000:] if messages.exists() else "")


async def event(phone: Phone, type_: str, seconds: float = 20,
                where: Callable[[Event], bool] = lambda _: True) -> Event:
    """The first event of a type (matching `where`), once it is in the log."""
    async with asyncio.timeout(seconds):
        while True:
            found = [e for e in await phone.events() if e.type == type_ and where(e)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)


@dataclass
class Call:
    """Ana, Bea, the caller, and the interaction bridged to Ana."""

    ana: Sipp
    bea: Sipp
    caller: Sipp
    interaction: str
    ana_headers: dict[str, str]
    bea_id: str
    others: list[Sipp] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/api/v1/interactions/{self.interaction}/consult"

    async def close(self) -> None:
        for sipp in (self.ana, self.bea, self.caller, *self.others):
            await sipp.close()


@contextlib.asynccontextmanager
async def bridged_call(phone: Phone):  # type: ignore[no-untyped-def]
    """A caller bridged to Ana's phone; Bea available with her phone registered."""
    await agent_ready(phone)
    ana_headers = await phone.api.login("acme", "ana@acme.example")
    ana = await phone_of(phone, "ana", "201", TONES["ana"])
    caller = await caller_of(phone)
    call: Call | None = None
    try:
        interaction = (await event(phone, "call.bridged")).subject
        # not offered the call
        bea_id, _ = await phone.api.ready_agent(phone.admin, "bea@acme.example", "Bea")
        bea = await phone_of(phone, "bea", "202", TONES["bea"])
        call = Call(ana, bea, caller, interaction, ana_headers, bea_id)
        await hears(ana.peer, {"caller"})
        await hears(caller.peer, {"ana"})
        yield call
    finally:
        if call is not None:
            await call.close()
        else:
            await ana.close()
            await caller.close()


async def consult_bea(phone: Phone, call: Call) -> None:
    response = await phone.api.client.post(call.url, headers=call.ana_headers,
                                           json={"agent_id": call.bea_id})
    assert response.status_code == 202, response.text
    assert response.json() | {"state": "?"} == {
        "interaction_id": call.interaction, "state": "?", "agent_id": call.bea_id,
        "number": None, "extension": "202"}
    await event(phone, "call.consult_answered")
    await hears(call.bea.peer, {"ana"})
    await hears(call.ana.peer, {"bea"})


async def interaction_row(phone: Phone, interaction: str) -> tuple[InteractionState, str]:
    (row,) = [i for i in await phone.interactions() if str(i.id) == interaction]
    return row.state, str(row.agent_id)


async def story(phone: Phone, interaction: str) -> list[str]:
    return [e.type for e in await phone.events(interaction)
            if e.type.startswith(("call.", "interaction.transferred", "offer."))]


async def test_consult_then_complete_hands_the_caller_to_the_consulted_agent(
        phone: Phone) -> None:
    async with bridged_call(phone) as call:
        await consult_bea(phone, call)
        state, _ = await interaction_row(phone, call.interaction)
        assert state is S.ON_HOLD  # the caller hears hold music meanwhile

        done = await phone.api.client.post(f"{call.url}/complete", headers=call.ana_headers)
        assert done.status_code == 200, done.text
        await ended_cleanly(phone, call.ana)  # our BYE to Ana's phone
        bridged = await event(phone, "call.bridged",
                              where=lambda e: e.payload["agent_id"] == call.bea_id)
        assert bridged.payload["extension"] == "202"
        await hears(call.bea.peer, {"caller"})
        await hears(call.caller.peer, {"bea"})
        assert await interaction_row(phone, call.interaction) == (S.CONNECTED, call.bea_id)

        again = await phone.api.client.post(f"{call.url}/complete", headers=call.ana_headers)
        assert again.status_code == 403, again.text  # no longer Ana's
        phone.voice.legs[uuid.UUID(call.interaction)].call.hangup()
        await ended_cleanly(phone, call.caller)
        await ended_cleanly(phone, call.bea)
    await phone.wait_for_event("call.ended")
    types = await story(phone, call.interaction)
    consulting = types[types.index("call.consult_started"):]
    assert consulting[:3] == ["call.consult_started", "call.consult_answered",
                              "interaction.transferred"]
    assert sorted(consulting[3:-1]) == sorted(["offer.created", "call.consult_completed",
                                               "offer.accepted", "call.bridged"])
    assert consulting[-1] == "call.ended"
    assert consulting.index("offer.accepted") < consulting.index("call.bridged")
    completed = await event(phone, "call.consult_completed")
    assert completed.payload["agent_id"] == call.bea_id and not completed.payload["conference"]
    assert completed.actor.startswith("user:") and completed.payload["via"] == "api"


async def test_a_conference_lets_everyone_hear_the_two_others_then_the_agent_leaves(
        phone: Phone) -> None:
    async with bridged_call(phone) as call:
        await consult_bea(phone, call)
        three = await phone.api.client.post(f"{call.url}/conference", headers=call.ana_headers)
        assert three.status_code == 200 and three.json()["state"] == "conference", three.text
        await hears(call.caller.peer, {"ana", "bea"})
        await hears(call.ana.peer, {"caller", "bea"})
        await hears(call.bea.peer, {"caller", "ana"})
        state, _ = await interaction_row(phone, call.interaction)
        assert state is S.CONNECTED

        left = await phone.api.client.post(f"{call.url}/complete", headers=call.ana_headers)
        assert left.status_code == 200, left.text
        await ended_cleanly(phone, call.ana)
        await hears(call.caller.peer, {"bea"})
        await hears(call.bea.peer, {"caller"})
        await event(phone, "call.bridged", where=lambda e: e.payload["agent_id"] == call.bea_id)
        assert await interaction_row(phone, call.interaction) == (S.CONNECTED, call.bea_id)
        phone.voice.legs[uuid.UUID(call.interaction)].call.hangup()
        await ended_cleanly(phone, call.caller)
        await ended_cleanly(phone, call.bea)
    await phone.wait_for_event("call.ended")
    types = await story(phone, call.interaction)
    assert types.index("call.consult_answered") < types.index("call.conference_started") \
        < types.index("interaction.transferred") < types.index("call.consult_completed")
    completed = await event(phone, "call.consult_completed")
    assert completed.payload["conference"] is True


async def test_a_cancelled_consult_brings_the_caller_back_to_the_agent(phone: Phone) -> None:
    async with bridged_call(phone) as call:
        api = phone.api.client
        nothing = await api.delete(call.url, headers=call.ana_headers)
        assert nothing.status_code == 409 and nothing.json()["error"]["field"] == "state"
        both = await api.post(call.url, headers=call.ana_headers,
                              json={"agent_id": call.bea_id, "number": "+4930555123"})
        assert both.status_code == 422 and both.json()["error"]["field"] == "number"
        no_trunk = await api.post(call.url, headers=call.ana_headers,
                                  json={"number": "+4930555123"})
        assert no_trunk.status_code == 409 and no_trunk.json()["error"]["field"] == "number"
        bea_headers = await phone.api.login("acme", "bea@acme.example")
        not_hers = await api.post(call.url, headers=bea_headers, json={"agent_id": call.bea_id})
        assert not_hers.status_code == 403, not_hers.text

        await consult_bea(phone, call)
        busy = await api.post(call.url, headers=call.ana_headers, json={"agent_id": call.bea_id})
        assert busy.status_code == 409 and busy.json()["error"]["field"] == "state"
        cancelled = await api.delete(call.url, headers=call.ana_headers)
        assert cancelled.status_code == 204, cancelled.text
        await ended_cleanly(phone, call.bea)  # our BYE to Bea's phone
        await hears(call.ana.peer, {"caller"})
        await hears(call.caller.peer, {"ana"})
        state, agent = await interaction_row(phone, call.interaction)
        assert state is S.CONNECTED and agent != call.bea_id
        phone.voice.legs[uuid.UUID(call.interaction)].call.hangup()
        await ended_cleanly(phone, call.caller)
        await ended_cleanly(phone, call.ana)
    await phone.wait_for_event("call.ended")
    types = await story(phone, call.interaction)
    assert "interaction.transferred" not in types
    cancelled_event = await event(phone, "call.consult_cancelled")
    assert cancelled_event.payload["reason"] == "cancelled"
    assert types.index("call.consult_cancelled") < types.index("call.ended")


async def test_a_consulted_number_takes_the_call_when_the_agent_hangs_up(
        phone: Phone, monkeypatch: pytest.MonkeyPatch) -> None:
    await agent_ready(phone)
    trunk_port = free_port()
    await trunk_channel(phone, trunk_port, monkeypatch)
    ana_headers = await phone.api.login("acme", "ana@acme.example")
    ana = await phone_of(phone, "ana", "201", TONES["ana"])
    trunk = await peer(phone, "trunk.xml", trunk_port)  # echoes what it hears
    caller = await caller_of(phone, "400")
    try:
        interaction = (await event(phone, "call.bridged")).subject
        await hears(ana.peer, {"caller"})
        url = f"/api/v1/interactions/{interaction}/consult"
        bad = await phone.api.client.post(url, headers=ana_headers, json={"number": "12"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "number"
        started = await phone.api.client.post(url, headers=ana_headers, json={"number": NUMBER})
        assert started.status_code == 202, started.text
        assert started.json()["number"] == NUMBER and started.json()["agent_id"] is None
        await event(phone, "call.consult_answered")
        await hears(ana.peer, {"ana"})  # the far end (an echo) talks with Ana only

        leg = phone.voice.legs[uuid.UUID(interaction)]
        assert leg.agent_call is not None
        leg.agent_call.hangup()  # Ana hangs up: the number takes the call
        await ended_cleanly(phone, ana)
        transferred = await event(phone, "call.transferred")
        assert transferred.payload["to_number"] == NUMBER
        await hears(caller.peer, {"caller"})  # its own voice, echoed by the far end
        completed = await event(phone, "call.consult_completed")
        assert completed.payload["agent_left"] is True
        state, _ = await interaction_row(phone, interaction)
        assert state is S.WRAP_UP
        leg.call.hangup()
        await ended_cleanly(phone, caller)
        assert await finish(trunk) == 0, logs(phone, "trunk.xml", trunk_port)
        check_proxy_digest(phone, trunk_port)
    finally:
        await ana.close()
        await caller.close()
        if trunk.returncode is None:
            trunk.kill()
            await trunk.wait()


# ---- the phone's own attended transfer ----------------------------------------------------


class SipPhone(asyncio.DatagramProtocol):
    """Ana's phone, the SIP way (RFC 5589): answers our INVITE, holds the caller by
    re-INVITE, calls extension 202 through us, and REFERs the caller there with Replaces.
    Answers every NOTIFY / BYE it gets with 200 and keeps them."""

    def __init__(self, service: tuple[str, int]) -> None:
        self.service = service
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.inbox: asyncio.Queue[Request | Response] = asyncio.Queue()
        self.notifies: list[Request] = []
        self.byes: list[Request] = []
        self.changed = asyncio.Event()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        assert self.transport is not None
        self.port = int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        message = parse(data)
        if isinstance(message, Request) and message.method in ("NOTIFY", "BYE"):
            self.send(self.reply(message, 200))
            bucket = self.notifies if message.method == "NOTIFY" else self.byes
            if not any(m.headers.get("CSeq") == message.headers.get("CSeq")
                       and m.call_id == message.call_id for m in bucket):
                bucket.append(message)
            self.changed.set()
            return
        self.inbox.put_nowait(message)

    def send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.sendto(text.encode(), self.service)

    def reply(self, request: Request, status: int, *, tag: str = "", body: str = "") -> str:
        to = request.headers.get("To") or ""
        if tag and ";tag=" not in to:
            to += f";tag={tag}"
        lines = [f"SIP/2.0 {status} {'OK' if status == 200 else 'Whatever'}",
                 *[f"Via: {via}" for via in request.headers.get_all("Via")],
                 f"From: {request.headers.get('From')}", f"To: {to}",
                 f"Call-ID: {request.call_id}", f"CSeq: {request.headers.get('CSeq')}",
                 f"Contact: <sip:201@127.0.0.1:{self.port}>"]
        return self.message(lines, body)

    @staticmethod
    def message(lines: list[str], body: str = "") -> str:
        if body:
            lines.append("Content-Type: application/sdp")
        return "\r\n".join([*lines, f"Content-Length: {len(body)}", "", body])

    def sdp(self, rtp_port: int, direction: str = "sendrecv") -> str:
        return ("v=0\r\no=ana 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n")

    def request(self, method: str, uri: str, *, from_: str, to: str, call_id: str, cseq: int,
                extra: tuple[str, ...] = (), body: str = "") -> str:
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex}",
                 f"From: {from_}", f"To: {to}", f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}", f"Contact: <sip:201@127.0.0.1:{self.port}>",
                 "Max-Forwards: 70", *extra]
        return self.message(lines, body)

    async def next(self, want: Callable[[Request | Response], bool],
                   seconds: float = 20) -> Request | Response:
        async with asyncio.timeout(seconds):
            while True:
                message = await self.inbox.get()
                if want(message):
                    return message

    async def final(self, method: str, call_id: str) -> Response:
        found = await self.next(lambda m: isinstance(m, Response) and m.status >= 200
                                and m.call_id == call_id and method in (m.headers.get("CSeq")
                                                                        or ""))
        assert isinstance(found, Response)
        return found

    async def notified(self, call_id: str, count: int) -> list[str]:
        """The sipfrag status lines of the first `count` NOTIFYs in a dialog."""
        async with asyncio.timeout(20):
            while len([n for n in self.notifies if n.call_id == call_id]) < count:
                self.changed.clear()
                await self.changed.wait()
        return [n.body.decode().split("\r\n")[0] for n in self.notifies
                if n.call_id == call_id][:count]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def test_the_agents_phone_does_an_attended_transfer_with_refer_replaces(
        phone: Phone) -> None:
    await agent_ready(phone)
    ana = SipPhone(("127.0.0.1", phone.voice.port))
    await ana.open()
    ana_media, ana_consult_media = RtpPeer(TONES["ana"]), RtpPeer(TONES["ana"])
    await ana_media.open()
    await ana_consult_media.open()
    assert await asyncio.to_thread(register, phone.voice.port, ana.port, "201") == 200
    caller = await caller_of(phone)
    bea: Sipp | None = None
    try:
        # Our INVITE rings Ana's phone: answered.
        invite = await ana.next(lambda m: isinstance(m, Request) and m.method == "INVITE")
        assert isinstance(invite, Request)
        ana.send(ana.reply(invite, 200, tag="ana1", body=ana.sdp(ana_media.port)))
        await ana.next(lambda m: isinstance(m, Request) and m.method == "ACK")
        interaction = (await event(phone, "call.bridged")).subject
        bea_id, _ = await phone.api.ready_agent(phone.admin, "bea@acme.example", "Bea")
        bea = await phone_of(phone, "bea", "202", TONES["bea"])
        await hears(ana_media, {"caller"})
        ours = NameAddr.parse(invite.headers.get("From") or "")
        contact = NameAddr.parse(invite.headers.get("Contact") or "").uri
        me = f"{invite.headers.get('To')};tag=ana1"
        dialog = {"from_": me, "to": str(ours), "call_id": invite.call_id}

        # Hold (re-INVITE sendonly): the caller hears music, the interaction is held.
        ana.send(ana.request("INVITE", contact, cseq=1, **dialog,
                             body=ana.sdp(ana_media.port, "sendonly")))
        assert (await ana.final("INVITE", invite.call_id)).status == 200
        ana.send(ana.request("ACK", contact, cseq=1, **dialog))
        await event(phone, "interaction.held")

        # A REFER naming a dialog that does not exist: 202, NOTIFY 100, NOTIFY 481.
        bogus = "<sip:202@127.0.0.1?Replaces=nothing%40here%3Bto-tag%3D1%3Bfrom-tag%3D2>"
        ana.send(ana.request("REFER", contact, cseq=2, **dialog,
                             extra=(f"Refer-To: {bogus}",)))
        assert (await ana.final("REFER", invite.call_id)).status == 202
        assert await ana.notified(invite.call_id, 2) == ["SIP/2.0 100 Trying",
                                                          "SIP/2.0 481 Call/Transaction "
                                                          "Does Not Exist"]

        # Ana's phone calls 202 through us: Bea's phone rings, answers, they talk.
        consult_id = f"consult-{uuid.uuid4().hex}@127.0.0.1"
        to_bea = "<sip:202@127.0.0.1>"
        ana.send(ana.request("INVITE", f"sip:202@127.0.0.1:{phone.voice.port}",
                             from_="<sip:201@127.0.0.1>;tag=ana2", to=to_bea,
                             call_id=consult_id, cseq=1, body=ana.sdp(ana_consult_media.port)))
        answer = await ana.final("INVITE", consult_id)
        assert answer.status == 200
        our_tag = NameAddr.parse(answer.headers.get("To") or "").tag
        ana.send(ana.request("ACK", NameAddr.parse(answer.headers.get("Contact") or "").uri,
                             from_="<sip:201@127.0.0.1>;tag=ana2",
                             to=answer.headers.get("To") or "", call_id=consult_id, cseq=1))
        await hears(bea.peer, {"ana"})
        await hears(ana_consult_media, {"bea"})

        # REFER with Replaces on the caller's dialog (RFC 5589 §7): the caller goes to Bea.
        replaces = f"{consult_id}%3Bto-tag%3D{our_tag}%3Bfrom-tag%3Dana2".replace("@", "%40")
        ana.send(ana.request("REFER", contact, cseq=3, **dialog, extra=(
            f"Refer-To: <sip:202@127.0.0.1?Replaces={replaces}>",
            "Referred-By: <sip:201@127.0.0.1>")))
        assert (await ana.final("REFER", invite.call_id)).status == 202
        assert (await ana.notified(invite.call_id, 4))[2:] == ["SIP/2.0 100 Trying",
                                                                "SIP/2.0 200 OK"]
        async with asyncio.timeout(20):  # our BYE of the phone's call to 202
            while not any(bye.call_id == consult_id for bye in ana.byes):
                ana.changed.clear()
                await ana.changed.wait()
        ana.send(ana.request("BYE", contact, cseq=4, **dialog))  # the phone hangs up
        assert (await ana.final("BYE", invite.call_id)).status == 200

        await hears(bea.peer, {"caller"})
        await hears(caller.peer, {"bea"})
        assert await interaction_row(phone, interaction) == (S.CONNECTED, bea_id)
        bridged = await event(phone, "call.bridged",
                              where=lambda e: e.payload["agent_id"] == bea_id)
        assert bridged.payload["extension"] == "202"
        completed = await event(phone, "call.consult_completed")
        assert completed.payload["via"] == "refer"
        transferred = await event(phone, "interaction.transferred")
        assert transferred.actor.startswith("user:")
        phone.voice.legs[uuid.UUID(interaction)].call.hangup()
        await ended_cleanly(phone, caller)
        await ended_cleanly(phone, bea)
    finally:
        ana.close()
        await ana_media.close()
        await ana_consult_media.close()
        await caller.close()
        if bea is not None:
            await bea.close()
