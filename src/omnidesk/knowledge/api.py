"""Knowledge-base API: articles (staff write, agents read published), search, suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.principal import EVERYONE, STAFF, Principal
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import NotFound
from omnidesk.interactions.models import Interaction
from omnidesk.knowledge import actions, service
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.schemas import (
    ArticleCreate,
    ArticleRead,
    ArticleUpdate,
    ArticleUse,
    SearchResult,
    SearchResults,
    Suggestion,
    Suggestions,
)
from omnidesk.knowledge.search import MAX_LIMIT, search
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import Role

router = APIRouter(prefix="/knowledge", tags=["knowledge"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _is_staff(principal: Principal) -> bool:
    return principal.role in STAFF


def _read(article: Article, tenant_slug: str) -> ArticleRead:
    return ArticleRead.model_validate(article).model_copy(
        update={"url": service.public_url(article, tenant_slug)})


async def _article(session: AsyncSession, principal: Principal,
                   article_id: uuid.UUID) -> Article:
    """The caller's article; agents do not see drafts (404, as for another tenant's)."""
    article = await get_in_tenant(session, Article, article_id, tenant_id=principal.tenant_id,
                                  what="article")
    if article.status != ArticleStatus.PUBLISHED.value and not _is_staff(principal):
        raise NotFound(f"article {article_id} not found", field="article_id")
    return article


@router.get("/articles", response_model=list[ArticleRead])
async def list_articles(db: DbDep, principal: PrincipalDep,
                        status_: Annotated[ArticleStatus | None, Query(alias="status")] = None,
                        category: str | None = None) -> list[ArticleRead]:
    """The tenant's articles by category and title (agents: published only)."""
    principal.require(*EVERYONE)
    if not _is_staff(principal):
        status_ = ArticleStatus.PUBLISHED
    async with db.read() as session:
        slug = await service.tenant_slug(session, principal.tenant_id)
        rows = await service.list_articles(session, tenant_id=principal.tenant_id,
                                           status=status_, category=category)
        return [_read(article, slug) for article in rows]


@router.post("/articles", response_model=ArticleRead, status_code=status.HTTP_201_CREATED)
async def create_article(data: ArticleCreate, db: DbDep, principal: PrincipalDep) -> ArticleRead:
    """Create an article (admins and supervisors)."""
    principal.require(*STAFF)
    async with db.write() as session:
        article = await actions.create_article(session, data, tenant_id=principal.tenant_id,
                                               actor=principal.actor)
        return _read(article, await service.tenant_slug(session, principal.tenant_id))


@router.get("/articles/{article_id}", response_model=ArticleRead)
async def get_article(article_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> ArticleRead:
    """One article (agents: published only)."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        article = await _article(session, principal, article_id)
        return _read(article, await service.tenant_slug(session, principal.tenant_id))


@router.patch("/articles/{article_id}", response_model=ArticleRead)
async def update_article(article_id: uuid.UUID, data: ArticleUpdate, db: DbDep,
                         principal: PrincipalDep) -> ArticleRead:
    """Change an article, publish it (`status: published`) or take it back to draft."""
    principal.require(*STAFF)
    async with db.write() as session:
        article = await get_in_tenant(session, Article, article_id,
                                      tenant_id=principal.tenant_id, what="article")
        article = await actions.update_article(session, article, data, actor=principal.actor)
        return _read(article, await service.tenant_slug(session, principal.tenant_id))


@router.delete("/articles/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_article(article_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> Response:
    """Delete an article."""
    principal.require(*STAFF)
    async with db.write() as session:
        article = await get_in_tenant(session, Article, article_id,
                                      tenant_id=principal.tenant_id, what="article")
        await actions.delete_article(session, article, actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/articles/{article_id}/uses", status_code=status.HTTP_204_NO_CONTENT)
async def record_use(article_id: uuid.UUID, data: ArticleUse, db: DbDep,
                     principal: PrincipalDep) -> Response:
    """The agent used this article on a contact (records `knowledge.article_used`, and
    `knowledge.article_helped` with `helped: true`)."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        article = await _article(session, principal, article_id)
        interaction = await get_in_tenant(session, Interaction, data.interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        await actions.record_use(session, article, interaction, helped=data.helped, via="agent",
                                 actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/search", response_model=SearchResults)
async def search_articles(db: DbDep, principal: PrincipalDep,
                          q: Annotated[str, Query(max_length=1000)] = "", limit: Limit = 10,
                          category: str | None = None, drafts: bool = False) -> SearchResults:
    """Full-text search, best first, with snippets (`drafts=true`: staff also search drafts).
    An empty query finds nothing."""
    principal.require(*EVERYONE)
    if drafts:
        principal.require(Role.ADMIN, Role.SUPERVISOR)
    async with db.read() as session:
        slug = await service.tenant_slug(session, principal.tenant_id)
        hits = await search(session, tenant_id=principal.tenant_id, query=q, limit=limit,
                            drafts=drafts, category=category)
    return SearchResults(query=q, results=[SearchResult(
        id=hit.article.id, slug=hit.article.slug, title=hit.article.title,
        category=hit.article.category, status=ArticleStatus(hit.article.status),
        score=hit.score, snippet=hit.snippet, url=service.public_url(hit.article, slug))
        for hit in hits])


@router.get("/suggestions", response_model=Suggestions)
async def suggestions(db: DbDep, principal: PrincipalDep,
                      interaction_id: uuid.UUID | None = None,
                      limit: Annotated[int, Query(ge=1, le=10)] = 5) -> Suggestions:
    """Published articles for the conversation in front of the agent, searched with the
    customer's recent messages. Without `interaction_id`: no suggestions."""
    principal.require(*EVERYONE)
    if interaction_id is None:
        return Suggestions(articles=[])
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        slug = await service.tenant_slug(session, principal.tenant_id)
        query, hits = await service.suggestions(session, interaction, limit=limit)
    return Suggestions(query=query, articles=[Suggestion(
        id=hit.article.id, title=hit.article.title, snippet=hit.snippet,
        url=service.public_url(hit.article, slug), score=hit.score) for hit in hits])
