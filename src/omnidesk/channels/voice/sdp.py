"""SDP (RFC 4566) for one audio stream and the offer/answer rules of RFC 3264."""

from __future__ import annotations

from dataclasses import dataclass, field

from omnidesk.channels.voice.g711 import PCMA, PCMU
from omnidesk.channels.voice.sip.message import is_digits

STATIC = {PCMU: ("PCMU", 8000), PCMA: ("PCMA", 8000)}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
REVERSE = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
           "inactive": "inactive"}


class SdpError(ValueError):
    """An SDP body we cannot read (→ 400) or answer (→ 488)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Media:
    """One m= line with its attributes."""

    kind: str
    port: int
    proto: str
    formats: list[str]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    direction: str = "sendrecv"
    address: str | None = None
    ptime: int | None = None
    rtcp_port: int | None = None  # RFC 3605 a=rtcp:
    rtcp_address: str | None = None

    def codec_name(self, pt: int) -> str | None:
        """The encoding name of a payload type (rtpmap, else the static table)."""
        if pt in self.rtpmap:
            return self.rtpmap[pt][0].upper()
        return STATIC[pt][0] if pt in STATIC else None

    def rtcp(self, address: str) -> tuple[str, int]:
        """Where RTCP goes: a=rtcp: when given (RFC 3605), else the RTP port + 1."""
        if self.rtcp_port is None:
            return address, self.port + 1
        return self.rtcp_address or address, self.rtcp_port


@dataclass
class Session:
    """A parsed session description (what the answerer needs of it)."""

    address: str | None
    media: list[Media]
    origin: str = ""

    def audio(self) -> Media | None:
        """The first audio stream with a port."""
        return next((m for m in self.media if m.kind == "audio" and m.port), None)


def parse_sdp(body: bytes) -> Session:
    """Read an SDP body; SdpError(400) when it is not SDP."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SdpError("SDP is not UTF-8") from error
    session = Session(address=None, media=[])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("v=0"):
        raise SdpError("not an SDP body (no v=0)")
    for line in lines:
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"bad SDP line {line[:40]!r}")
        _line(session, line[0], line[2:])
    return session


def _line(session: Session, key: str, value: str) -> None:
    current = session.media[-1] if session.media else None
    if key == "o":
        session.origin = value
    elif key == "c":
        parts = value.split()
        if len(parts) < 3:
            raise SdpError(f"bad c= line {value!r}")
        address = parts[2].split("/")[0]
        if current is None:
            session.address = address
        else:
            current.address = address
    elif key == "m":
        session.media.append(_media(value))
    elif key == "a" and current is not None:
        _attribute(current, value)


def _media(value: str) -> Media:
    parts = value.split()
    port_text = parts[1].split("/")[0] if len(parts) > 1 else ""
    if len(parts) < 3 or not is_digits(port_text) or int(port_text) > 65535:
        raise SdpError(f"bad m= line {value!r}")
    return Media(parts[0], int(port_text), parts[2], parts[3:])


def _attribute(media: Media, value: str) -> None:
    name, _, rest = value.partition(":")
    if name in DIRECTIONS:
        media.direction = name
    elif name == "rtpmap":
        pt, _, encoding = rest.partition(" ")
        codec, _, clock = encoding.partition("/")
        if is_digits(pt.strip()) and codec:
            clock_rate = clock.split("/")[0]
            media.rtpmap[int(pt)] = (codec.strip(), int(clock_rate) if is_digits(clock_rate)
                                     else 8000)
    elif name == "ptime" and is_digits(rest.strip()):
        media.ptime = int(rest.strip())
    elif name == "rtcp":  # RFC 3605: port [nettype addrtype address]
        parts = rest.split()
        if parts and is_digits(parts[0]) and 0 < int(parts[0]) <= 65535:
            media.rtcp_port = int(parts[0])
            media.rtcp_address = parts[3] if len(parts) >= 4 else None


