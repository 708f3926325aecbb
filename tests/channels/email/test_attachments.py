"""Attachments: an inbound mail's files stored and downloadable, an agent's file mailed."""

from __future__ import annotations

import smtplib
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from omnidesk.config import Settings
from omnidesk.interactions import attachments
from tests.channels.email.conftest import Mailroom, Sink, fixture
from tests.conftest import eventually, make_tenant

UPLOAD_LIMIT = 4096
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The mailroom's settings with a small limit on agents' uploads."""
    return settings.model_copy(update={"attachment_max_bytes": UPLOAD_LIMIT})


def _sent_files(raw: bytes) -> list[tuple[str, bytes]]:
    """(filename, bytes) of each attachment of a mail, as its recipient decodes them."""
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return [(str(part.get_filename()), part.get_payload(decode=True))
            for part in mail.iter_attachments()]


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / attachments.FOLDER
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def _mailed(mailroom: Mailroom) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ana's mail with two attachments sent by smtplib: its interaction and message."""
    assert await mailroom.send(fixture("multipart_attachment.eml")) == {}
    (interaction,) = await mailroom.interactions()
    (message,) = await mailroom.messages(interaction["id"])
    return interaction, message


async def test_an_attachment_sent_over_smtp_downloads_byte_for_byte(
        mailroom: Mailroom, settings: Settings) -> None:
    interaction, message = await _mailed(mailroom)
    expected = _sent_files(fixture("multipart_attachment.eml"))
    assert [(a["filename"], a["size"]) for a in message["attachments"]] == [
        (name, len(data)) for name, data in expected]
    for attachment, (_, data) in zip(message["attachments"], expected, strict=True):
        assert attachment["url"] == (f"/api/v1/interactions/{interaction['id']}/attachments/"
                                     f"{attachment['id']}")
        response = await mailroom.download(attachment["url"])
        assert response.status_code == 200, response.text
        assert response.content == data
        assert response.headers["content-type"].startswith(attachment["content_type"])
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "filename*=utf-8''facture-%C3%A9t%C3%A9.pdf" in (
        await mailroom.download(message["attachments"][0]["url"])).headers["content-disposition"]
    assert len(_stored_files(settings)) == 2


async def test_staff_of_another_tenant_get_404_not_the_file(mailroom: Mailroom) -> None:
    interaction, message = await _mailed(mailroom)
    await make_tenant(mailroom.api.db, "rival", admin_email="admin@rival.example")
    rival = await mailroom.api.login("rival", "admin@rival.example")
    url = message["attachments"][0]["url"]
    response = await mailroom.download(url, headers=rival)
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "interaction_id"
    assert (await mailroom.download(url, headers={})).status_code == 401
    elsewhere = f"/api/v1/interactions/{interaction['id']}/attachments/{uuid.uuid4()}"
    missing = await mailroom.download(elsewhere)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "attachment_id"


async def test_a_resent_mail_stores_its_files_once(mailroom: Mailroom,
                                                   settings: Settings) -> None:
    _, message = await _mailed(mailroom)
    assert await mailroom.send(fixture("multipart_attachment.eml")) == {}
    assert [path.name for path in _stored_files(settings)] == sorted(
        a["id"] for a in message["attachments"])


