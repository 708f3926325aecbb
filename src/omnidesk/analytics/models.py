"""Analytics tables: 15-minute aggregate rows, the fill checkpoint, pending FCR, settings.

The aggregate rows hold the additive `Measures` of one tenant, 15-minute interval (UTC start)
and dimension values; hours and days of the tenant's zone are sums of them. A dimension that
does not apply is stored as '' (NULLs would defeat the upsert's conflict target). A measure
that is zero is stored as NULL (most of a row's are): it takes no space and SUM skips it.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Table, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.analytics.measures import Measures
from omnidesk.db import Base, BigId, JsonDocument, UtcDateTime

KEY_DIMENSIONS = ("queue", "agent", "channel", "disposition", "role")
"""The dimensions every aggregate row is keyed by (role: the agent's cost role)."""

WEIGHTED = "weighted_busy_units_us"
WEIGHTED_COLUMNS = ("weighted_busy_load_us", "weighted_busy_rem")
"""weighted_busy_units_us = load_us × LOAD_SCALE + rem: two columns, so SUM never overflows."""

MEASURE_FIELDS = tuple(
    f.name for f in fields(Measures) if f.name not in ("logged_in_us_by_role", WEIGHTED)
)
"""Measures stored one column each (logged-in time by role comes from the `role` key)."""


def _dimension(name: str) -> Column[str]:
    return Column(name, String(64), primary_key=True, server_default="")


def _measure(name: str) -> Column[int | None]:
    return Column(name, BigInteger, nullable=True)


analytics_intervals = Table(
    "analytics_intervals",
    Base.metadata,
    Column("tenant_id", Uuid, primary_key=True),  # no foreign key: see PendingFcr
    Column("interval_start", UtcDateTime, primary_key=True),
    *(_dimension(name) for name in KEY_DIMENSIONS),
    *(_measure(name) for name in (*MEASURE_FIELDS, *WEIGHTED_COLUMNS)),
)
"""Additive measures per tenant, 15-minute interval and (queue, agent, channel, ...)."""


class FillCheckpoint(Base):
    """Per tenant: the last event seq folded into the aggregates, and the agents' clocks."""

    __tablename__ = "analytics_fill_checkpoints"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigId, default=0)
    agents: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    filled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class PendingFcr(Base):
    """A resolved closure whose FCR window has not passed yet (keyed by its event seq)."""

    __tablename__ = "analytics_pending_fcr"

    # No foreign key to tenants, here or on analytics_intervals (migration 0009): the fill
    # writes both in bulk, where a check per row cost a quarter of PostgreSQL's work, and
    # only in the transaction that moves the tenant's checkpoint, which keeps its key.
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    customer_id: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dims: Mapped[list[str | None]] = mapped_column(JsonDocument)
    contacted_again: Mapped[bool] = mapped_column(Boolean, default=False)


class AnalyticsSettings(Base):
    """Per tenant: the cost model and each queue's service-level variant (a JSON document)."""

    __tablename__ = "analytics_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
