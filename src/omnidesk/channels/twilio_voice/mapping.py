"""Twilio's voice webhooks (form-encoded) ⇄ omnidesk: calls, caller input, call statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omnidesk.customers.identities import PHONE, normalise
from omnidesk.errors import InvalidInput
from omnidesk.flows import DigitsInput, FlowInput, TextInput, TimeoutInput

# The CallStatus values that end a call (Twilio's call resource statuses).
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
TERMINATOR = "#"


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One of Twilio's requests about a live call: the call webhook, a <Gather> action or the
    queue's wait URL (each carries the call's parameters, some more of their own)."""

    call_sid: str
    account_sid: str
    caller: str  # From: +14155550134, or client:… / sip:… / anonymous
    called: str  # To: the Twilio number dialled
    status: str
    direction: str
    caller_name: str
    digits: str
    speech: str

    def facts(self) -> dict[str, Any]:
        """The call's facts, as the SIP service keeps them in `attributes.voice`."""
        return {"call_id": self.call_sid, "from": self.caller, "to": self.called,
                "carrier": "twilio", "account_sid": self.account_sid,
                "direction": self.direction}


@dataclass(frozen=True, slots=True)
class CallStatusUpdate:
    """A status callback: the call's new status, in Twilio's order (SequenceNumber)."""

    call_sid: str
    status: str
    sequence: str
    duration: int | None  # CallDuration, seconds, on the final status

    @property
    def final(self) -> bool:
        """True when the call is over."""
        return self.status in FINAL_STATUSES

    @property
    def key(self) -> str:
        """What makes a retried callback the same one."""
        return f"call-status:{self.call_sid}:{self.status}:{self.sequence}"


def _sid(params: dict[str, str]) -> str:
    sid = params.get("CallSid", "").strip()
    if not sid:
        raise InvalidInput("CallSid is missing", field="CallSid")
    return sid


def to_call(pairs: Sequence[tuple[str, str]]) -> CallRequest:
    """A call webhook / <Gather> action / wait URL request (422 without CallSid)."""
    params = dict(pairs)
    return CallRequest(
        call_sid=_sid(params), account_sid=params.get("AccountSid", "").strip(),
        caller=params.get("From", "").strip(), called=params.get("To", "").strip(),
        status=params.get("CallStatus", "").strip().lower(),
        direction=params.get("Direction", "inbound").strip(),
        caller_name=params.get("CallerName", "").strip(),
        digits=params.get("Digits", "").strip(),
        speech=params.get("SpeechResult", "").strip())


def to_status(pairs: Sequence[tuple[str, str]]) -> CallStatusUpdate:
    """A call status callback (422 without CallSid or CallStatus)."""
    params = dict(pairs)
    status = params.get("CallStatus", "").strip().lower()
    if not status:
        raise InvalidInput("CallStatus is missing", field="CallStatus")
    raw = params.get("CallDuration", "").strip()
    try:
        duration = int(raw) if raw else None
    except ValueError as error:
        raise InvalidInput("CallDuration is not a number", field="CallDuration") from error
    return CallStatusUpdate(call_sid=_sid(params), status=status,
                            sequence=params.get("SequenceNumber", "").strip(),
                            duration=duration)


def caller_identity(caller: str) -> tuple[str, str]:
    """(kind, value) of the caller: an E.164 phone when it is one, else Twilio's address."""
    try:
        return normalise(PHONE, caller)
    except InvalidInput:
        return "external", f"twilio:{caller or 'anonymous'}"


def flow_input(call: CallRequest) -> FlowInput:
    """What the caller answered to a <Gather>: keys, else recognised speech, else nothing."""
    digits = call.digits.removesuffix(TERMINATOR) if len(call.digits) > 1 else call.digits
    if digits:
        return DigitsInput(digits)
    if call.speech:
        return TextInput(call.speech)
    return TimeoutInput()
