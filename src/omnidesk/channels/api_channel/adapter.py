"""The API channel's inbound endpoint: signed, idempotent, acknowledged after commit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import IntegrityError

from omnidesk.channels import registry, service
from omnidesk.channels.api_channel.mapping import ApiAccepted, ApiInboundMessage, to_inbound
from omnidesk.channels.api_channel.signature import verify
from omnidesk.channels.inbound import accept_inbound
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.channels.provider_webhook import load_channel
from omnidesk.db import Database, session_now
from omnidesk.deps import DbDep
from omnidesk.errors import InvalidInput

router = APIRouter(prefix="/channels/api", tags=["channels"])
KIND = "api"


class ApiChannelSettings(BaseModel):
    """An API channel has no settings of its own; a flow may read any key of them."""

    model_config = ConfigDict(extra="allow")


registry.register_settings(KIND, ApiChannelSettings)


def _parse(body: bytes) -> ApiInboundMessage:
    try:
        return ApiInboundMessage.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from error


async def _store(db: Database, channel: Channel, payload: ApiInboundMessage,
                 key: str | None) -> tuple[ApiAccepted, bool]:
    """Store the message (once per key); returns the answer and whether it was a replay."""
    scope = f"channel:{channel.id}"
    async with db.write() as session:
        if key and (earlier := await service.find_idempotent(
                session, tenant_id=channel.tenant_id, scope=scope, key=key)):
            return ApiAccepted.model_validate(earlier.response), True
        accepted = await accept_inbound(session, channel, to_inbound(payload),
                                        actor=f"channel:{channel.id}")
        answer = ApiAccepted(interaction_id=str(accepted.interaction.id),
                             message_id=str(accepted.message.id),
                             customer_id=str(accepted.interaction.customer_id),
                             interaction_state=accepted.interaction.state.value)
        if key:
            session.add(IdempotencyRecord(tenant_id=channel.tenant_id, scope=scope, key=key,
                                          response=answer.model_dump(),
                                          created_at=session_now(session)))
    return answer, False


@router.post("/{channel_id}/messages", response_model=ApiAccepted, status_code=202,
             responses={401: {}, 403: {}, 404: {}, 422: {}})
async def receive_message(
    channel_id: uuid.UUID, request: Request, response: Response, db: DbDep,
    x_omnidesk_signature: Annotated[str | None, Header()] = None,
    x_omnidesk_timestamp: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ApiAccepted:
    """A customer message from an external system; answered 202 only after it is stored."""
    channel = await load_channel(request, channel_id, KIND, "API")
    body = await request.body()
    verify(channel.secret, signature=x_omnidesk_signature, timestamp=x_omnidesk_timestamp,
           body=body, now=db.clock.now().timestamp())
    payload = _parse(body)
    key = idempotency_key or payload.external_id
    try:
        answer, replayed = await _store(db, channel, payload, key)
    except IntegrityError:  # a concurrent twin with the same key committed first
        answer, replayed = await _store(db, channel, payload, key)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer

