"""Queues and the skills they require."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnidesk.db import Base, JsonDocument, new_id


class Queue(Base):
    """Where contacts wait for an agent; the routing engine reads its settings."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    priority: Mapped[int] = mapped_column(default=0)
    strategy: Mapped[str] = mapped_column(String(32), default="longest_idle")
    service_level_seconds: Mapped[int] = mapped_column(default=20)
    service_level_goal_pct: Mapped[float] = mapped_column(default=80.0)
    short_abandon_seconds: Mapped[int] = mapped_column(default=5)
    offer_timeout_seconds: Mapped[int] = mapped_column(default=20)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    business_hours: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    ageing_per_second: Mapped[float] = mapped_column(default=0.0)
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)
    max_wait_seconds: Mapped[int | None] = mapped_column(default=None)
    max_size: Mapped[int | None] = mapped_column(default=None)
    outcomes: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)

    required_skills: Mapped[list[QueueSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")


class QueueSkill(Base):
    """A skill a queue requires, with the minimum proficiency."""

    __tablename__ = "queue_skills"
    __table_args__ = (
        CheckConstraint("min_proficiency BETWEEN 1 AND 5", name="min_proficiency_range"),)

    queue_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    min_proficiency: Mapped[int] = mapped_column(default=1)
