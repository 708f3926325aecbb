"""The append-only event log table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, BigId, JsonDocument, UtcDateTime


class Event(Base):
    """One change, recorded forever; `seq` increases by one per tenant in commit order."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_events_tenant_type_time", "tenant_id", "type", "occurred_at"),
        Index("ix_events_tenant_subject", "tenant_id", "subject"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigId)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
