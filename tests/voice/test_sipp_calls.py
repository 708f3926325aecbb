"""End to end with SIPp as the caller: OPTIONS, an IVR call by RFC 4733 DTMF queued and
abandoned, SIP INFO DTMF, CANCEL while ringing, unknown numbers."""

from __future__ import annotations

import array
import struct
from pathlib import Path

import pytest

from omnidesk.channels.voice.audio import read_wav
from omnidesk.channels.voice.g711 import decode_alaw
from omnidesk.interactions.states import InteractionState
from tests.voice.conftest import Phone


async def test_options_ping_is_answered_over_udp_and_tcp(phone: Phone) -> None:
    for transport in ("u1", "t1"):
        result = await phone.sipp("options.xml", transport=transport)
        assert result.returncode == 0, phone.explain("options.xml")


@pytest.mark.parametrize("transport", ["u1", "t1"])
async def test_a_call_navigates_the_ivr_by_rfc4733_dtmf_is_queued_then_abandons(
        phone: Phone, transport: str) -> None:
    # the keys are kept while the IVR speaks (welcome, menu, account: ~7.5 s with espeak-ng),
    # then it queues: the caller stays on the line until then
    result = await phone.sipp("call_dtmf.xml", "-s", "100", "-d", "7000", transport=transport)
    assert result.returncode == 0, phone.explain("call_dtmf.xml")
    await phone.wait_for_event("call.ended")
    (interaction,) = await phone.interactions()
    assert interaction.channel == "voice"
    assert interaction.state is InteractionState.ABANDONED
    assert interaction.attributes["flow"]["account"] == "4242"
    assert interaction.attributes["voice"]["from"] == "+4915112345678"
    types = [event.type for event in await phone.events(str(interaction.id))]
    story = [t for t in types if t.startswith(("interaction.", "call."))]
    assert story == ["interaction.created", "interaction.self_service_started", "call.answered",
                     "interaction.self_service_ended", "interaction.queued",
                     "interaction.abandoned", "call.ended"]
    events = {event.type: event for event in await phone.events(str(interaction.id))}
    assert events["interaction.self_service_ended"].payload["outcome"] == "queued"
    ended = events["call.ended"].payload
    assert (ended["reason"], ended["answered"]) == ("remote_bye", True)
    assert ended["rtp_received"] >= 40  # five digits of ~10 packets each
    queued = events["interaction.queued"].payload
    async with phone.api.db.read() as session:
        from omnidesk.queues.models import Queue
        sales = await session.get(Queue, interaction.queue_id)
    assert sales is not None and sales.name == "sales" and queued["queue_id"] == str(sales.id)


async def test_dtmf_by_sip_info_works_as_a_fallback(phone: Phone) -> None:
    result = await phone.sipp("call_info.xml", "-s", "+49-30-100", "-d", "6000")  # ~5 s spoken
    assert result.returncode == 0, phone.explain("call_info.xml")
    await phone.wait_for_event("call.ended")
    (interaction,) = await phone.interactions()
    assert interaction.state is InteractionState.ABANDONED
    events = [e.type for e in await phone.events(str(interaction.id))]
    assert "interaction.queued" in events
    async with phone.api.db.read() as session:
        from omnidesk.queues.models import Queue
        queue = await session.get(Queue, interaction.queue_id)
    assert queue is not None and queue.name == "support"


async def test_two_calls_from_one_number_at_once_are_two_interactions(phone: Phone) -> None:
    result = await phone.sipp("call_info.xml", "-s", "100", "-d", "1500", calls=2)
    assert result.returncode == 0, phone.explain("call_info.xml")
    await phone.wait_for_event("call.ended", count=2)
    interactions = await phone.interactions()
    assert len(interactions) == 2
    assert interactions[0].customer_id == interactions[1].customer_id
    assert len({i.attributes["voice"]["call_id"] for i in interactions}) == 2


async def test_cancel_while_ringing_gets_487_and_the_interaction_is_abandoned(
        phone: Phone) -> None:
    result = await phone.sipp("cancel.xml", "-s", "200")
    assert result.returncode == 0, phone.explain("cancel.xml")
    ended = await phone.wait_for_event("call.ended")
    assert (ended.payload["reason"], ended.payload["answered"]) == ("cancelled", False)
    (interaction,) = await phone.interactions()
    assert interaction.state is InteractionState.ABANDONED


async def test_a_number_no_channel_takes_is_refused_with_404(phone: Phone) -> None:
    result = await phone.sipp("unknown_number.xml", "-s", "999")
    assert result.returncode == 0, phone.explain("unknown_number.xml")
    assert await phone.interactions() == []


def _pcap_alaw_payloads(path: Path) -> bytes:
    data, offset, payload = path.read_bytes(), 24, b""
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        packet = data[offset + 16: offset + 16 + length]
        offset += 16 + length
        payload += packet[42 + 12:]
    return payload


async def test_the_recording_holds_the_audio_the_caller_sent(phone: Phone) -> None:
    result = await phone.sipp("call_audio.xml", "-s", "100", "-d", "1000")
    assert result.returncode == 0, phone.explain("call_audio.xml")
    ended = await phone.wait_for_event("call.ended")
    recorded = array.array("h")
    recorded.frombytes(read_wav(Path(ended.payload["recording"])))
    sent = array.array("h")
    sent.frombytes(decode_alaw(_pcap_alaw_payloads(Path("/usr/share/sip-tester/g711a.pcap"))))
    window = sent[8000:8000 + 4000]  # half a second from the middle of what was sent
    start = recorded.tobytes().find(window[:160].tobytes())  # align on the first 20 ms
    assert start >= 0 and start % 2 == 0, "the sent audio is not in the recording"
    aligned = recorded[start // 2: start // 2 + len(window)]
    assert _correlation(window, aligned) > 0.99
    assert _correlation(window, recorded[:len(window)]) < 0.5  # another stretch of speech


def _correlation(a: array.array[int], b: array.array[int]) -> float:
    if len(b) < len(a):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / norm if norm else 0.0


async def test_malformed_and_unsupported_requests_get_clean_errors_and_service_goes_on(
        phone: Phone) -> None:
    result = await phone.sipp("malformed.xml")
    assert result.returncode == 0, phone.explain("malformed.xml")
    assert await phone.interactions() == []
