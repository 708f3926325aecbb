"""An agent's registered phone (SIPp as UAS, echoing what it hears) is rung when the ACD
offers a caller (SIPp) to the agent, the offer is accepted when the phone answers, and the
two legs are bridged: the caller's A-law audio reaches the agent's PCMU phone."""

from __future__ import annotations

import array
import asyncio
import socket
from pathlib import Path

from omnidesk.channels.voice.audio import read_wav
from omnidesk.channels.voice.digest import ha1, parse_auth_params, response_for
from omnidesk.channels.voice.g711 import PCMA, PCMU, decode_alaw, decode_ulaw, transcode
from omnidesk.channels.voice.sip.message import Response, parse
from omnidesk.clock import FixedClock
from omnidesk.interactions.states import InteractionState
from tests.voice.conftest import (
    EXTENSION_PASSWORD,
    SCENARIOS,
    Phone,
    create_channel,
    free_port,
    sipp_binary,
)
from tests.voice.test_sipp_calls import _correlation, _pcap_alaw_payloads

SENT_PCAP = Path("/usr/share/sip-tester/g711a.pcap")


def register(service_port: int, contact_port: int, extension: str = "201") -> int:
    """REGISTER an extension (201) with its contact at `contact_port`; the final status."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        authorization = ""
        for cseq in (1, 2):
            lines = [f"REGISTER sip:127.0.0.1:{service_port} SIP/2.0",
                     f"Via: SIP/2.0/UDP 127.0.0.1:{sock.getsockname()[1]};branch=z9hG4bK{cseq}r",
                     f"From: <sip:{extension}@127.0.0.1>;tag=reg",
                     f"To: <sip:{extension}@127.0.0.1>", f"Call-ID: register-{extension}",
                     f"CSeq: {cseq} REGISTER", "Max-Forwards: 70",
                     f"Contact: <sip:{extension}@127.0.0.1:{contact_port}>", "Expires: 300"]
            if authorization:
                lines.append(f"Authorization: {authorization}")
            sock.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(),
                        ("127.0.0.1", service_port))
            answer = parse(sock.recv(65535))
            assert isinstance(answer, Response)
            if answer.status != 401:
                return answer.status
            challenge = parse_auth_params(answer.headers.get("WWW-Authenticate") or "")
            params = {"username": extension, "realm": challenge["realm"],
                      "nonce": challenge["nonce"], "uri": f"sip:127.0.0.1:{service_port}",
                      "qop": "auth", "nc": "00000001", "cnonce": "c0ffee"}
            params["response"] = response_for(
                params, method="REGISTER",
                ha1_value=ha1(extension, challenge["realm"], EXTENSION_PASSWORD))
            authorization = "Digest " + ", ".join(f'{k}="{v}"' for k, v in params.items())
        return 401


async def agent_ready(phone: Phone) -> str:
    """Agent Ana (extension 201) available with her desktop open; channel 300 without IVR."""
    api, admin = phone.api, phone.admin
    await create_channel(phone, kind="voice", name="c-direct-line", default_queue="support",
                         settings={"numbers": ["300"], "record": True, "announce_seconds": 0})
    agent_id, _ = await api.ready_agent(admin, "ana@acme.example", "Ana")
    return agent_id


async def start_phone(phone: Phone, scenario: str, port: int) -> asyncio.subprocess.Process:
    """SIPp as the agent's phone (UAS) on `port`, echoing RTP."""
    return await asyncio.create_subprocess_exec(
        sipp_binary(), "-sf", str(SCENARIOS / scenario), "-m", "1", "-rtp_echo",
        "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1", "-mp", str(free_port()),
        "-timeout", "30s", "-timeout_error", "-trace_err", "-error_file",
        str(phone.workdir / f"{scenario}.errors.log"), cwd=phone.workdir,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)


async def finish(process: asyncio.subprocess.Process) -> int:
    """Wait for a SIPp run (killing it after 20 s); its exit code."""
    try:
        async with asyncio.timeout(20):
            await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode


