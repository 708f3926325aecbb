"""HTTP Digest authentication for SIP (RFC 2617 / RFC 7616 with MD5 and SHA-256; RFC 3261 §22).

Nonces are stateless: `time.hex + HMAC(secret, time)`, so a restart or many registrations
keep no table; a nonce older than `max_age` is answered with `stale=true`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from omnidesk.channels.voice.sip.message import split_commas

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _hash(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode("utf-8"), usedforsecurity=False).hexdigest()


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password): what a credential store may keep instead of the password."""
    return _hash(algorithm, f"{username}:{realm}:{password}")


def parse_auth_params(value: str) -> dict[str, str]:
    """`Digest a="1", b=2` → {"a": "1", "b": "2"} (keys lower-cased); {} if not Digest."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    params: dict[str, str] = {}
    for part in split_commas(rest):
        key, eq, raw = part.partition("=")
        if not eq:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"')
        params[key.strip().lower()] = raw
    return params


def response_for(params: dict[str, str], *, method: str, ha1_value: str,
                 algorithm: str = "MD5") -> str:
    """The expected `response` for these Authorization parameters."""
    ha2 = _hash(algorithm, f"{method}:{params.get('uri', '')}")
    qop = params.get("qop")
    if qop:
        return _hash(algorithm, f"{ha1_value}:{params.get('nonce', '')}:{params.get('nc', '')}:"
                                f"{params.get('cnonce', '')}:{qop}:{ha2}")
    return _hash(algorithm, f"{ha1_value}:{params.get('nonce', '')}:{ha2}")


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking credentials."""

    ok: bool
    username: str = ""
    stale: bool = False


class DigestAuthenticator:
    """Issues challenges and checks answers against a lookup of HA1 by (username, realm)."""

    def __init__(self, realm: str, lookup: Callable[[str], str | None], *,
                 now: Callable[[], float], max_age: float = 300.0,
                 secret: bytes | None = None) -> None:
        self.realm = realm
        self.lookup = lookup  # username → HA1 (MD5) or None
        self.now = now
        self.max_age = max_age
        self._secret = secret or secrets.token_bytes(32)

    def nonce(self) -> str:
        """A fresh nonce that proves its own age."""
        stamp = f"{int(self.now() * 1000):x}"
        mac = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def challenge(self, *, stale: bool = False) -> str:
        """A WWW-Authenticate value."""
        value = (f'Digest realm="{self.realm}", nonce="{self.nonce()}", algorithm=MD5, '
                 f'qop="auth"')
        return value + (", stale=true" if stale else "")

    def _nonce_state(self, nonce: str) -> str:
        stamp, _, mac = nonce.partition(".")
        expected = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac, expected):
            return "bad"
        try:
            age = self.now() - int(stamp, 16) / 1000
        except ValueError:
            return "bad"
        return "fresh" if -5 <= age <= self.max_age else "stale"

    def verify(self, authorization: str | None, method: str) -> Verdict:
        """Check an Authorization header for this method."""
        if not authorization:
            return Verdict(False)
        params = parse_auth_params(authorization)
        username = params.get("username", "")
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm != "MD5" or params.get("realm") != self.realm or not username:
            return Verdict(False, username)
        stored = self.lookup(username)
        if stored is None:
            return Verdict(False, username)
        expected = response_for(params, method=method, ha1_value=stored)
        if not hmac.compare_digest(expected, params.get("response", "").lower()):
            return Verdict(False, username)
        state = self._nonce_state(params.get("nonce", ""))
        if state != "fresh":
            return Verdict(False, username, stale=state == "stale")
        return Verdict(True, username)


def authorization(challenge: str, *, method: str, uri: str, username: str, password: str,
                  nc: int = 1, cnonce: str | None = None) -> str:
    """Our answer to a server's WWW- / Proxy-Authenticate challenge (the UAC side of
    RFC 3261 §22.2): an Authorization value with qop=auth when offered, else RFC 2069 style.
    ValueError for a scheme or algorithm we do not speak."""
    params = parse_auth_params(challenge)
    if not params:
        raise ValueError("not a Digest challenge")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm}")
    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    answer = {"username": username, "realm": realm, "nonce": nonce, "uri": uri}
    offered = [item.strip() for item in params.get("qop", "").split(",")]
    if "auth" in offered:
        answer |= {"qop": "auth", "nc": f"{nc:08x}", "cnonce": cnonce or secrets.token_hex(8)}
    answer["response"] = response_for(answer, method=method, algorithm=algorithm,
                                      ha1_value=ha1(username, realm, password, algorithm))
    answer["algorithm"] = algorithm
    if "opaque" in params:
        answer["opaque"] = params["opaque"]
    unquoted = ("qop", "nc", "algorithm")
    return "Digest " + ", ".join(
        f"{key}={value}" if key in unquoted else f'{key}="{value}"'
        for key, value in answer.items())
