"""web chat: visitor sessions and uploads

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webchat_visitors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("interaction_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_webchat_visitors_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"],
                                name=op.f("fk_webchat_visitors_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_webchat_visitors_customer_id_customers"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"],
                                name=op.f("fk_webchat_visitors_interaction_id_interactions"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_visitors")),
    )
    with op.batch_alter_table("webchat_visitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webchat_visitors_channel_id"), ["channel_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_webchat_visitors_customer_id"), ["customer_id"],
                              unique=False)
    op.create_table(
        "webchat_uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("visitor_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_webchat_uploads_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"],
                                name=op.f("fk_webchat_uploads_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["visitor_id"], ["webchat_visitors.id"],
                                name=op.f("fk_webchat_uploads_visitor_id_webchat_visitors"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_uploads")),
    )
    with op.batch_alter_table("webchat_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webchat_uploads_visitor_id"), ["visitor_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webchat_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_uploads_visitor_id"))
    op.drop_table("webchat_uploads")
    with op.batch_alter_table("webchat_visitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_visitors_customer_id"))
        batch_op.drop_index(batch_op.f("ix_webchat_visitors_channel_id"))
    op.drop_table("webchat_visitors")
