"""Attachments: the upload endpoint's limits, and who may download a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omnidesk.config import Settings
from tests.channels.conversation import messages
from tests.channels.webchat.conftest import Visitor
from tests.conftest import Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def _url(chat: dict[str, Any]) -> str:
    return f"/api/v1/channels/webchat/{chat['id']}/uploads"


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "webchat"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def test_an_uploaded_file_goes_with_a_message_and_only_its_visitor_and_staff_see_it(
        api: Api, admin: dict[str, str], chat: dict[str, Any], visitor: Visitor,
        served: str, settings: Settings) -> None:
    await visitor.start()
    uploaded = await api.client.post(_url(chat), params={"filename": "../../receipt.png"},
                                     content=PNG, headers={"Content-Type": "image/png",
                                                           "X-Visitor-Token": visitor.token})
    assert uploaded.status_code == 201, uploaded.text
    upload = uploaded.json()
    assert upload["filename"] == "receipt.png" and upload["size"] == len(PNG)
    ack = await visitor.say("my receipt", "c-1", attachments=[upload["id"]])
    shown = await visitor.next("message", id=ack["message_id"])
    assert shown["attachments"] == [{"filename": "receipt.png", "content_type": "image/png",
                                     "size": len(PNG), "url": upload["url"]}]
    stored = (await messages(api, admin, ack["interaction_id"]))[0]
    assert stored["attachments"][0]["url"] == upload["url"]

    mine = await api.client.get(upload["url"], headers={"X-Visitor-Token": visitor.token})
    assert mine.status_code == 200 and mine.content == PNG
    assert mine.headers["content-type"] == "image/png"
    assert mine.headers["x-content-type-options"] == "nosniff"
    staff = await api.client.get(upload["url"], headers=admin)
    assert staff.status_code == 200 and staff.content == PNG

    other = Visitor(served, chat["id"])
    try:
        await other.connect()
    finally:
        await other.close()
    theirs = await api.client.get(upload["url"], headers={"X-Visitor-Token": other.token})
    assert theirs.status_code == 404
    assert (await api.client.get(upload["url"])).status_code == 401
    assert [path.name for path in _stored_files(settings)] == [upload["id"]]


async def test_another_visitors_upload_cannot_be_attached(
        api: Api, chat: dict[str, Any], visitor: Visitor, served: str) -> None:
    other = Visitor(served, chat["id"])
    try:
        await other.connect()
        theirs = await api.client.post(_url(chat), content=PNG, headers={
            "Content-Type": "image/png", "X-Visitor-Token": other.token})
    finally:
        await other.close()
    await visitor.start()
    await visitor.send({"type": "message", "client_id": "c-1", "text": "look",
                        "attachments": [theirs.json()["id"]]})
    error = await visitor.next("error", ref="c-1")
    assert error["field"] == "attachments[0]"


async def test_a_file_over_the_channels_limit_is_refused_naming_the_field(
        api: Api, chat: dict[str, Any], visitor: Visitor, settings: Settings) -> None:
    await visitor.connect()
    too_big = await api.client.post(_url(chat), content=b"x" * 1025, headers={
        "Content-Type": "image/png", "X-Visitor-Token": visitor.token})
    assert too_big.status_code == 413
    assert too_big.json()["error"]["field"] == "file"
    assert "1024 bytes" in too_big.json()["error"]["message"]
    assert _stored_files(settings) == []


async def test_a_content_type_the_channel_does_not_accept_is_refused(
        api: Api, chat: dict[str, Any], visitor: Visitor) -> None:
    await visitor.connect()
    refused = await api.client.post(_url(chat), content=b"<script>", headers={
        "Content-Type": "text/html", "X-Visitor-Token": visitor.token})
    assert refused.status_code == 415
    assert refused.json()["error"]["field"] == "content_type"
    empty = await api.client.post(_url(chat), content=b"", headers={
        "Content-Type": "image/png", "X-Visitor-Token": visitor.token})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "file"


async def test_an_upload_without_a_valid_visitor_token_is_refused(
        api: Api, chat: dict[str, Any], visitor: Visitor) -> None:
    await visitor.connect()
    assert visitor.token is not None
    missing = await api.client.post(_url(chat), content=PNG,
                                    headers={"Content-Type": "image/png"})
    assert missing.status_code == 401 and missing.json()["error"]["field"] == "visitor_token"
    forged = await api.client.post(_url(chat), content=PNG, headers={
        "Content-Type": "image/png", "X-Visitor-Token": visitor.token[:-3] + "abc"})
    assert forged.status_code == 401 and forged.json()["error"]["field"] == "visitor_token"


async def test_a_page_on_an_allowed_origin_gets_cors_headers(
        api: Api, chat: dict[str, Any], visitor: Visitor) -> None:
    await visitor.connect()
    preflight = await api.client.options(_url(chat), headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    refused = await api.client.post(_url(chat), content=b"x" * 2000, headers={
        "Origin": "https://shop.example", "Content-Type": "image/png",
        "X-Visitor-Token": visitor.token})
    assert refused.headers["access-control-allow-origin"] == "https://shop.example"


async def test_staff_of_another_tenant_cannot_download_an_upload(
        api: Api, chat: dict[str, Any], visitor: Visitor) -> None:
    from tests.channels.webchat.seeding import seed_upload
    from tests.conftest import make_tenant

    upload_id = await seed_upload(api, chat["id"])
    await make_tenant(api.db, "rival", admin_email="admin@rival.example")
    rival = await api.login("rival", "admin@rival.example")
    response = await api.client.get(f"{_url(chat)}/{upload_id}", headers=rival)
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "channel_id"
