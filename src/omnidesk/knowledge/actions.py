"""Writes of the knowledge base, each recording its event (`knowledge.*`).

The full-text index follows the table by itself (SQLite triggers, PostgreSQL generated
column), in the same transaction as the write.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import session_now
from omnidesk.errors import Conflict, InvalidInput
from omnidesk.events.log import record
from omnidesk.interactions.models import Interaction
from omnidesk.knowledge import service
from omnidesk.knowledge.markdown import to_plain_text
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.schemas import ArticleCreate, ArticleUpdate

PUBLISHED = ArticleStatus.PUBLISHED.value


def slugify(title: str) -> str:
    """A URL slug from a title: ASCII letters and digits joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:120].rstrip("-")
    return slug or "article"


def keywords(category: str, tags: list[str]) -> str:
    """Category and tags as words for the index (hyphens and underscores split words)."""
    return " ".join(re.sub(r"[-_/]+", " ", word) for word in (category, *tags))


async def _next_doc_id(session: AsyncSession) -> int:
    """The next FTS row key: a sequence on PostgreSQL; on SQLite (one writer at a time,
    so no race) one more than the largest."""
    if session.get_bind().dialect.name == "postgresql":
        return int((await session.execute(text("SELECT nextval('kb_articles_doc_id_seq')")))
                   .scalar_one())
    return int(await session.scalar(select(func.coalesce(func.max(Article.doc_id), 0))) or 0) + 1


async def _free_slug(session: AsyncSession, tenant_id: uuid.UUID, slug: str,
                     article_id: uuid.UUID | None) -> None:
    found = await service.find_by_slug(session, tenant_id=tenant_id, slug=slug)
    if found is not None and found.id != article_id:
        raise Conflict(f"an article with slug {slug!r} exists already", field="slug")


def _payload(article: Article) -> dict[str, Any]:
    return {"slug": article.slug, "title": article.title, "category": article.category,
            "tags": list(article.tags), "status": article.status}


async def create_article(session: AsyncSession, data: ArticleCreate, *, tenant_id: uuid.UUID,
                         actor: str) -> Article:
    """Create an article (a draft unless `status: published`); slugs are unique per tenant."""
    slug = data.slug or slugify(data.title)
    await _free_slug(session, tenant_id, slug, None)
    now = session_now(session)
    article = Article(
        tenant_id=tenant_id, doc_id=await _next_doc_id(session), slug=slug, title=data.title,
        category=data.category, tags=list(data.tags), body=data.body,
        plain_text=to_plain_text(data.body), keywords=keywords(data.category, list(data.tags)),
        status=data.status.value, created_at=now, updated_at=now,
        published_at=now if data.status.value == PUBLISHED else None)
    session.add(article)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="knowledge.article_created",
                 subject=article.id, payload=_payload(article), actor=actor)
    if article.status == PUBLISHED:
        await record(session, tenant_id=tenant_id, type="knowledge.article_published",
                     subject=article.id, payload={"slug": article.slug}, actor=actor)
    return article


async def update_article(session: AsyncSession, article: Article, data: ArticleUpdate, *,
                         actor: str) -> Article:
    """Change an article; records `knowledge.article_updated` with the changed fields, and
    `knowledge.article_published` / `_unpublished` when the status changes."""
    changes = data.model_dump(exclude_unset=True, mode="json")
    if any(changes.get(field, ...) is None for field in ("title", "body", "slug", "category",
                                                         "tags", "status")):
        field = next(name for name, value in changes.items() if value is None)
        raise InvalidInput(f"{field} cannot be null", field=field)
    if "slug" in changes and changes["slug"] != article.slug:
        await _free_slug(session, article.tenant_id, changes["slug"], article.id)
    was = article.status
    changed = {name: value for name, value in changes.items()
               if getattr(article, name) != value}
    for name, value in changed.items():
        setattr(article, name, value)
    if "body" in changed:
        article.plain_text = to_plain_text(article.body)
    if "category" in changed or "tags" in changed:
        article.keywords = keywords(article.category, list(article.tags))
    if not changed:
        return article
    now = session_now(session)
    article.updated_at = now
    if article.status == PUBLISHED and was != PUBLISHED:
        article.published_at = now
    await session.flush()
    await record(session, tenant_id=article.tenant_id, type="knowledge.article_updated",
                 subject=article.id,
                 payload={"slug": article.slug, "changed": sorted(changed),
                          **{k: v for k, v in changed.items() if k != "body"}}, actor=actor)
    if article.status != was:
        kind = "published" if article.status == PUBLISHED else "unpublished"
        await record(session, tenant_id=article.tenant_id, type=f"knowledge.article_{kind}",
                     subject=article.id, payload={"slug": article.slug}, actor=actor)
    return article


async def delete_article(session: AsyncSession, article: Article, *, actor: str) -> None:
    """Delete an article (and its entry in the full-text index)."""
    payload = {"slug": article.slug, "title": article.title}
    await session.delete(article)
    await session.flush()
    await record(session, tenant_id=article.tenant_id, type="knowledge.article_deleted",
                 subject=article.id, payload=payload, actor=actor)


async def record_use(session: AsyncSession, article: Article, interaction: Interaction, *,
                     helped: bool | None, via: str, actor: str) -> None:
    """An article answered (or was offered on) a contact: `knowledge.article_used`, and
    `knowledge.article_helped` when the customer or agent said it helped."""
    payload: dict[str, Any] = {"interaction_id": str(interaction.id), "via": via,
                               "channel": interaction.channel, "slug": article.slug}
    await record(session, tenant_id=article.tenant_id, type="knowledge.article_used",
                 subject=article.id, payload={**payload, "helped": helped}, actor=actor)
    if helped:
        await record(session, tenant_id=article.tenant_id, type="knowledge.article_helped",
                     subject=article.id, payload=payload, actor=actor)
