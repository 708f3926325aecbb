"""The Telegram bot webhook and the adapter that answers through the Bot API."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels import registry
from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.provider_webhook import (
    accept_once,
    load_channel,
    secret_from_env,
    settings_of,
    write_once,
)
from omnidesk.channels.telegram import client, mapping
from omnidesk.channels.telegram.config import TelegramSettings
from omnidesk.deps import DbDep
from omnidesk.errors import Forbidden, InvalidInput, Unauthorized

KIND = "telegram"
WEBHOOK_HEADER = "X-Telegram-Bot-Api-Secret-Token"
router = APIRouter(prefix="/channels/telegram", tags=["channels"])


@router.post("/{channel_id}/webhook", responses={401: {}, 403: {}, 404: {}, 422: {}})
async def receive_update(
    channel_id: uuid.UUID, request: Request, db: DbDep,
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> dict[str, bool]:
    """One update from Telegram; answered 200 only after its message is stored."""
    channel = await load_channel(request, channel_id, KIND, "Telegram")
    if not x_telegram_bot_api_secret_token:
        raise Unauthorized(f"missing {WEBHOOK_HEADER} header", field=WEBHOOK_HEADER.lower())
    if not hmac.compare_digest(channel.secret.encode(),
                               x_telegram_bot_api_secret_token.encode()):
        raise Forbidden(f"{WEBHOOK_HEADER} does not match", field=WEBHOOK_HEADER.lower())
    inbound = mapping.to_inbound(mapping.parse(await request.body()))
    if inbound is None:
        return {"stored": False}

    async def store(session: AsyncSession) -> bool:
        return await accept_once(session, channel, inbound) is not None

    return {"stored": await write_once(db, store)}


class TelegramAdapter:
    """Sends agents' replies to the customer's chat with the bot."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = mapping.IDENTITY_KIND

    async def send(self, message: OutboundMessage) -> str:
        """sendMessage for the text; sendPhoto / sendDocument for attachments with a url."""
        try:
            settings = settings_of(message.channel, TelegramSettings)
        except InvalidInput as error:
            raise DeliveryError(error.message) from error
        token = secret_from_env(settings.bot_token_env, setting="bot_token_env")
        chat_id = message.thread.get("chat_id") or message.recipient
        calls: list[tuple[str, dict[str, Any]]] = []
        if message.body:
            calls.append(("sendMessage", {"chat_id": chat_id, "text": message.body}))
        for attachment in message.attachments:
            if attachment.get("url"):
                photo = str(attachment.get("content_type", "")).startswith("image/")
                method, name = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
                calls.append((method, {"chat_id": chat_id, name: str(attachment["url"])}))
        if not calls:
            raise DeliveryError("nothing to send: no text and no attachment with a url")
        ids = [await client.call(base_url=settings.api_base_url, token=token, method=method,
                                 payload=payload) for method, payload in calls]
        return ids[0]


adapter = TelegramAdapter()
registry.register(adapter, TelegramSettings)
