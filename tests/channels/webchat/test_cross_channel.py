"""One person on four channels: SMS and WhatsApp from one phone, then a web chat where they
give their email, then an email from that address — one customer after one merge, one
timeline in order."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from omnidesk.channels.email.server import deliver
from omnidesk.clock import FixedClock
from tests.channels.twilio import test_twilio as sms
from tests.channels.webchat.conftest import Visitor
from tests.channels.webchat.test_handover import _email_channel
from tests.channels.whatsapp import test_whatsapp as wa
from tests.conftest import Api


async def _customer_by(api: Api, admin: dict[str, str], identity: str) -> dict[str, Any]:
    found = await api.client.get("/api/v1/customers", headers=admin,
                                 params={"identity": identity})
    assert found.status_code == 200, found.text
    (customer,) = found.json()
    return customer  # type: ignore[no-any-return]


def _mail(text: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ana Lima <Ana@Example.com>"
    mail["To"] = "support@acme.example"
    mail["Subject"] = "My order 1234, again"
    mail["Message-ID"] = "<ana-1234@example.com>"
    mail.set_content(text)
    return mail.as_bytes()


async def test_sms_whatsapp_chat_and_email_become_one_customer_with_one_timeline(
        api: Api, admin: dict[str, str], served: str, chat: dict[str, Any],
        clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDESK_TEST_WA_VERIFY", wa.VERIFY_TOKEN)
    sms_channel = await sms.make_channel(api, admin)
    wa_channel = await wa.make_channel(api, admin)
    mail_channel = await _email_channel(api, admin, port=1)  # replies are not sent here

    texted = await sms.post_inbound(api, sms_channel, sms.fixture("sms_inbound.txt"))
    assert texted.status_code == 200, texted.text
    clock.advance(60)
    wrote = await wa.post_webhook(api, wa_channel, wa.fixture("text_message.json"))
    assert wrote.status_code == 200, wrote.text
    phone = await _customer_by(api, admin, "phone:+14155550134")

    clock.advance(60)
    visitor = Visitor(served, chat["id"])
    try:
        await visitor.start(name="Ana Lima", email="ana@example.com")
        await visitor.say("Hello from your website", "c-1")
    finally:
        await visitor.close()
    clock.advance(60)
    await deliver(api.db, _mail("Any news about order 1234?"), mail_from="ana@example.com",
                  channel_ids=[uuid.UUID(mail_channel["id"])],
                  data_dir=api.app.state.settings.data_dir)

    by_email = await _customer_by(api, admin, "email:ana@example.com")
    kinds = {identity["kind"] for identity in by_email["identities"]}
    assert kinds == {"email", "chat"}  # the chat visitor became the email customer
    assert by_email["id"] != phone["id"]  # nothing ties a phone to an address but a person

    merged = await api.client.post(f"/api/v1/customers/{by_email['id']}/merge", headers=admin,
                                   json={"other_customer_id": phone["id"]})
    assert merged.status_code == 200, merged.text
    assert await _customer_by(api, admin, "phone:+14155550134") == \
        await _customer_by(api, admin, "email:ana@example.com")
    timeline = await api.client.get(f"/api/v1/customers/{by_email['id']}/timeline",
                                    headers=admin)
    assert timeline.status_code == 200, timeline.text
    assert [(entry["channel"], [m["body"] for m in entry["messages"]])
            for entry in timeline.json()] == [
        ("twilio", ["Where is my order 1234?"]),
        ("whatsapp", ["Is my parcel on its way?"]),
        ("webchat", ["Hello from your website"]),
        ("email", ["Any news about order 1234?"])]
