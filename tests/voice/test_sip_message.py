"""The SIP parser and serialiser: RFC 3261 forms, torture cases, round trips, garbage."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnidesk.channels.voice.sip.message import (
    Headers,
    NameAddr,
    ParseError,
    Request,
    Response,
    SipUri,
    Via,
    frame_stream,
    make_response,
    parse,
)

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n\r\n"
    b"v=0\nEXTRA"
)


def test_a_request_is_read_with_its_headers_and_body_cut_at_content_length() -> None:
    message = parse(INVITE)
    assert isinstance(message, Request)
    assert (message.method, message.uri) == ("INVITE", "sip:bob@biloxi.example.com")
    assert message.cseq == (314159, "INVITE")
    assert message.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert message.body == b"v=0\n"
    assert message.vias[0].branch == "z9hG4bK776asdhds"
    assert NameAddr.parse(message.headers.get("From") or "").tag == "1928301774"


def test_compact_forms_folding_and_multiple_vias_are_understood() -> None:
    raw = (b"OPTIONS sip:x@h SIP/2.0\r\n"
           b"v: SIP/2.0/UDP a.example:5060;branch=z9hG4bK1, "
           b"SIP/2.0/TCP b.example;branch=z9hG4bK2\r\n"
           b"v: SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK3;rport\r\n"
           b"f: <sip:a@h>;tag=1\r\nt: <sip:x@h>\r\ni: abc\r\n"
           b"Subject: I know you're there,\r\n   pick up the phone\r\n\tand talk to me!\r\n"
           b"CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n")
    message = parse(raw)
    assert [(v.transport, v.host, v.port) for v in message.vias] == [
        ("UDP", "a.example", 5060), ("TCP", "b.example", None), ("UDP", "2001:db8::1", 5070)]
    assert message.vias[2].param("rport") == ""
    assert message.headers.get("subject") == \
        "I know you're there, pick up the phone and talk to me!"
    assert message.call_id == "abc"


def test_a_response_is_read() -> None:
    raw = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
           b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\n"
           b"CSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n")
    message = parse(raw)
    assert isinstance(message, Response)
    assert (message.status, message.reason) == (180, "Ringing")


@pytest.mark.parametrize(("raw", "answerable"), [
    (b"", False),
    (b"\x00\xff\xfe garbage\r\n\r\n", False),
    (b"INVITE sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n", True),
    (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE"), True),
    (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: abc INVITE"), True),
    (INVITE.replace(b"Content-Length: 4", b"Content-Length: 400"), True),
    (INVITE.replace(b"Content-Length: 4", b"Content-Length: -1"), True),
    (INVITE.replace(b"SIP/2.0\r\nVia", b"SIP/7.0\r\nVia"), True),
    (INVITE.replace(b"Via: SIP/2.0/UDP", b"Via: HTTP"), False),
    (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: lots"), True),
    (INVITE.replace(b"example.com>\r\nFrom", b"example.com\r\nFrom"), True),
    (b"INVITE  SIP/2.0\r\n\r\n", False),
    (b"SIP/2.0 99999 Huge\r\n\r\n", False),
])
def test_malformed_messages_raise_parse_error_with_a_partial_when_answerable(
        raw: bytes, answerable: bool) -> None:
    with pytest.raises(ParseError) as caught:
        parse(raw)
    assert (caught.value.partial is not None) is answerable


def test_make_response_copies_the_dialog_headers_and_adds_our_tag() -> None:
    request = parse(INVITE)
    assert isinstance(request, Request)
    response = parse(make_response(request, 180, to_tag="abc").serialize())
    assert isinstance(response, Response)
    assert response.status == 180 and response.reason == "Ringing"
    assert NameAddr.parse(response.headers.get("To") or "").tag == "abc"
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    assert response.cseq == (314159, "INVITE")
    trying = make_response(request, 100, to_tag="abc")
    assert NameAddr.parse(trying.headers.get("To") or "").tag == ""


def test_uris_and_addresses_round_trip() -> None:
    uri = SipUri.parse("sip:alice:secret@[2001:db8::2]:5061;transport=tcp;lr?subject=hi")
    assert (uri.user, uri.password, uri.host, uri.port) == ("alice", "secret", "2001:db8::2", 5061)
    assert uri.param("lr") == "" and uri.param("transport") == "tcp"
    assert SipUri.parse(str(uri)) == uri
    address = NameAddr.parse('"Q \\"R\\" S" <sip:q@h>;tag=9;expires=60')
    assert address.display == 'Q "R" S' and address.tag == "9"
    assert NameAddr.parse(str(address)) == address
    with pytest.raises(ParseError):
        SipUri.parse("mailto:a@b")


def test_stream_framing_waits_for_the_whole_body() -> None:
    buffer = bytearray(b"\r\n\r\n" + INVITE[:50])
    assert frame_stream(buffer) is None
    buffer.extend(INVITE[50:-5])  # up to the end of the 4 body bytes, minus "EXTRA"
    buffer.extend(INVITE[-5:])
    message = frame_stream(buffer)
    assert message is not None and message.endswith(b"v=0\n")
    assert bytes(buffer) == b"EXTRA"
    with pytest.raises(ParseError):
        frame_stream(bytearray(b"OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n"))


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+~",
                min_size=1, max_size=12)
VALUE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                                       blacklist_characters=","),
                min_size=1, max_size=30)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """Well-formed requests with arbitrary extra headers and bodies."""
    method = draw(st.sampled_from(["INVITE", "BYE", "OPTIONS", "REGISTER", "INFO", "X-CUSTOM"]))
    headers = Headers()
    for _ in range(draw(st.integers(1, 3))):
        headers.add("Via", f"SIP/2.0/UDP {draw(TOKEN)}.example:{draw(st.integers(1, 65535))}"
                           f";branch=z9hG4bK{draw(TOKEN)}")
    headers.add("From", f"<sip:{draw(TOKEN)}@h>;tag={draw(TOKEN)}")
    headers.add("To", f"<sip:{draw(TOKEN)}@h>")
    headers.add("Call-ID", draw(VALUE))
    headers.add("CSeq", f"{draw(st.integers(0, 2**31 - 1))} {method}")
    for _ in range(draw(st.integers(0, 4))):
        headers.add(f"X-{draw(TOKEN)}", draw(VALUE))
    body = draw(st.binary(max_size=200))
    return Request(headers=headers, body=body, method=method, uri=f"sip:{draw(TOKEN)}@h")


@given(requests())
def test_serialize_then_parse_gives_the_same_request(request: Request) -> None:
    parsed = parse(request.serialize())
    assert isinstance(parsed, Request)
    assert (parsed.method, parsed.uri, parsed.body) == (request.method, request.uri, request.body)
    expected = [(n, v) for n, v in request.headers]
    assert [(n, v) for n, v in parsed.headers if n != "Content-Length"] == expected


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_random_bytes_raise_nothing_but_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(data)


@settings(max_examples=300)
@given(requests(), st.integers(0, 400), st.binary(min_size=1, max_size=8))
def test_mangled_requests_raise_nothing_but_parse_error(request: Request, at: int,
                                                        junk: bytes) -> None:
    raw = request.serialize()
    at = at % len(raw)
    with contextlib.suppress(ParseError):
        parse(raw[:at] + junk + raw[at + len(junk):])


def test_via_renders_back_to_what_it_parsed() -> None:
    via = Via.parse("SIP/2.0/tcp [::1]:5060;branch=z9hG4bKa;received=10.0.0.1;rport=9")
    assert str(via) == "SIP/2.0/TCP [::1]:5060;branch=z9hG4bKa;received=10.0.0.1;rport=9"


@pytest.mark.parametrize("header", ["CSeq: ² OPTIONS", "Content-Length: ٣", "Max-Forwards: ⁷",
                                    "Via: SIP/2.0/UDP h:５０６０;branch=z9hG4bK1"])
def test_digits_of_other_scripts_are_not_numbers(header: str) -> None:
    cseq = b"" if header.startswith("CSeq") else b"CSeq: 1 OPTIONS\r\n"
    raw = (b"OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK0\r\n"
           b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n" + cseq
           + header.encode() + b"\r\n\r\n")
    with pytest.raises(ParseError):
        parse(raw)


@settings(max_examples=300)
@given(st.lists(st.text(max_size=40), max_size=8))
def test_random_text_headers_raise_nothing_but_parse_error(lines: list[str]) -> None:
    raw = "OPTIONS sip:x@h SIP/2.0\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    with contextlib.suppress(ParseError):
        parse(raw.encode("utf-8", "surrogatepass"))
