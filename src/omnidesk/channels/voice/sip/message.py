"""SIP messages (RFC 3261 §7, §20, §25): parsing, typed header helpers and serialisation.

`parse` turns one datagram (or one framed stream message) into a `Request` or `Response`
and raises only `ParseError`. When the start line, the header block and a Via were readable
but something else is wrong (a bad CSeq, Content-Length …), the error carries the
`partial` request so the server can still answer 400 to the right place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
CRLF = "\r\n"
MAX_MESSAGE_BYTES = 65_535
MAGIC_COOKIE = "z9hG4bK"

COMPACT = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact",
    "k": "Supported", "l": "Content-Length", "m": "Contact", "n": "Identity-Info",
    "o": "Event", "r": "Refer-To", "s": "Subject", "t": "To", "u": "Allow-Events",
    "v": "Via", "x": "Session-Expires", "y": "Identity",
}
_SPECIAL_CASE = {"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
                 "mime-version": "MIME-Version", "rack": "RAck", "rseq": "RSeq"}
# Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1).
MULTI_VALUE = frozenset({"Via", "Route", "Record-Route", "Contact", "Allow", "Supported",
                         "Require", "Proxy-Require", "Unsupported", "Accept", "Allow-Events"})
REQUIRED_REQUEST_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")
_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_STATUS = re.compile(r"^SIP/2\.0 ([1-6][0-9]{2}) ?(.*)$")


class ParseError(ValueError):
    """A message that cannot be read; `partial` is set when it can still be answered."""

    def __init__(self, reason: str, partial: Request | None = None, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial = partial
        self.status = status  # what to answer: 400, or 505 for another SIP version


_DIGITS = re.compile(r"[0-9]+")


def is_digits(text: str) -> bool:
    """True for ASCII digits only (str.isdigit also accepts '²' and other scripts' digits)."""
    return _DIGITS.fullmatch(text) is not None


def canonical_name(name: str) -> str:
    """The long, canonically capitalised form of a header name (`v` → `Via`)."""
    lowered = name.lower()
    if lowered in COMPACT:
        return COMPACT[lowered]
    if lowered in _SPECIAL_CASE:
        return _SPECIAL_CASE[lowered]
    return "-".join(part[:1].upper() + part[1:] for part in lowered.split("-"))


def split_commas(value: str) -> list[str]:
    """Split a header value at commas outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    depth = 0
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


class Headers:
    """An ordered multimap of headers with canonical names."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        for name, value in items:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append a value (after the others of the same name)."""
        self._items.append((canonical_name(name), value))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header, or `default`."""
        wanted = canonical_name(name)
        return next((value for key, value in self._items if key == wanted), default)

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, in order."""
        wanted = canonical_name(name)
        return [value for key, value in self._items if key == wanted]

    def set(self, name: str, value: str) -> None:
        """Replace every value of a header with one (kept in the first one's place)."""
        wanted = canonical_name(name)
        index = next((i for i, (key, _) in enumerate(self._items) if key == wanted), None)
        self.remove(wanted)
        if index is None:
            self._items.append((wanted, value))
        else:
            self._items.insert(min(index, len(self._items)), (wanted, value))

    def remove(self, name: str) -> None:
        """Drop every value of a header."""
        wanted = canonical_name(name)
        self._items = [(key, value) for key, value in self._items if key != wanted]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def copy(self) -> Headers:
        """An independent copy."""
        return Headers(self._items)


@dataclass
class Message:
    """What requests and responses share."""

    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        """The Call-ID."""
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        """(number, method) of the CSeq header."""
        return parse_cseq(self.headers.get("CSeq") or "")

    @property
    def vias(self) -> list[Via]:
        """The parsed Via entries, topmost first."""
        return [Via.parse(value) for value in self.headers.get_all("Via")]

    def _head_lines(self) -> list[str]:
        return [f"{name}: {value}" for name, value in self.headers if name != "Content-Length"]

    def _serialize(self, start_line: str) -> bytes:
        lines = [start_line, *self._head_lines(), f"Content-Length: {len(self.body)}"]
        return (CRLF.join(lines) + CRLF + CRLF).encode("utf-8") + self.body


@dataclass
class Request(Message):
    """A SIP request."""

    method: str = "OPTIONS"
    uri: str = ""

    def serialize(self) -> bytes:
        """The request on the wire (Content-Length computed from the body)."""
        return self._serialize(f"{self.method} {self.uri} {SIP_VERSION}")


@dataclass
class Response(Message):
    """A SIP response."""

    status: int = 200
    reason: str = "OK"

    def serialize(self) -> bytes:
        """The response on the wire (Content-Length computed from the body)."""
        return self._serialize(f"{SIP_VERSION} {self.status} {self.reason}")


@dataclass(frozen=True)
class Via:
    """One Via entry: transport, sent-by and parameters (branch, received, rport …)."""

    transport: str
    host: str
    port: int | None
    params: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, value: str) -> Via:
        """Read `SIP/2.0/UDP host:port;branch=…`; ParseError if it is not one."""
        head, _, rest = value.strip().partition(";")
        protocol, _, sent_by = head.strip().partition(" ")
        parts = [part.strip() for part in protocol.split("/")]
        if len(parts) != 3 or parts[0].upper() != "SIP" or not sent_by.strip():
            raise ParseError(f"bad Via: {value!r}")
        host, port = split_host_port(sent_by.strip())
        return cls(parts[2].upper(), host, port, parse_params(rest))

    def param(self, name: str) -> str | None:
        """A parameter's value ('' for a flag), None when absent."""
        for key, value in self.params:
            if key.lower() == name.lower():
                return "" if value is None else value
        return None

    @property
    def branch(self) -> str:
        """The branch parameter, '' when absent."""
        return self.param("branch") or ""

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"SIP/2.0/{self.transport} {host}{port}{format_params(self.params)}"


