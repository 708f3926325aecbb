"""Articles as configuration as code: the `knowledge:` list of a tenant in a center file."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydantic import field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.knowledge import actions, service
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.schemas import (
    ArticleCreate,
    ArticleSlug,
    ArticleUpdate,
    Body,
    Category,
    Tags,
    Title,
)
from omnidesk.schemas import WriteModel
from omnidesk.tenants.models import Tenant


class ArticleSpec(WriteModel):
    """An article in a center file; identified by its slug, published unless it says draft."""

    slug: ArticleSlug
    title: Title
    category: Category = "general"
    tags: Tags = []
    status: ArticleStatus = ArticleStatus.PUBLISHED
    body: Body

    @field_validator("body")
    @classmethod
    def _one_trailing_newline(cls, body: str) -> str:
        return body.strip("\n") + "\n" if body.strip() else ""


def duplicate_slugs(specs: list[ArticleSpec]) -> Iterator[tuple[int, str]]:
    """(index, message) for each article whose slug an earlier one already uses."""
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if spec.slug in seen:
            yield index, f"slug {spec.slug!r} is used twice"
        seen.add(spec.slug)


async def apply_articles(session: AsyncSession, tenant: Tenant, specs: list[ArticleSpec], *,
                         note: Callable[[str, str], None], actor: str) -> None:
    """Create missing articles and update those that differ; others are left alone."""
    for spec in specs:
        existing = await service.find_by_slug(session, tenant_id=tenant.id, slug=spec.slug)
        if existing is None:
            await actions.create_article(session, ArticleCreate(**spec.model_dump()),
                                         tenant_id=tenant.id, actor=actor)
            note("created", spec.slug)
            continue
        current = export_article(existing)
        if current != spec:
            changed = {name: value for name, value in spec.model_dump().items()
                       if getattr(current, name) != value and name != "slug"}
            await actions.update_article(session, existing, ArticleUpdate(**changed),
                                         actor=actor)
            note("updated", spec.slug)


def export_article(article: Article) -> ArticleSpec:
    """An article row as its center-file entry."""
    return ArticleSpec(slug=article.slug, title=article.title, category=article.category,
                       tags=list(article.tags), status=ArticleStatus(article.status),
                       body=article.body)


async def export_articles(session: AsyncSession, tenant: Tenant) -> list[ArticleSpec]:
    """The tenant's articles as center-file entries, by category and title."""
    return [export_article(article)
            for article in await service.list_articles(session, tenant_id=tenant.id)]
