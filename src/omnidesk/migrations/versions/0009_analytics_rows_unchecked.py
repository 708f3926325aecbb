"""analytics rows without a foreign key to tenants: the fill writes them in bulk

Every aggregate row and pending FCR closure the fill writes fired a foreign-key check (one
lookup of the tenant per row): a quarter of PostgreSQL's work in a 1,000,000-interaction
fill. Both tables are written only by the fill, in the transaction that moves the tenant's
checkpoint, and the checkpoint keeps its foreign key, so no row can name an unknown tenant.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("analytics_intervals", "analytics_pending_fcr")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_tenant_id_tenants", type_="foreignkey")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(f"fk_{table}_tenant_id_tenants", "tenants",
                                        ["tenant_id"], ["id"], ondelete="CASCADE")