async def test_the_agents_phone_is_rung_answers_and_is_bridged_to_the_caller(
        phone: Phone) -> None:
    agent_id = await agent_ready(phone)
    phone_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, phone_port) == 200
    agent_phone = await start_phone(phone, "agent_phone.xml", phone_port)
    result = await phone.sipp("call_audio.xml", "-s", "300", "-d", "3500")
    assert result.returncode == 0, phone.explain("call_audio.xml")
    errors = phone.workdir / "agent_phone.xml.errors.log"
    assert await finish(agent_phone) == 0, errors.read_text() if errors.exists() else ""

    ended = await phone.wait_for_event("call.ended")
    (interaction,) = await phone.interactions()
    assert interaction.state is InteractionState.WRAP_UP
    assert str(interaction.agent_id) == agent_id
    types = [e.type for e in await phone.events(str(interaction.id))]
    assert types.index("offer.created") < types.index("offer.accepted") \
        < types.index("call.bridged") < types.index("call.ended")
    assert ended.payload["reason"] == "remote_bye"

    # What the agent's phone heard (and echoed) is the caller's audio, transcoded A → µ.
    heard = array.array("h")
    heard.frombytes(read_wav(Path(ended.payload["recording"]).with_suffix(".agent.wav")))
    payload = _pcap_alaw_payloads(SENT_PCAP)
    expected = decode_ulaw(transcode(payload, PCMA, PCMU))
    snippet = heard[len(heard) // 2: len(heard) // 2 + 2000]
    assert len(snippet) == 2000, "the agent leg recorded too little"
    at = expected.find(snippet.tobytes())
    assert at >= 0 and at % 2 == 0, "the caller's audio did not reach the agent's phone"
    original = array.array("h")
    original.frombytes(decode_alaw(payload))
    assert _correlation(original[at // 2: at // 2 + 2000], snippet) > 0.99


async def test_a_busy_phone_declines_the_offer_and_the_caller_stays_queued(
        phone: Phone) -> None:
    agent_id = await agent_ready(phone)
    phone_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, phone_port) == 200
    agent_phone = await start_phone(phone, "agent_busy.xml", phone_port)
    result = await phone.sipp("call_audio.xml", "-s", "300", "-d", "500")
    assert result.returncode == 0, phone.explain("call_audio.xml")
    errors = phone.workdir / "agent_busy.xml.errors.log"
    assert await finish(agent_phone) == 0, errors.read_text() if errors.exists() else ""
    ended = await phone.wait_for_event("call.ended")
    assert ended.payload["reason"] == "remote_bye"
    (interaction,) = await phone.interactions()
    events = await phone.events(str(interaction.id))
    rejected = [e for e in events if e.type == "offer.rejected"]
    assert rejected and rejected[0].payload["agent_id"] == agent_id
    assert rejected[0].actor == "voice"
    assert "call.bridged" not in [e.type for e in events]
    assert interaction.state is InteractionState.ABANDONED


async def test_the_agents_phone_holds_and_resumes_the_caller(phone: Phone) -> None:
    await agent_ready(phone)
    phone_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, phone_port) == 200
    agent_phone = await start_phone(phone, "agent_hold.xml", phone_port)
    result = await phone.sipp("call_audio.xml", "-s", "300", "-d", "2500")
    assert result.returncode == 0, phone.explain("call_audio.xml")
    errors = phone.workdir / "agent_hold.xml.errors.log"
    assert await finish(agent_phone) == 0, errors.read_text() if errors.exists() else ""
    await phone.wait_for_event("call.ended")
    (interaction,) = await phone.interactions()
    types = [e.type for e in await phone.events(str(interaction.id))]
    assert types.index("call.bridged") < types.index("interaction.held") \
        < types.index("interaction.resumed") < types.index("call.ended")
    assert interaction.state is InteractionState.WRAP_UP


async def test_a_phone_nobody_answers_is_cancelled_when_the_offer_times_out(
        phone: Phone, clock: FixedClock) -> None:
    await agent_ready(phone)
    phone_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, phone_port) == 200
    agent_phone = await start_phone(phone, "agent_no_answer.xml", phone_port)
    caller = asyncio.create_task(phone.sipp("call_audio.xml", "-s", "300", "-d", "3000"))
    offered = await phone.wait_for_event("offer.created")
    async with asyncio.timeout(10):
        while True:  # the phone is ringing: our INVITE went out
            ua = phone.voice.ua
            if ua is not None and any(key[1] == "INVITE" for key in ua.layer.clients):
                break
            await asyncio.sleep(0.05)
    clock.advance(3600)
    await phone.api.app.state.acd.tick()  # the offer times out
    errors = phone.workdir / "agent_no_answer.xml.errors.log"
    assert await finish(agent_phone) == 0, errors.read_text() if errors.exists() else ""
    result = await caller
    assert result.returncode == 0, phone.explain("call_audio.xml")
    types = [e.type for e in await phone.events(offered.subject)]
    assert "offer.timed_out" in types and "call.bridged" not in types