async def test_files_of_a_mail_whose_commit_fails_are_removed(
        mailroom: Mailroom, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store_for_message = attachments.store_for_message

    async def store_then_fail(*args: Any, **kwargs: Any) -> None:
        await store_for_message(*args, **kwargs)
        assert len(_stored_files(settings)) == 2  # written, fsynced, not committed yet
        raise RuntimeError("the database went away")

    monkeypatch.setattr(attachments, "store_for_message", store_then_fail)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await mailroom.send(fixture("multipart_attachment.eml"))
    assert refused.value.smtp_code == 451
    assert _stored_files(settings) == []
    assert await mailroom.interactions() == []


async def _upload(mailroom: Mailroom, interaction_id: str, content: bytes, *,
                  content_type: str = "application/pdf",
                  filename: str = "refund-note.pdf") -> Any:
    return await mailroom.api.client.post(
        f"/api/v1/interactions/{interaction_id}/attachments", params={"filename": filename},
        content=content, headers={**mailroom.admin, "Content-Type": content_type})


async def test_an_agents_reply_carries_the_uploaded_file_to_the_relay(
        mailroom: Mailroom, sink: Sink) -> None:
    interaction, _ = await _mailed(mailroom)
    uploaded = await _upload(mailroom, interaction["id"], PDF)
    assert uploaded.status_code == 201, uploaded.text
    upload = uploaded.json()
    assert (upload["filename"], upload["content_type"], upload["size"]) == (
        "refund-note.pdf", "application/pdf", len(PDF))
    posted = await mailroom.api.client.post(
        f"/api/v1/interactions/{interaction['id']}/messages", headers=mailroom.admin,
        json={"body": "Here is the refund note.", "attachments": [{"id": upload["id"]}]})
    assert posted.status_code == 201, posted.text
    assert posted.json()["attachments"] == [upload]

    sent = await sink.next_mail()
    body = sent.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "Here is the refund note."
    assert _sent_files(sent.as_bytes()) == [("refund-note.pdf", PDF)]
    (part,) = sent.iter_attachments()
    assert part.get_content_type() == "application/pdf"

    async def delivered() -> bool:
        messages = await mailroom.messages(interaction["id"])
        return messages[-1]["external_id"] == sent["Message-ID"]

    await eventually(delivered, "the reply recorded as delivered")
    assert (await mailroom.download(upload["url"])).content == PDF
    again = await mailroom.api.client.post(
        f"/api/v1/interactions/{interaction['id']}/messages", headers=mailroom.admin,
        json={"body": "Once more", "attachments": [{"id": upload["id"]}]})
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "attachments[0].id"


async def test_an_upload_over_the_limit_is_413_naming_the_file(
        mailroom: Mailroom, settings: Settings) -> None:
    interaction, _ = await _mailed(mailroom)
    too_big = await _upload(mailroom, interaction["id"], b"x" * (UPLOAD_LIMIT + 1))
    assert too_big.status_code == 413
    assert too_big.json()["error"]["field"] == "file"
    assert f"{UPLOAD_LIMIT} bytes" in too_big.json()["error"]["message"]
    assert len(_stored_files(settings)) == 2  # only the mail's own


async def test_an_upload_needs_a_content_type_and_some_bytes(mailroom: Mailroom) -> None:
    interaction, _ = await _mailed(mailroom)
    untyped = await mailroom.api.client.post(
        f"/api/v1/interactions/{interaction['id']}/attachments", content=PDF,
        headers={**mailroom.admin, "Content-Type": ""})
    assert untyped.status_code == 415
    assert untyped.json()["error"]["field"] == "content_type"
    empty = await _upload(mailroom, interaction["id"], b"")
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "file"
    named = await _upload(mailroom, interaction["id"], PDF, filename="../../etc/passwd")
    assert named.json()["filename"] == "passwd"


async def test_a_file_uploaded_to_another_interaction_cannot_be_attached(
        mailroom: Mailroom) -> None:
    interaction, _ = await _mailed(mailroom)
    other = fixture("latin1.eml")
    assert await mailroom.send(other) == {}
    second = next(i for i in await mailroom.interactions() if i["id"] != interaction["id"])
    upload = (await _upload(mailroom, second["id"], PDF)).json()
    posted = await mailroom.api.client.post(
        f"/api/v1/interactions/{interaction['id']}/messages", headers=mailroom.admin,
        json={"body": "Wrong one", "attachments": [{"filename": "a.txt",
                                                    "content_type": "text/plain", "size": 1},
                                                   {"id": upload["id"]}]})
    assert posted.status_code == 422
    assert posted.json()["error"]["field"] == "attachments[1].id"
