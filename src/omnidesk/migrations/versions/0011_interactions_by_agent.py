"""interactions by agent and state: an agent's open contacts without a scan of the tenant's

Every wrap-up and close counts the agent's other contacts in a state; by (tenant, state) alone
that read every contact of the tenant in that state (hundreds under load).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 21:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_interactions_tenant_agent_state", "interactions",
                    ["tenant_id", "agent_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_interactions_tenant_agent_state", table_name="interactions")
