"""The browser phone's signalling API (`/voice/webrtc`): an aiortc peer plays the desktop and
turns the phone on and off; errors for non-agents, bad SDP, a hang-up without a call; the
leg's G.711 both ways. (The whole path with Chromium and a SIPp caller:
tests/web/test_browser_phone.py.)"""

from __future__ import annotations

import uuid

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from omnidesk.channels.voice.g711 import PCMU, decode_ulaw
from omnidesk.channels.voice.webrtc import BrowserLeg
from tests.voice.conftest import Phone
from tests.voice.test_sipp_agent import agent_ready


async def test_an_agent_turns_the_browser_phone_on_and_off(phone: Phone) -> None:
    agent_id = await agent_ready(phone)
    ana = await phone.api.login("acme", "ana@acme.example")
    client = phone.api.client
    status = await client.get("/api/v1/voice/webrtc", headers=ana)
    assert status.json() == {"available": True, "online": False, "on_call": None}

    desktop = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        desktop.addTrack(AudioStreamTrack())
        await desktop.setLocalDescription(await desktop.createOffer())
        answer = await client.post("/api/v1/voice/webrtc/offer", headers=ana, json={
            "type": "offer", "sdp": desktop.localDescription.sdp})
        assert answer.status_code == 200, answer.text
        assert answer.json()["type"] == "answer"
        sdp = answer.json()["sdp"]
        assert "PCMU/8000" in sdp and "opus" not in sdp.lower()  # G.711 end to end
        assert "a=candidate:" in sdp  # non-trickle: our candidates are in the answer
        await desktop.setRemoteDescription(RTCSessionDescription(**answer.json()))
        assert phone.voice.browser_phones.online(uuid.UUID(agent_id)) is not None
        status = await client.get("/api/v1/voice/webrtc", headers=ana)
        assert status.json()["online"] is True

        hangup = await client.post("/api/v1/voice/webrtc/hangup", headers=ana)
        assert hangup.status_code == 409 and hangup.json()["error"]["field"] == "phone"

        off = await client.delete("/api/v1/voice/webrtc", headers=ana)
        assert off.status_code == 204
        assert phone.voice.browser_phones.online(uuid.UUID(agent_id)) is None
    finally:
        await desktop.close()


async def test_only_agents_with_a_readable_offer_get_a_phone(phone: Phone) -> None:
    await agent_ready(phone)
    ana = await phone.api.login("acme", "ana@acme.example")
    client = phone.api.client
    not_agent = await client.get("/api/v1/voice/webrtc", headers=phone.admin)
    assert not_agent.status_code == 403
    garbage = await client.post("/api/v1/voice/webrtc/offer", headers=ana,
                                json={"type": "offer", "sdp": "v=0\r\nnonsense\r\n"})
    assert garbage.status_code == 422, garbage.text
    assert garbage.json()["error"]["field"] == "sdp"
    answer = await client.post("/api/v1/voice/webrtc/offer", headers=ana,
                               json={"type": "answer", "sdp": "v=0\r\n"})
    assert answer.status_code == 422


def test_the_browser_leg_carries_g711_both_ways(phone: Phone) -> None:
    leg = BrowserLeg(phone.voice.clock)
    assert leg.next_pcm() == bytes(320)  # silence until bridged
    caller = BrowserLeg(phone.voice.clock)  # any RtpSession will do as the caller's leg
    caller.bridge(leg)
    tone = bytes([0x10, 0x20] * 160)  # 160 samples of 16-bit PCM
    leg.received(tone)
    leg.feed(PCMU, bytes([0x20]) * 480)  # the caller's audio reaches the browser …
    assert leg.next_pcm() == decode_ulaw(bytes([0x20]) * 160)
    assert len(caller._bridged) == 160  # … and the browser's reaches the caller
    leg.close()
    caller.close()
