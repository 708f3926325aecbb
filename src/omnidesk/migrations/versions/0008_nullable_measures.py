"""analytics measures nullable: a zero measure is stored as NULL

Nine in ten of an aggregate row's measures are zero; as NULLs they take no space (the table
halves) and cost the fill's COPY and PostgreSQL nothing to write. SUM skips NULLs; the fill's
upsert adds with COALESCE; rows written before keep their zeros, which mean the same.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 04:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = (
    "offered",
    "queue_exits",
    "queue_time_us",
    "handled",
    "answer_time_us",
    "handled_within_sl",
    "abandoned",
    "abandon_time_us",
    "short_abandoned",
    "callbacks",
    "left_within_sl",
    "handles_completed",
    "talk_us",
    "hold_us",
    "acw_us",
    "transferred",
    "busy_us",
    "idle_us",
    "logged_in_us",
    "away_us",
    "csat_answers",
    "csat_satisfied",
    "csat_score_sum",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
    "self_service_entered",
    "self_service_contained",
    "fcr_resolved_closed",
    "fcr_first_contact",
    "voice_us",
    "sms_contacts",
    "outbound_live_answered",
    "outbound_abandoned",
    "weighted_busy_load_us",
    "weighted_busy_rem",
)


def upgrade() -> None:
    with op.batch_alter_table("analytics_intervals", schema=None) as batch_op:
        for name in MEASURES:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=True,
                                  server_default=None, existing_server_default="0")


def downgrade() -> None:
    for name in MEASURES:
        op.execute(f"UPDATE analytics_intervals SET {name} = 0 WHERE {name} IS NULL")  # noqa: S608
    with op.batch_alter_table("analytics_intervals", schema=None) as batch_op:
        for name in MEASURES:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=False,
                                  server_default="0")
