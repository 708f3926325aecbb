"""Reads of the knowledge base: articles, categories, suggestions for a conversation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import NotFound
from omnidesk.interactions.models import Interaction, Message
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.search import Hit, search
from omnidesk.tenants.models import Tenant

SUGGESTION_MESSAGES = 3  # the customer's last messages that make the suggestion query
HELP_PATH = "/help"


def article_path(tenant_slug: str, article_slug: str) -> str:
    """The help-center path of an article."""
    return f"{HELP_PATH}/{tenant_slug}/{article_slug}"


def public_url(article: Article, tenant_slug: str) -> str | None:
    """The article's help-center path, or None while it is a draft (drafts are not public)."""
    if article.status != ArticleStatus.PUBLISHED.value:
        return None
    return article_path(tenant_slug, article.slug)


async def tenant_slug(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    """The slug of the tenant (for article URLs)."""
    slug: str | None = await session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))
    if slug is None:
        raise NotFound(f"tenant {tenant_id} not found", field="tenant_id")
    return slug


async def list_articles(session: AsyncSession, *, tenant_id: uuid.UUID,
                        status: ArticleStatus | None = None,
                        category: str | None = None) -> Sequence[Article]:
    """The tenant's articles by category and title."""
    query = select(Article).where(Article.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Article.status == status.value)
    if category is not None:
        query = query.where(Article.category == category)
    return (await session.scalars(query.order_by(Article.category, Article.title))).all()


async def find_by_slug(session: AsyncSession, *, tenant_id: uuid.UUID,
                       slug: str) -> Article | None:
    """The tenant's article with this slug, if any."""
    return await session.scalar(
        select(Article).where(Article.tenant_id == tenant_id, Article.slug == slug))


async def suggestion_query(session: AsyncSession, interaction: Interaction) -> str:
    """The words to search for: the customer's last messages (newest first) and the subject."""
    bodies = (await session.scalars(
        select(Message.body).where(Message.tenant_id == interaction.tenant_id,
                                   Message.interaction_id == interaction.id,
                                   Message.author_kind == "customer")
        .order_by(Message.position.desc()).limit(SUGGESTION_MESSAGES))).all()
    parts = [*bodies, interaction.subject]
    return " ".join(part for part in parts if part).strip()


async def suggestions(session: AsyncSession, interaction: Interaction,
                      *, limit: int) -> tuple[str, list[Hit]]:
    """Published articles for the conversation, best first, with the query used."""
    query = await suggestion_query(session, interaction)
    hits = await search(session, tenant_id=interaction.tenant_id, query=query, limit=limit)
    return query, hits