@dataclass(frozen=True)
class SipUri:
    """A sip: or sips: URI."""

    scheme: str
    user: str
    host: str
    port: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    headers: str = ""
    password: str = ""

    @classmethod
    def parse(cls, text: str) -> SipUri:
        """Read `sip:user:password@host:port;params?headers`; ParseError if not a SIP URI."""
        scheme, colon, rest = text.strip().partition(":")
        if not colon or scheme.lower() not in ("sip", "sips", "tel"):
            raise ParseError(f"not a SIP URI: {text!r}")
        if scheme.lower() == "tel":
            number, _, params = rest.partition(";")
            return cls("tel", number, "", None, parse_params(params))
        rest, _, headers = rest.partition("?")
        userinfo, at, hostpart = rest.rpartition("@")
        if not at:
            hostpart = rest
        user, _, password = userinfo.partition(":")
        hostport, _, params = hostpart.partition(";")
        if not hostport:
            raise ParseError(f"no host in URI: {text!r}")
        host, port = split_host_port(hostport)
        return cls(scheme.lower(), user, host, port, parse_params(params), headers, password)

    def param(self, name: str) -> str | None:
        """A URI parameter's value ('' for a flag), None when absent."""
        for key, value in self.params:
            if key.lower() == name.lower():
                return "" if value is None else value
        return None

    def __str__(self) -> str:
        if self.scheme == "tel":
            return f"tel:{self.user}{format_params(self.params)}"
        userinfo = self.user + (f":{self.password}" if self.password else "")
        at = f"{userinfo}@" if userinfo else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        headers = f"?{self.headers}" if self.headers else ""
        return f"{self.scheme}:{at}{host}{port}{format_params(self.params)}{headers}"


