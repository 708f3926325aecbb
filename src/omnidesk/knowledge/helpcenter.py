"""The public help center: server-rendered pages of a tenant's published articles.

`/help/{tenant}` lists articles by category (with `?q=` it shows search results),
`/help/{tenant}/{slug}` shows one article. No login; drafts and other tenants' articles are
never shown (an unknown tenant or article is a 404 page).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from omnidesk.deps import DbDep
from omnidesk.knowledge import service
from omnidesk.knowledge.markdown import to_html
from omnidesk.knowledge.models import Article, ArticleStatus
from omnidesk.knowledge.search import search
from omnidesk.tenants import service as tenant_service
from omnidesk.tenants.models import Tenant

router = APIRouter(prefix=service.HELP_PATH, include_in_schema=False)
SEARCH_LIMIT = 20
_HEADING = re.compile(r"<(/?)h([1-5])(\s|>)")

STYLE = """
body{font:16px/1.55 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header,main,footer{max-width:46rem;margin:0 auto;padding:1rem 1.25rem}
header{border-bottom:1px solid #d0d7de}
a{color:#0a4fb3}
a:focus-visible,input:focus-visible,button:focus-visible{
  outline:3px solid #0a4fb3;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
form{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end;margin:1rem 0}
label{display:block;font-weight:600;width:100%}
input[type=search]{flex:1;min-width:12rem;padding:.5rem;font:inherit;
  border:1px solid #57606a;border-radius:4px}
button{padding:.5rem 1rem;font:inherit;border-radius:4px;border:1px solid #0a4fb3;
  background:#0a4fb3;color:#fff}
mark{background:#fff3b0;color:inherit}.snippet{margin:.25rem 0 1rem;color:#3d444d}
.meta{color:#57606a;font-size:.9rem}pre{overflow:auto;background:#f0f2f4;padding:.75rem}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.25rem .5rem}
"""


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _page(title: str, tenant: Tenant | None, content: str, *, status_code: int = 200,
          query: str = "") -> HTMLResponse:
    home = f"{service.HELP_PATH}/{tenant.slug}" if tenant is not None else ""
    brand = f'<a href="{_e(home)}">{_e(tenant.name)} help center</a>' if tenant else "Help center"
    search_form = "" if tenant is None else f"""
<form role="search" method="get" action="{_e(home)}">
  <label for="q">Search the help center</label>
  <input type="search" id="q" name="q" value="{_e(query)}" maxlength="200">
  <button type="submit">Search</button>
</form>"""
    document = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header><p>{brand}</p>{search_form}</header>
<main id="content">
{content}
</main>
<footer class="meta"><p>Can't find an answer? Contact us and a person will help.</p></footer>
</body>
</html>"""
    return HTMLResponse(document, status_code=status_code,
                        headers={"Content-Security-Policy":
                                 "default-src 'none'; style-src 'unsafe-inline'; img-src https: "
                                 "data:; form-action 'self'; base-uri 'none'",
                                 "X-Content-Type-Options": "nosniff"})


def _not_found(tenant: Tenant | None) -> HTMLResponse:
    return _page("Not found", tenant, "<h1>Page not found</h1><p>This page does not exist or "
                 "is no longer published.</p>", status_code=404)


def _link(tenant: Tenant, article: Article) -> str:
    return _e(service.article_path(tenant.slug, article.slug))


def demote_headings(body_html: str) -> str:
    """Article headings one level down, so the title stays the page's only <h1>."""
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}{m.group(3)}", body_html)


@router.get("/{tenant_slug}", response_class=HTMLResponse)
async def help_home(tenant_slug: str, db: DbDep,
                    q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """The help center's home: published articles by category, or search results for `q`."""
    async with db.read() as session:
        tenant = await tenant_service.find_by_slug(session, tenant_slug)
        if tenant is None:
            return _not_found(None)
        if q.strip():
            hits = await search(session, tenant_id=tenant.id, query=q, limit=SEARCH_LIMIT)
            items = "".join(
                f'<li><a href="{_link(tenant, hit.article)}">{_e(hit.article.title)}</a>'
                f'<p class="snippet">{hit.snippet}</p></li>' for hit in hits)
            found = (f"<ol>{items}</ol>" if hits else
                     "<p>No article matches your search. Try other words.</p>")
            return _page(f"Search: {q} – {tenant.name}", tenant,
                         f"<h1>Search results for “{_e(q)}”</h1>"
                         f'<p role="status">{len(hits)} article{"s" * (len(hits) != 1)} '
                         f"found.</p>{found}", query=q)
        articles = await service.list_articles(session, tenant_id=tenant.id,
                                               status=ArticleStatus.PUBLISHED)
    by_category: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_category[article.category].append(article)
    sections = "".join(
        f'<section aria-labelledby="cat-{index}"><h2 id="cat-{index}">'
        f"{_e(category.replace('-', ' ').capitalize())}</h2><ul>"
        + "".join(f'<li><a href="{_link(tenant, a)}">{_e(a.title)}</a></li>' for a in items)
        + "</ul></section>"
        for index, (category, items) in enumerate(sorted(by_category.items())))
    body = sections or "<p>There are no articles yet.</p>"
    return _page(f"{tenant.name} help center", tenant,
                 f"<h1>How can we help?</h1>{body}")


@router.get("/{tenant_slug}/{article_slug}", response_class=HTMLResponse)
async def help_article(tenant_slug: str, article_slug: str, db: DbDep) -> HTMLResponse:
    """One published article, its markdown rendered to sanitised HTML."""
    async with db.read() as session:
        tenant = await tenant_service.find_by_slug(session, tenant_slug)
        if tenant is None:
            return _not_found(None)
        article = await service.find_by_slug(session, tenant_id=tenant.id, slug=article_slug)
    if article is None or article.status != ArticleStatus.PUBLISHED.value:
        return _not_found(tenant)
    home = f"{service.HELP_PATH}/{tenant.slug}"
    updated = article.updated_at.date().isoformat()
    content = (f'<nav aria-label="Breadcrumb"><a href="{_e(home)}">All articles</a> › '
               f"{_e(article.category.replace('-', ' ').capitalize())}</nav>"
               f"<article><h1>{_e(article.title)}</h1>"
               f'<p class="meta">Updated <time datetime="{updated}">{updated}</time></p>'
               f"{demote_headings(to_html(article.body))}</article>")
    return _page(f"{article.title} – {tenant.name}", tenant, content)
