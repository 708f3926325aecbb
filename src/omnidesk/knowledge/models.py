"""Knowledge-base articles.

The full-text index is not part of this metadata: on SQLite it is the FTS5 virtual table
`kb_articles_fts` (external content = this table, kept in sync by triggers), on PostgreSQL the
generated `tsvector` column `search_vector` with a GIN index. Both are created by migration
0004 (see `FTS_OBJECTS`, which the schema comparison ignores).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, BigId, JsonDocument, UtcDateTime, new_id

# Database objects of the full-text index that live outside the ORM metadata.
FTS_TABLE = "kb_articles_fts"
FTS_OBJECTS = frozenset({
    FTS_TABLE, f"{FTS_TABLE}_data", f"{FTS_TABLE}_idx", f"{FTS_TABLE}_docsize",
    f"{FTS_TABLE}_config", f"{FTS_TABLE}_content", "search_vector", "ix_kb_articles_search",
})


def is_fts_object(name: str | None) -> bool:
    """True for a table, column or index of the full-text index (kept out of the models)."""
    return name in FTS_OBJECTS


class ArticleStatus(enum.StrEnum):
    """Drafts are seen by staff only; published articles by agents, flows and the help center."""

    DRAFT = "draft"
    PUBLISHED = "published"


class Article(Base):
    """A knowledge-base article: markdown body, one category, free tags."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_kb_articles_tenant_status_category", "tenant_id", "status", "category"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The integer key of the row in SQLite's FTS5 index (content_rowid); unique per table.
    doc_id: Mapped[int] = mapped_column(BigId, unique=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), default="general")
    tags: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    body: Mapped[str] = mapped_column(Text)
    # The body as plain text (markdown removed): what is indexed and what snippets quote.
    plain_text: Mapped[str] = mapped_column(Text)
    # Title, category and tags as one line of words, indexed with the title's weight.
    keywords: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ArticleStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