@dataclass(frozen=True)
class NameAddr:
    """From / To / Contact / Route values: display name, URI, header parameters (tag …)."""

    uri: str
    display: str = ""
    params: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, value: str) -> NameAddr:
        """Read `"Name" <sip:…>;tag=x` or `sip:…;tag=x`; ParseError when unreadable."""
        value = value.strip()
        if "<" in value:
            display, _, rest = value.partition("<")
            uri, closed, params = rest.partition(">")
            if not closed or not uri.strip():
                raise ParseError(f"bad address: {value!r}")
            name = display.strip()
            if name.startswith('"') and name.endswith('"') and len(name) >= 2:
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return cls(uri.strip(), name, parse_params(params.lstrip().removeprefix(";")))
        if not value or value == "*":
            if value == "*":
                return cls("*")
            raise ParseError("empty address")
        uri, _, params = value.partition(";")
        return cls(uri.strip(), "", parse_params(params))

    def param(self, name: str) -> str | None:
        """A header parameter's value ('' for a flag), None when absent."""
        for key, value in self.params:
            if key.lower() == name.lower():
                return "" if value is None else value
        return None

    @property
    def tag(self) -> str:
        """The tag parameter, '' when absent."""
        return self.param("tag") or ""

    def with_tag(self, tag: str) -> NameAddr:
        """The same address with this tag."""
        params = tuple((k, v) for k, v in self.params if k.lower() != "tag")
        return NameAddr(self.uri, self.display, (*params, ("tag", tag)))

    def __str__(self) -> str:
        display = ""
        if self.display:
            escaped = self.display.replace("\\", "\\\\").replace('"', '\\"')
            display = f'"{escaped}" '
        return f"{display}<{self.uri}>{format_params(self.params)}"


def parse_params(text: str) -> tuple[tuple[str, str | None], ...]:
    """`;a=1;b` → (("a", "1"), ("b", None))."""
    params: list[tuple[str, str | None]] = []
    for chunk in text.split(";"):
        chunk = chunk.strip()
        if not chunk:
            continue
        key, eq, value = chunk.partition("=")
        params.append((key.strip(), value.strip() if eq else None))
    return tuple(params)


def format_params(params: Iterable[tuple[str, str | None]]) -> str:
    """(("a", "1"), ("b", None)) → `;a=1;b`."""
    return "".join(f";{key}" if value is None else f";{key}={value}" for key, value in params)


def split_host_port(text: str) -> tuple[str, int | None]:
    """`host:5060` / `[::1]:5060` / `host` → (host, port); ParseError on a bad port."""
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or not host:
            raise ParseError(f"bad host: {text!r}")
        port_text = rest.removeprefix(":") if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ParseError(f"bad host: {text!r}")
    else:
        host, colon, port_text = text.partition(":")
        if not host:
            raise ParseError(f"bad host: {text!r}")
        if colon and not port_text:
            raise ParseError(f"bad port: {text!r}")
    if not port_text:
        return host, None
    if not is_digits(port_text) or not 0 < int(port_text) < 65536:
        raise ParseError(f"bad port: {text!r}")
    return host, int(port_text)


def parse_cseq(value: str) -> tuple[int, str]:
    """`314159 INVITE` → (314159, "INVITE"); ParseError otherwise."""
    number, _, method = value.strip().partition(" ")
    method = method.strip()
    if not is_digits(number) or len(number) > 10 or int(number) >= 2**31 \
            or not _TOKEN.match(method):
        raise ParseError(f"bad CSeq: {value!r}")
    return int(number), method


