"""SDP offer/answer (RFC 3264) and digest authentication (RFC 2617 / 7616)."""

from __future__ import annotations

import pytest

from omnidesk.channels.voice.digest import (
    DigestAuthenticator,
    ha1,
    parse_auth_params,
    response_for,
)
from omnidesk.channels.voice.sdp import SdpError, answer, parse_sdp

OFFER = (b"v=0\r\no=user1 53655765 2353687637 IN IP4 10.0.0.5\r\ns=-\r\n"
         b"c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 18 8 0 101\r\n"
         b"a=rtpmap:18 G729/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
         b"a=fmtp:101 0-15\r\na=sendrecv\r\nm=video 6002 RTP/AVP 96\r\n")


def test_the_answer_takes_the_first_offered_g711_codec_and_telephone_event() -> None:
    negotiated = answer(parse_sdp(OFFER), address="127.0.0.1", port=20000, session_id=7)
    assert (negotiated.remote_host, negotiated.remote_port) == ("10.0.0.5", 6000)
    assert (negotiated.codec, negotiated.payload_type, negotiated.dtmf) == (8, 8, 101)
    body = parse_sdp(negotiated.body)
    audio = body.audio()
    assert audio is not None and audio.formats == ["8", "101"] and audio.port == 20000
    assert [m.port for m in body.media] == [20000, 0]  # the video stream is declined


def test_hold_offers_are_answered_with_the_reverse_direction() -> None:
    held = answer(parse_sdp(OFFER.replace(b"a=sendrecv", b"a=sendonly")), address="127.0.0.1",
                  port=20000, session_id=7)
    assert held.direction == "recvonly" and held.on_hold
    assert b"a=recvonly" in held.body


def test_no_common_codec_is_488_and_garbage_is_400() -> None:
    with pytest.raises(SdpError) as caught:
        answer(parse_sdp(OFFER.replace(b"18 8 0 101", b"18 101")), address="127.0.0.1",
               port=20000, session_id=7)
    assert caught.value.status == 488
    with pytest.raises(SdpError) as garbage:
        parse_sdp(b"hello")
    assert garbage.value.status == 400


def test_rfc_2617_example_response() -> None:
    params = parse_auth_params(
        'Digest username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
        'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    expected = response_for(params, method="GET",
                            ha1_value=ha1("Mufasa", "testrealm@host.com", "Circle Of Life"))
    assert expected == params["response"]


def _authorization(auth: DigestAuthenticator, *, user: str, password: str, nonce: str,
                   method: str = "REGISTER") -> str:
    params = {"username": user, "realm": auth.realm, "nonce": nonce, "uri": "sip:omnidesk",
              "qop": "auth", "nc": "00000001", "cnonce": "abc"}
    params["response"] = response_for(params, method=method,
                                      ha1_value=ha1(user, auth.realm, password))
    return "Digest " + ", ".join(f'{k}="{v}"' for k, v in params.items())


def test_digest_accepts_the_right_password_and_flags_stale_nonces() -> None:
    now = [1000.0]
    store = {"201": ha1("201", "omnidesk", "s3cret")}
    auth = DigestAuthenticator("omnidesk", store.get, now=lambda: now[0], max_age=60)
    nonce = auth.challenge().split('nonce="')[1].split('"')[0]
    good = _authorization(auth, user="201", password="s3cret", nonce=nonce)
    assert auth.verify(good, "REGISTER").ok
    assert not auth.verify(good, "INVITE").ok  # the method is part of the hash
    assert not auth.verify(_authorization(auth, user="201", password="wrong", nonce=nonce),
                           "REGISTER").ok
    assert not auth.verify(_authorization(auth, user="999", password="x", nonce=nonce),
                           "REGISTER").ok
    forged = _authorization(auth, user="201", password="s3cret", nonce="1.deadbeef")
    assert auth.verify(forged, "REGISTER") .stale is False
    now[0] += 120
    late = auth.verify(good, "REGISTER")
    assert not late.ok and late.stale
