"""knowledge base articles, full-text index, surveys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:10:00.000000

The full-text index is the database's own: SQLite FTS5 (an external-content virtual table over
`kb_articles`, kept in sync by triggers) or a PostgreSQL generated `tsvector` column with a GIN
index. Neither is in the ORM metadata (`omnidesk.knowledge.models.FTS_OBJECTS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# Columns indexed, in this order (bm25 weights in omnidesk.knowledge.search follow it).
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE kb_articles_fts USING fts5(
        title, keywords, plain_text,
        content='kb_articles', content_rowid='doc_id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(rowid, title, keywords, plain_text)
        VALUES (new.doc_id, new.title, new.keywords, new.plain_text);
    END""",
    """CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, keywords, plain_text)
        VALUES ('delete', old.doc_id, old.title, old.keywords, old.plain_text);
    END""",
    """CREATE TRIGGER kb_articles_fts_update AFTER UPDATE ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, keywords, plain_text)
        VALUES ('delete', old.doc_id, old.title, old.keywords, old.plain_text);
        INSERT INTO kb_articles_fts(rowid, title, keywords, plain_text)
        VALUES (new.doc_id, new.title, new.keywords, new.plain_text);
    END""",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS kb_articles_fts_update",
    "DROP TRIGGER IF EXISTS kb_articles_fts_delete",
    "DROP TRIGGER IF EXISTS kb_articles_fts_insert",
    "DROP TABLE IF EXISTS kb_articles_fts",
]
POSTGRES_FTS = [
    """ALTER TABLE kb_articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(keywords, '')), 'B')
        || setweight(to_tsvector('english', coalesce(plain_text, '')), 'C')
    ) STORED""",
    "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search_vector)",
    "CREATE SEQUENCE kb_articles_doc_id_seq OWNED BY kb_articles.doc_id",
]
POSTGRES_FTS_DROP = [
    "DROP INDEX IF EXISTS ix_kb_articles_search",
    "ALTER TABLE kb_articles DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("doc_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("plain_text", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_kb_articles_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("doc_id", name=op.f("uq_kb_articles_doc_id")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_kb_articles_tenant_id_slug")),
    )
    op.create_index("ix_kb_articles_tenant_status_category", "kb_articles",
                    ["tenant_id", "status", "category"], unique=False)
    op.create_table(
        "surveys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_surveys_tenant_id_tenants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"],
                                name=op.f("fk_surveys_interaction_id_interactions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_surveys_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"],
                                name=op.f("fk_surveys_channel_id_channels"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("interaction_id", "kind", name=op.f("uq_surveys_interaction_id_kind")),
    )
    op.create_index("ix_surveys_tenant_customer_status", "surveys",
                    ["tenant_id", "customer_id", "status"], unique=False)
    dialect = op.get_context().dialect.name
    statements = {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect, [])
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    statements = {"sqlite": SQLITE_FTS_DROP, "postgresql": POSTGRES_FTS_DROP}.get(dialect, [])
    for statement in statements:
        op.execute(statement)
    op.drop_index("ix_surveys_tenant_customer_status", table_name="surveys")
    op.drop_table("surveys")
    op.drop_index("ix_kb_articles_tenant_status_category", table_name="kb_articles")
    op.drop_table("kb_articles")