def parse(data: bytes) -> Request | Response:
    """Read one whole SIP message; raises ParseError (and nothing else) on bad input."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise ParseError("message too large")
    head, body = _split_head(data)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError("header block is not UTF-8") from error
    lines = _unfold(text)
    if not lines or not lines[0]:
        raise ParseError("no start line")
    headers = _parse_headers(lines[1:])
    message = _start(lines[0], headers)
    message.body = _body(message, body)
    if isinstance(message, Request):
        _check_request(message)
    else:
        _check_response(message)
    return message


def _check_response(response: Response) -> None:
    for name in REQUIRED_REQUEST_HEADERS:
        if name not in response.headers:
            raise ParseError(f"missing {name}")
    response.cseq  # noqa: B018 - validates the CSeq
    response.vias  # noqa: B018 - parses every Via


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    data = data.lstrip(b"\r\n")  # keep-alive CRLFs before a message are allowed
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = data.find(separator)
        if index >= 0:
            return data[:index], data[index + len(separator):]
    if data.endswith(b"\r\n") or data.endswith(b"\n"):
        return data, b""
    raise ParseError("no end of headers")


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in re.split(r"\r?\n", text):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] = lines[-1].rstrip() + " " + line.strip()
        else:
            lines.append(line)
    return lines


def _parse_headers(lines: list[str]) -> Headers:
    headers = Headers()
    for line in lines:
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            raise ParseError(f"bad header line: {line[:80]!r}")
        canonical = canonical_name(name)
        value = value.strip()
        if canonical in MULTI_VALUE:
            for part in split_commas(value):
                headers.add(canonical, part)
        else:
            headers.add(canonical, value)
    return headers


def _start(line: str, headers: Headers) -> Request | Response:
    if line.startswith("SIP/"):
        match = _STATUS.match(line)
        if match is None:
            raise ParseError(f"bad status line: {line[:80]!r}")
        return Response(headers=headers, status=int(match[1]), reason=match[2].strip())
    parts = line.split(" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
        raise ParseError(f"bad request line: {line[:80]!r}")
    request = Request(headers=headers, method=parts[0], uri=parts[1])
    if parts[2] != SIP_VERSION:
        raise ParseError(f"unsupported version {parts[2][:20]!r}", _answerable(request), 505)
    return request


def _body(message: Request | Response, body: bytes) -> bytes:
    length_text = message.headers.get("Content-Length")
    if length_text is None:
        return body
    partial = _answerable(message) if isinstance(message, Request) else None
    if not is_digits(length_text):
        raise ParseError(f"bad Content-Length: {length_text[:20]!r}", partial)
    length = int(length_text)
    if length > len(body):
        raise ParseError("body shorter than Content-Length", partial)
    return body[:length]


def _check_request(request: Request) -> None:
    for name in REQUIRED_REQUEST_HEADERS:
        if name not in request.headers:
            raise ParseError(f"missing {name}", _answerable(request))
    try:
        _, method = request.cseq
        request.vias  # noqa: B018 - parses every Via
        max_forwards = request.headers.get("Max-Forwards")
        if max_forwards is not None and not (is_digits(max_forwards) and len(max_forwards) < 4):
            raise ParseError(f"bad Max-Forwards: {max_forwards!r}")
        NameAddr.parse(request.headers.get("From") or "")
        NameAddr.parse(request.headers.get("To") or "")
    except ParseError as error:
        raise ParseError(error.reason, _answerable(request)) from error
    if method != request.method and not (request.method == "ACK" and method == "ACK"):
        raise ParseError("CSeq method does not match the request", _answerable(request))


def _answerable(request: Request) -> Request | None:
    """The request, if a response can be routed back (a readable top Via)."""
    top = request.headers.get("Via")
    if top is None:
        return None
    try:
        Via.parse(top)
    except ParseError:
        return None
    return request


def frame_stream(buffer: bytearray) -> bytes | None:
    """Cut one whole message off a stream buffer (TCP), or None if it is not complete yet."""
    while buffer[:2] == b"\r\n":  # keep-alives between messages
        del buffer[:2]
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_MESSAGE_BYTES:
            raise ParseError("header block too large")
        return None
    head = bytes(buffer[:end]).decode("utf-8", "replace")
    match = re.search(r"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$", head)
    if match is None:
        raise ParseError("no Content-Length on a stream transport")
    total = end + 4 + int(match[1])
    if total > MAX_MESSAGE_BYTES:
        raise ParseError("message too large")
    if len(buffer) < total:
        return None
    message = bytes(buffer[:total])
    del buffer[:total]
    return message


REASONS = {
    100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 202: "Accepted",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 407: "Proxy Authentication Required", 408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    483: "Too Many Hops", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 503: "Service Unavailable", 505: "Version Not Supported",
    603: "Decline",
}


def make_response(request: Request, status: int, reason: str | None = None, *,
                  to_tag: str | None = None) -> Response:
    """A response to `request` (§8.2.6): Via, From, To (+ our tag), Call-ID, CSeq copied."""
    headers = Headers()
    for value in request.headers.get_all("Via"):
        headers.add("Via", value)
    headers.add("From", request.headers.get("From") or "")
    to = request.headers.get("To") or ""
    if to_tag and status > 100:
        try:
            address = NameAddr.parse(to)
            if not address.tag:
                to = str(address.with_tag(to_tag))
        except ParseError:
            pass
    headers.add("To", to)
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", request.headers.get("CSeq") or "")
    return Response(headers=headers, status=status, reason=reason or REASONS.get(status, ""))
