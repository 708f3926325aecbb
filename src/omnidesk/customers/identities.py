"""Normalising identities so the same person on two channels is one customer."""

from __future__ import annotations

import phonenumbers

from omnidesk.errors import InvalidInput

PHONE = "phone"
EMAIL = "email"
KINDS = frozenset({PHONE, EMAIL, "chat", "telegram", "messenger", "external"})
# SMS numbers and WhatsApp ids are phone numbers: they resolve to the same identity.
ALIASES = {"sms": PHONE, "whatsapp": PHONE, "voice": PHONE}


def normalise(kind: str, value: str, *, field: str = "identity") -> tuple[str, str]:
    """The canonical (kind, value): E.164 phones, lower-cased emails, trimmed ids."""
    canonical_kind = ALIASES.get(kind.strip().lower(), kind.strip().lower())
    if canonical_kind not in KINDS:
        known = ", ".join(sorted(KINDS | set(ALIASES)))
        raise InvalidInput(f"unknown identity kind {kind!r}; known: {known}", field=f"{field}.kind")
    text = value.strip()
    if not text:
        raise InvalidInput("identity value is empty", field=f"{field}.value")
    if canonical_kind == PHONE:
        return PHONE, e164(text, field=f"{field}.value")
    if canonical_kind == EMAIL:
        return EMAIL, email(text, field=f"{field}.value")
    return canonical_kind, text


def e164(number: str, *, field: str) -> str:
    """A phone number in E.164 (a WhatsApp id like 15551234567 gets its + back)."""
    digits = number.removeprefix("whatsapp:").strip()
    if not digits.startswith("+"):
        digits = "+" + digits.lstrip("0")
    try:
        parsed = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(f"not a phone number: {number!r}", field=field) from error
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(f"not a possible phone number: {number!r}", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email(address: str, *, field: str) -> str:
    """A lower-cased email address."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or "." not in domain or " " in address.strip():
        raise InvalidInput(f"not an email address: {address!r}", field=field)
    return f"{local}@{domain}".lower()
