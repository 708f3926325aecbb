"""The same person on SMS (Twilio) and WhatsApp (Cloud API): one customer, one timeline."""

from __future__ import annotations

import pytest

from omnidesk.clock import FixedClock
from tests.channels.twilio import test_twilio as sms
from tests.channels.whatsapp import test_whatsapp as wa
from tests.conftest import Api, make_tenant


async def test_sms_and_whatsapp_from_one_phone_are_one_customer_with_one_timeline(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDESK_TEST_WA_VERIFY", wa.VERIFY_TOKEN)
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    sms_channel = await sms.make_channel(api, admin)
    wa_channel = await wa.make_channel(api, admin)

    # +1 415 555 0134 texts the SMS number, then writes on WhatsApp (wa_id 14155550134).
    texted = await sms.post_inbound(api, sms_channel, sms.fixture("sms_inbound.txt"))
    assert texted.status_code == 200, texted.text
    clock.advance(600)
    wrote = await wa.post_webhook(api, wa_channel, wa.fixture("text_message.json"))
    assert wrote.status_code == 200, wrote.text

    found = await api.client.get("/api/v1/customers", headers=admin,
                                 params={"identity": "phone:+14155550134"})
    (customer,) = found.json()
    assert customer["identities"] == [{"kind": "phone", "value": "+14155550134"}]
    timeline = await api.client.get(f"/api/v1/customers/{customer['id']}/timeline",
                                    headers=admin)
    assert timeline.status_code == 200
    assert [(entry["channel"], [m["body"] for m in entry["messages"]])
            for entry in timeline.json()] == [
        ("twilio", ["Where is my order 1234?"]),
        ("whatsapp", ["Is my parcel on its way?"])]
