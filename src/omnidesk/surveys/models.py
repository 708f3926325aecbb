"""Surveys sent after a contact closed, and their answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, UtcDateTime, new_id


class Survey(Base):
    """One survey for one closed interaction: sent, then answered, skipped or expired."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("interaction_id", "kind"),
        Index("ix_surveys_tenant_customer_status", "tenant_id", "customer_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"))
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), default=None)
    kind: Mapped[str] = mapped_column(String(8))  # csat | nps
    via: Mapped[str] = mapped_column(String(8))  # message | link
    status: Mapped[str] = mapped_column(String(16), default="sent")
    score: Mapped[int | None] = mapped_column(default=None)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
