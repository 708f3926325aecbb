"""Interactions and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, JsonDocument, UtcDateTime, new_id
from omnidesk.interactions.states import InteractionState


class Interaction(Base):
    """One contact: a call, a chat, an email thread … from arrival to closed or abandoned."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_tenant_state", "tenant_id", "state"),
        Index("ix_interactions_tenant_customer", "tenant_id", "customer_id"),
        # An agent's contacts in a state (every wrap-up and close counts them).
        Index("ix_interactions_tenant_agent_state", "tenant_id", "agent_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), default=None)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    queue_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("queues.id", ondelete="SET NULL"), default=None)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    priority: Mapped[int] = mapped_column(default=0)
    state: Mapped[InteractionState] = mapped_column(
        Enum(InteractionState, name="interaction_state", native_enum=False, length=24,
             values_callable=lambda states: [s.value for s in states]))
    subject: Mapped[str] = mapped_column(String(300), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message_count: Mapped[int] = mapped_column(default=0)

    @property
    def required_skills(self) -> list[str]:
        """The skills the contact itself needs, beyond its queue's (a flow's queue step put
        them in `attributes.flow.skills`)."""
        flow = self.attributes.get("flow")
        skills = flow.get("skills") if isinstance(flow, dict) else None
        return [str(skill) for skill in skills] if isinstance(skills, list) else []


class Message(Base):
    """A message in an interaction (numbered from 1), from the customer, an agent, a bot …"""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("interaction_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"))
    position: Mapped[int]
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(64), default=None)
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)
    # A bot message's choices [{"value": "1", "label": "Orders"}] (web chat shows buttons).
    options: Mapped[list[dict[str, str]] | None] = mapped_column(JsonDocument, default=None)
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MessageAttachment(Base):
    """A file attached to a message (an inbound mail's part, or an agent's upload, which has
    no message until the agent sends it); the bytes live under the data directory."""

    __tablename__ = "message_attachments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True, default=None)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InteractionNote(Base):
    """A note on an interaction for staff only (never sent to the customer); a `consult` note
    asks a supervisor (one, or any when `to_user_id` is empty) for help."""

    __tablename__ = "interaction_notes"
    __table_args__ = (Index("ix_interaction_notes_interaction", "interaction_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="note")
    author_id: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    to_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Disposition(Base):
    """A reason code an agent picks at wrap-up; when a tenant has any, closing with another
    code through the API is refused."""

    __tablename__ = "dispositions"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    resolved: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
