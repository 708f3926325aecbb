"""The API channel's payload and its mapping to an inbound message."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from omnidesk.channels.inbound import InboundMessage
from omnidesk.customers.schemas import IdentityIn
from omnidesk.interactions.schemas import Attachment
from omnidesk.schemas import WriteModel


class ApiCustomer(WriteModel):
    """Who wrote: one identity and an optional display name."""

    identity: IdentityIn
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class ApiInboundMessage(WriteModel):
    """What an external system posts to the API channel."""

    customer: ApiCustomer
    text: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    subject: Annotated[str, StringConstraints(max_length=300)] = ""
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    attachments: list[Attachment] = []
    attributes: dict[str, Any] = {}
    priority: Annotated[int, Field(ge=0, le=100)] = 0


class ApiAccepted(WriteModel):
    """The answer: where the message landed."""

    interaction_id: str
    message_id: str
    customer_id: str
    interaction_state: str


def to_inbound(payload: ApiInboundMessage) -> InboundMessage:
    """The channel-neutral inbound message."""
    return InboundMessage(
        identity_kind=payload.customer.identity.kind,
        identity_value=payload.customer.identity.value,
        display_name=payload.customer.name, body=payload.text, subject=payload.subject,
        external_id=payload.external_id, attributes=payload.attributes,
        attachments=[attachment.model_dump() for attachment in payload.attachments],
        priority=payload.priority)
