"""Skills, teams, agents and their skill proficiencies."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnidesk.db import Base, JsonDocument, UtcDateTime, new_id


class AgentState(enum.StrEnum):
    """Where an agent is; only AVAILABLE receives offers."""

    AVAILABLE = "available"
    BREAK = "break"
    LUNCH = "lunch"
    TRAINING = "training"
    AFTER_CALL_WORK = "after_call_work"
    MISSED = "missed"
    OFFLINE = "offline"


class Skill(Base):
    """A named skill of a tenant (language, product, channel know-how)."""

    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Team(Base):
    """A group of agents (for escalation to another team and reporting)."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Agent(Base):
    """A user who handles contacts, with skills, per-channel capacity and a state."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[dict[str, int]] = mapped_column(JsonDocument, default=dict)
    # [{queue, priority, delay_seconds}] by queue name; None: every queue, by queue priority
    routing_profile: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonDocument,
                                                                        default=None)
    state: Mapped[AgentState] = mapped_column(
        Enum(AgentState, name="agent_state", native_enum=False, length=20,
             values_callable=lambda states: [s.value for s in states]),
        default=AgentState.OFFLINE)
    state_reason: Mapped[str | None] = mapped_column(String(100), default=None)
    state_since: Mapped[datetime] = mapped_column(UtcDateTime)

    skills: Mapped[list[AgentSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")


class AgentSkill(Base):
    """An agent's proficiency (1–5) in one skill."""

    __tablename__ = "agent_skills"
    __table_args__ = (CheckConstraint("proficiency BETWEEN 1 AND 5", name="proficiency_range"),)

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    proficiency: Mapped[int]
