"""Identity normalisation: one person, one identity, whatever the channel wrote."""

from __future__ import annotations

import pytest

from omnidesk.customers.identities import normalise
from omnidesk.errors import InvalidInput


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("phone", "+33 6 12 34 56 78", ("phone", "+33612345678")),
    ("sms", "+1 (415) 555-0134", ("phone", "+14155550134")),
    ("whatsapp", "14155550134", ("phone", "+14155550134")),
    ("whatsapp", "whatsapp:+14155550134", ("phone", "+14155550134")),
    ("email", "  Ana.Lopez@Example.COM ", ("email", "ana.lopez@example.com")),
    ("chat", " visitor-42 ", ("chat", "visitor-42")),
    ("Telegram", "123456789", ("telegram", "123456789")),
])
def test_values_are_normalised(kind: str, value: str, expected: tuple[str, str]) -> None:
    assert normalise(kind, value) == expected


@pytest.mark.parametrize(("kind", "value", "field"), [
    ("phone", "hello", "identity.value"),
    ("phone", "+1 23", "identity.value"),
    ("email", "not-an-email", "identity.value"),
    ("fax", "123", "identity.kind"),
    ("chat", "   ", "identity.value"),
])
def test_bad_values_name_the_field(kind: str, value: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise(kind, value)
    assert raised.value.field == field
