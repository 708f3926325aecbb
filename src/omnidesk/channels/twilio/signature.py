"""Twilio's request validation: X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL + the
POST parameters sorted by name, each name followed by its value))."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

from omnidesk.errors import Forbidden, Unauthorized

SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"https": 443, "http": 80}


def compute(token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """The signature Twilio sends for this URL and these POST parameters."""
    data = url
    for name in sorted({name for name, _ in params}):
        for value in sorted(value for key, value in params if key == name):
            data += name + value
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given, without its port and with the scheme's default port: Twilio signs
    one of them depending on how the URL was configured."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    without_port = urlunsplit(parts._replace(netloc=prefix + host))
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{port}")) if port else url
    return list(dict.fromkeys([url, without_port, with_port]))


def verify(token: str, *, signature: str | None, urls: Iterable[str],
           params: Sequence[tuple[str, str]]) -> None:
    """Raise unless the signature matches one of the URLs Twilio may have called."""
    if not signature:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header", field=SIGNATURE_HEADER.lower())
    for url in urls:
        for variant in url_variants(url):
            if hmac.compare_digest(compute(token, variant, params), signature.strip()):
                return
    raise Forbidden("X-Twilio-Signature does not match (is the channel secret the account's "
                    "auth token, and public_url the URL pasted into Twilio?)",
                    field=SIGNATURE_HEADER.lower())
