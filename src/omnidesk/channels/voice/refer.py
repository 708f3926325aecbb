"""REFER (RFC 3515): an agent's phone asks us to transfer the call it is in.

The UA checks the request (one Refer-To, a SIP / tel URI; a Replaces header in it, RFC 3891,
makes it an attended transfer: `consult.replace`) and hands a `Referral` to the call's
`on_refer`; the application answers it with `accept()` (202, then the implicit
subscription's first NOTIFY, `SIP/2.0 100 Trying`) or `reject(status)`, and reports the
outcome with one final `notify(status)` (a sipfrag of the referenced call's final
response; the subscription ends with it).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnidesk.channels.voice.sip.message import REASONS, NameAddr, ParseError, Request, SipUri
from omnidesk.channels.voice.sip.transaction import ServerTransaction

if TYPE_CHECKING:
    from omnidesk.channels.voice.call import Call
    from omnidesk.channels.voice.ua import UserAgent

NOTIFY_EXPIRES = 60  # the implicit subscription's lifetime in our first NOTIFY


class ReferError(ValueError):
    """A REFER we refuse before accepting it: the status to answer, and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class ReferTarget:
    """Where the REFER asks the call to go: the Refer-To URI and its user part."""

    uri: str
    user: str
    host: str
    replaces: tuple[str, str, str] | None = None  # (Call-ID, to-tag, from-tag): attended


def parse_refer_to(values: list[str]) -> ReferTarget:
    """The one Refer-To of a REFER (§2.4.1: exactly one), read; ReferError otherwise (400
    for none, several or an unreadable one or an incomplete Replaces, 416 for another
    scheme)."""
    if len(values) != 1:
        raise ReferError(400, "a REFER needs exactly one Refer-To")
    try:
        address = NameAddr.parse(values[0])
        uri = SipUri.parse(address.uri)
    except ParseError as error:
        if address_scheme(values[0]) not in ("", "sip", "sips", "tel"):
            raise ReferError(416, "Refer-To must be a sip, sips or tel URI") from error
        raise ReferError(400, f"unreadable Refer-To: {error}") from error
    if uri.param("replaces") is not None:
        raise ReferError(400, "Replaces belongs in the Refer-To URI's headers (?Replaces=…)")
    if not uri.user:
        raise ReferError(400, "Refer-To has no user part (a number or an extension)")
    return ReferTarget(str(address.uri), urllib.parse.unquote(uri.user), uri.host,
                       replaces_of(uri.headers))


def replaces_of(headers: str) -> tuple[str, str, str] | None:
    """The Replaces embedded in a Refer-To URI (`?Replaces=<call-id>%3Bto-tag%3D…%3Bfrom-tag%3D…`,
    RFC 3891 / 5589) as (Call-ID, to-tag, from-tag); None without one; ReferError 400 when it
    lacks a part."""
    for header in headers.split("&") if headers else []:
        name, _, value = header.partition("=")
        if name.strip().lower() != "replaces":
            continue
        call_id, *params = urllib.parse.unquote(value).split(";")
        tags = {key.strip().lower(): tag.strip() for key, _, tag in
                (param.partition("=") for param in params)}
        if not call_id.strip() or not tags.get("to-tag") or not tags.get("from-tag"):
            raise ReferError(400, "Replaces needs a Call-ID, to-tag and from-tag")
        return call_id.strip(), tags["to-tag"], tags["from-tag"]
    return None


def address_scheme(value: str) -> str:
    """The scheme of a name-addr or bare URI, lower-cased ('' when none)."""
    inner = value.split("<", 1)[1] if "<" in value else value
    scheme, colon, _ = inner.strip().partition(":")
    return scheme.lower() if colon else ""


def sipfrag(status: int) -> bytes:
    """The message/sipfrag body of a NOTIFY: the status line of the referenced call."""
    return f"SIP/2.0 {status} {REASONS.get(status, 'Unknown')}\r\n".encode()


class Referral:
    """One accepted-or-not REFER, its implicit subscription, and its NOTIFYs."""

    def __init__(self, ua: UserAgent, call: Call, transaction: ServerTransaction,
                 request: Request, target: ReferTarget) -> None:
        self.ua = ua
        self.call = call
        self.transaction = transaction
        self.request = request
        self.target = target
        self.event_id = request.cseq[0]
        self.referred_by = request.headers.get("Referred-By") or ""
        self.answered = False
        self.finished = False  # the final NOTIFY was sent (or the dialog is gone)

    def reject(self, status: int, reason: str | None = None) -> None:
        """Refuse the REFER (4xx–6xx), with a Warning saying why."""
        if self.answered:
            return
        self.answered = self.finished = True
        extra = {"Warning": f'399 omnidesk "{reason}"'} if reason else {}
        self.ua.answer_request(self.transaction, status, extra=extra,
                               to_tag=self.call.dialog.local_tag)

    def accept(self) -> None:
        """202 Accepted, then the first NOTIFY (100 Trying)."""
        if self.answered:
            return
        self.answered = True
        self.ua.answer_request(self.transaction, 202, to_tag=self.call.dialog.local_tag)
        self._notify(100, f"active;expires={NOTIFY_EXPIRES}")

    def notify(self, status: int) -> None:
        """The outcome: a final NOTIFY with the status line; ends the subscription."""
        if not self.answered or self.finished:
            return
        self.finished = True
        self._notify(status, "terminated;reason=noresource")

    def _notify(self, status: int, state: str) -> None:
        if not self.call.live:
            self.finished = True
            return
        self.ua.send_in_dialog(self.call, "NOTIFY", headers={
            "Event": f"refer;id={self.event_id}", "Subscription-State": state,
            "Content-Type": "message/sipfrag;version=2.0"}, body=sipfrag(status))
