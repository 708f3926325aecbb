"""Configured channel instances and the idempotency records of inbound messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, JsonDocument, UtcDateTime, new_id


class Channel(Base):
    """One instance of a channel kind in a tenant, with its credentials and default queue."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(200))
    default_queue_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("queues.id", ondelete="SET NULL"), default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)


class IdempotencyRecord(Base):
    """The result of an inbound request, returned again when the same key comes back."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("tenant_id", "scope", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    response: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
