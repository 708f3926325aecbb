"""Full-text search with the database's own index: SQLite FTS5 (bm25) or PostgreSQL
(tsvector, GIN, ts_rank). Every query is scoped to one tenant's published articles.

A question is cut into words; common English words are dropped; the remaining words are
OR-ed, so an article matching more (and rarer) words ranks higher. Both backends stem
English words (FTS5 `porter`, PostgreSQL `english`), so "returning" finds "returns".
"""

from __future__ import annotations

import html
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.knowledge.models import FTS_TABLE, Article, ArticleStatus

MAX_TERMS = 32
MAX_LIMIT = 50
MAX_SCORED_TERMS = 16  # one index look-up per word
TITLE_FACTOR = 2.0  # a word in the title, category or tags counts twice
SNIPPET_TOKENS = 24
MARK_START, MARK_END = "\ue000", "\ue001"  # private-use characters, never in an article
# bm25 weights of the FTS5 columns title, keywords (category + tags), plain_text.
BM25 = f"bm25({FTS_TABLE}, 8.0, 4.0, 1.0)"
PG_CONFIG = "english"
_VECTOR: Any = literal_column("kb_articles.search_vector")
PG_HEADLINE = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, "
               "ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \"")

_STOPWORDS = """
a about above after again all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours out over own same she should so
some such than that the their theirs them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you
your yours yourself hi hello please thanks thank can't cannot get got want wanted need
"""
STOPWORDS = frozenset(_STOPWORDS.split())

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the article, its relevance (higher is better) and a snippet
    (HTML: the text escaped, the matched words in <mark>)."""

    article: Article
    score: float
    snippet: str


def terms(query: str) -> list[str]:
    """The words searched for: lower case, without common words, each once, at most 32."""
    words = [word.lower() for word in _WORD.findall(query)]
    kept = [word for word in words if word not in STOPWORDS and (len(word) > 1 or word.isdigit())]
    return list(dict.fromkeys(kept))[:MAX_TERMS]


def snippet_html(raw: str) -> str:
    """A snippet from the database as safe HTML with <mark> around the matches."""
    escaped = html.escape(" ".join(raw.split()), quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def _scoped(query: Any, tenant_id: uuid.UUID,
            drafts: bool, category: str | None) -> Any:
    query = query.where(Article.tenant_id == tenant_id)
    if not drafts:
        query = query.where(Article.status == ArticleStatus.PUBLISHED.value)
    if category is not None:
        query = query.where(Article.category == category)
    return query


def _sqlite_match(words: list[str]) -> Any:
    match = " OR ".join(f'"{word}"' for word in words)
    return text(f"{FTS_TABLE} MATCH :match").bindparams(match=match)


def _sqlite_join(query: Any) -> Any:
    fts = table(FTS_TABLE, literal_column("rowid"))
    return query.join(fts, literal_column(f"{FTS_TABLE}.rowid") == Article.doc_id)


def _pg_query(words: list[str]) -> Any:
    return func.to_tsquery(literal(PG_CONFIG, REGCONFIG), " | ".join(words))


def _strength_query(dialect: str, word: str) -> Any:
    """Each matching article's relevance for one word (higher is better: bm25 with the
    column weights on SQLite, ts_rank with the A/B/C weights on PostgreSQL) and whether the
    word is in its title, category or tags."""
    if dialect == "postgresql":
        query = _pg_query([word])
        titled = _VECTOR.op("@@")(func.to_tsquery(literal(PG_CONFIG, REGCONFIG), f"{word}:AB"))
        return select(Article.id, func.ts_rank(_VECTOR, query, 1), titled) \
            .where(_VECTOR.op("@@")(query))
    titled = literal_column(
        f"instr(highlight({FTS_TABLE}, 0, '{MARK_START}', '') "
        f"|| highlight({FTS_TABLE}, 1, '{MARK_START}', ''), '{MARK_START}') > 0")
    return _sqlite_join(select(Article.id, literal_column(f"-{BM25}"), titled)
                        .select_from(Article)).where(_sqlite_match([word]))


def _page_query(dialect: str, words: list[str], ids: list[uuid.UUID]) -> Any:
    """The chosen articles with a snippet of where the words occur."""
    if dialect == "postgresql":
        headline = func.ts_headline(literal(PG_CONFIG, REGCONFIG), Article.plain_text,
                                    _pg_query(words), PG_HEADLINE)
        return select(Article, headline).where(Article.id.in_(ids))
    snippet: Any = literal_column(f"snippet({FTS_TABLE}, 2, '{MARK_START}', '{MARK_END}', '…', "
                             f"{SNIPPET_TOKENS})")
    return _sqlite_join(select(Article, snippet).select_from(Article)) \
        .where(_sqlite_match(words), Article.id.in_(ids))


def idf(articles: int, matching: int) -> float:
    """How much a word tells apart the tenant's articles (BM25's IDF, never negative)."""
    return math.log(1 + (articles - matching + 0.5) / (matching + 0.5))


Matches = dict[uuid.UUID, tuple[float, bool]]


def combine(strengths: dict[str, Matches], articles: int) -> dict[uuid.UUID, float]:
    """Score per article: the sum over the words it matches of the word's IDF, doubled when
    the word is in the title, category or tags, times 0.5 to 1 by how strongly it matches
    relative to the best match of that word (more occurrences, shorter text)."""
    scores: dict[uuid.UUID, float] = {}
    for matches in strengths.values():
        if not matches:
            continue
        weight = idf(articles, len(matches))
        best = max(strength for strength, _ in matches.values())
        for article_id, (strength, titled) in matches.items():
            share = max(0.0, strength) / best if best > 0 else 1.0
            gain = weight * (TITLE_FACTOR if titled else 1.0) * (0.5 + 0.5 * share)
            scores[article_id] = scores.get(article_id, 0.0) + gain
    return scores


async def search(session: AsyncSession, *, tenant_id: uuid.UUID, query: str, limit: int = 10,
                 drafts: bool = False, category: str | None = None) -> list[Hit]:
    """The tenant's articles matching the words of `query`, best first (published only,
    unless `drafts`).

    The index finds the articles of each word and how well each matches it; the ranking then
    weighs each word by its rarity among this tenant's articles, so an article covering the
    rare words of a question beats one repeating a common word. (FTS5's own bm25 clamps the
    IDF of words in half the rows to ~0 and PostgreSQL's ts_rank has no IDF at all.)"""
    words = terms(query)
    if not words:
        return []
    dialect = session.get_bind().dialect.name
    total = await session.scalar(_scoped(select(func.count(Article.id)), tenant_id, drafts,
                                         category))
    strengths: dict[str, Matches] = {}
    for word in words[:MAX_SCORED_TERMS]:
        rows = await session.execute(_scoped(_strength_query(dialect, word), tenant_id, drafts,
                                             category))
        strengths[word] = {article_id: (float(value), bool(titled))
                           for article_id, value, titled in rows.all()}
    scores = combine(strengths, int(total or 0))
    if not scores:
        return []
    page = [article_id for article_id, _ in sorted(
        scores.items(), key=lambda item: (-item[1], str(item[0])))[:max(1, min(limit, MAX_LIMIT))]]
    found = {article.id: (article, snippet) for article, snippet in
             (await session.execute(_page_query(dialect, words, page))).all()}
    return [Hit(article=found[article_id][0], score=round(scores[article_id], 6),
                snippet=snippet_html(found[article_id][1] or ""))
            for article_id in page if article_id in found]
