"""API shapes of knowledge-base articles, search results and suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from omnidesk.knowledge.models import ArticleStatus
from omnidesk.schemas import ReadModel, WriteModel

ArticleSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,119}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Body = Annotated[str, StringConstraints(max_length=200_000)]
Tags = Annotated[list[Tag], Field(max_length=30)]


class ArticleCreate(WriteModel):
    """A new article; without a slug one is made from the title."""

    title: Title
    body: Body = ""
    slug: ArticleSlug | None = None
    category: Category = "general"
    tags: Tags = []
    status: ArticleStatus = ArticleStatus.DRAFT


class ArticleUpdate(WriteModel):
    """Fields to change (absent fields stay as they are)."""

    title: Title | None = None
    body: Body | None = None
    slug: ArticleSlug | None = None
    category: Category | None = None
    tags: Tags | None = None
    status: ArticleStatus | None = None


class ArticleRead(ReadModel):
    """An article as the API returns it; `url` is its public help-center page (published)."""

    id: uuid.UUID
    slug: str
    title: str
    category: str
    tags: list[str]
    body: str
    status: ArticleStatus
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    url: str | None = None


class SearchResult(ReadModel):
    """A search hit: `snippet` is HTML (text escaped, matched words in <mark>)."""

    id: uuid.UUID
    slug: str
    title: str
    category: str
    status: ArticleStatus
    score: float
    snippet: str
    url: str | None


class SearchResults(ReadModel):
    """The hits of one search, best first."""

    query: str
    results: list[SearchResult]


class Suggestion(ReadModel):
    """An article suggested to the agent for the conversation in front of them."""

    id: uuid.UUID
    title: str
    snippet: str
    url: str | None
    score: float


class Suggestions(ReadModel):
    """Suggestions for one interaction; `query` is the words they were searched with."""

    articles: list[Suggestion]
    query: str = ""


class ArticleUse(WriteModel):
    """An agent used an article on a contact (sent it, or answered from it)."""

    interaction_id: uuid.UUID
    helped: bool | None = None