@dataclass(frozen=True)
class Negotiated:
    """What the answer settled: the remote address, the codec, DTMF, and the direction."""

    remote_host: str
    remote_port: int
    codec: int  # PCMU or PCMA (their static payload types)
    payload_type: int  # as offered (the static one, or a dynamic one mapped to G.711)
    dtmf: int | None
    direction: str  # ours, as in the answer
    body: bytes
    rtcp: tuple[str, int] | None = None  # the remote RTCP address (None: RTP port + 1)

    @property
    def on_hold(self) -> bool:
        """True when the remote side put us on hold (sendonly / inactive offer)."""
        return self.direction in ("recvonly", "inactive")


def answer(offer: Session, *, address: str, port: int, session_id: int,
           version: int = 1, codecs: tuple[int, ...] = (PCMU, PCMA)) -> Negotiated:
    """Answer an offer: first offered G.711 codec we support, telephone-event if offered.

    SdpError(488) when there is no audio stream or no common codec.
    """
    audio = offer.audio()
    if audio is None:
        raise SdpError("no audio stream offered", 488)
    remote = audio.address or offer.address
    if not remote:
        raise SdpError("no connection address", 400)
    chosen = _choose(audio, codecs)
    if chosen is None:
        raise SdpError("no common codec (we speak PCMU and PCMA)", 488)
    codec, payload_type = chosen
    dtmf = next((int(f) for f in audio.formats if is_digits(f)
                 and audio.codec_name(int(f)) == "TELEPHONE-EVENT"), None)
    direction = REVERSE.get(audio.direction, "sendrecv")
    body = _render(address, port, session_id, version, (codec, payload_type), dtmf, direction,
                   offer, audio)
    return Negotiated(remote, audio.port, codec, payload_type, dtmf, direction, body,
                      audio.rtcp(remote))


def _choose(audio: Media, codecs: tuple[int, ...]) -> tuple[int, int] | None:
    """(codec, payload type on the wire) of the first offered format we speak."""
    for fmt in audio.formats:
        if not is_digits(fmt):
            continue
        pt = int(fmt)
        name = audio.codec_name(pt)
        clock = audio.rtpmap.get(pt, ("", 8000))[1]
        for codec in codecs:
            if name == STATIC[codec][0] and clock == 8000:
                return codec, pt
    return None


def _render(address: str, port: int, session_id: int, version: int, chosen: tuple[int, int],
            dtmf: int | None, direction: str, offer: Session, audio: Media) -> bytes:
    codec, pt = chosen
    formats = [str(pt)] + ([str(dtmf)] if dtmf is not None else [])
    lines = ["v=0", f"o=omnidesk {session_id} {version} IN IP4 {address}", "s=omnidesk",
             f"c=IN IP4 {address}", "t=0 0"]
    for media in offer.media:
        if media is not audio:
            lines.append(f"m={media.kind} 0 {media.proto} {' '.join(media.formats) or '0'}")
            continue
        lines.append(f"m=audio {port} RTP/AVP {' '.join(formats)}")
        lines.append(f"a=rtpmap:{pt} {STATIC[codec][0]}/8000")
        if dtmf is not None:
            lines += [f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16"]
        lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def offer(*, address: str, port: int, session_id: int, version: int = 1,
          direction: str = "sendrecv", dtmf: int = 101) -> bytes:
    """Our own offer (calls we place, re-INVITEs): PCMU, PCMA and telephone-event."""
    lines = ["v=0", f"o=omnidesk {session_id} {version} IN IP4 {address}", "s=omnidesk",
             f"c=IN IP4 {address}", "t=0 0", f"m=audio {port} RTP/AVP 0 8 {dtmf}",
             "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
             f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16", "a=ptime:20",
             f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def accept_answer(answer_sdp: Session) -> Negotiated:
    """Read the answer to our offer: its first audio format must be PCMU or PCMA."""
    audio = answer_sdp.audio()
    remote = (audio.address or answer_sdp.address) if audio is not None else None
    if audio is None or not remote:
        raise SdpError("the answer has no audio stream", 488)
    chosen = _choose(audio, (PCMU, PCMA))
    if chosen is None:
        raise SdpError("the answer picked a codec we did not offer", 488)
    dtmf = next((int(f) for f in audio.formats if is_digits(f)
                 and audio.codec_name(int(f)) == "TELEPHONE-EVENT"), None)
    return Negotiated(remote, audio.port, chosen[0], chosen[1], dtmf,
                      REVERSE.get(audio.direction, "sendrecv"), b"", audio.rtcp(remote))
