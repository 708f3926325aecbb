"""REFER parsing, our digest answers to a trunk's challenge, and the trunk settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omnidesk.channels.voice.config import TrunkModel, voice_settings
from omnidesk.channels.voice.digest import DigestAuthenticator, authorization, ha1
from omnidesk.channels.voice.refer import ReferError, parse_refer_to, sipfrag


def test_refer_to_is_read_and_bad_ones_are_refused_with_the_right_status() -> None:
    target = parse_refer_to(["<sip:202@pbx.example;user=phone>"])
    assert (target.user, target.host) == ("202", "pbx.example")
    for values, status in (([], 400), (["<sip:a@h>", "<sip:b@h>"], 400),
                           (["<http://x>"], 416), (["<sip:h>"], 400),
                           (["<sip:202@h?Replaces=x%40y%3Bto-tag%3D1>"], 400),
                           (["<sip:202@h;replaces=x>"], 400)):
        with pytest.raises(ReferError) as error:
            parse_refer_to(values)
        assert error.value.status == status
    assert target.replaces is None
    attended = parse_refer_to(
        ["<sip:202@h?Subject=x&Replaces=abc%40pbx%3Bto-tag%3D7553452%3Bfrom-tag%3D31431>"])
    assert (attended.user, attended.replaces) == ("202", ("abc@pbx", "7553452", "31431"))
    assert sipfrag(200) == b"SIP/2.0 200 OK\r\n"


@pytest.mark.parametrize("qop", ['qop="auth"', ""])
def test_our_answer_to_a_challenge_is_what_a_registrar_accepts(qop: str) -> None:
    server = DigestAuthenticator("trunk", {"omni": ha1("omni", "trunk", "pw")}.get,
                                 now=lambda: 1000.0)
    challenge = server.challenge()
    if not qop:
        challenge = challenge.replace(', qop="auth"', "")
    value = authorization(challenge, method="INVITE", uri="sip:4930@h", username="omni",
                          password="pw")
    assert server.verify(value, "INVITE").ok
    assert not server.verify(value.replace("omni", "other"), "INVITE").ok


def test_the_trunk_block_names_an_environment_variable_never_a_password(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        TrunkModel.model_validate({"host": "h", "password": "secret"})
    monkeypatch.setenv("TRUNK_PW", "s3")
    trunk = voice_settings({"trunk": {"host": "10.0.0.1", "username": "u",
                                      "password_env": "TRUNK_PW"}}).trunk
    assert trunk is not None and trunk.password == "s3"
    assert trunk.uri("+49 (30) 123-4567") == "sip:+49301234567@10.0.0.1:5060;transport=udp"
    assert voice_settings({"trunk": {"port": 5}}).trunk is None
