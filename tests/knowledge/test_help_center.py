"""The public help center: no login, published articles only, one tenant each, safe HTML."""

from __future__ import annotations

import re

from tests.conftest import Api
from tests.knowledge.conftest import Kb, make_kb


async def test_the_home_page_lists_published_articles_by_category(api: Api, kb: Kb) -> None:
    response = await api.client.get("/help/acme")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="en">' in page
    assert re.findall(r"<h1>[^<]*</h1>", page) == ["<h1>How can we help?</h1>"]
    headings = re.findall(r'<h2 id="cat-\d+">([^<]*)</h2>', page)
    assert headings == ["Billing", "Delivery", "Returns"]
    assert '<a href="/help/acme/returns">Returning an item</a>' in page
    assert '<label for="q">Search the help center</label>' in page
    assert 'id="q" name="q"' in page
    assert "Black Friday" not in page and "black-friday" not in page


async def test_an_article_page_renders_markdown_safely(api: Api, kb: Kb) -> None:
    await kb.create(api, title="Tricky <b>markup</b>", slug="tricky", status="published",
                    body="## Steps\n\n1. Click **Returns**\n2. <script>alert(1)</script>\n\n"
                         "[evil](javascript:alert(1)) [good](https://example.com/a?b=1&c=2)\n\n"
                         "<img src=x onerror=alert(1)>")
    response = await api.client.get("/help/acme/tricky")
    assert response.status_code == 200
    page = response.text
    assert "<h1>Tricky &lt;b&gt;markup&lt;/b&gt;</h1>" in page
    assert "<h3>Steps</h3>" in page  # the body's headings sit below the title
    assert "<strong>Returns</strong>" in page
    assert "<script>" not in page and "onerror" not in page.replace("onerror=alert", "")
    assert "<img" not in page
    assert 'href="javascript:' not in page
    assert 'href="https://example.com/a?b=1&amp;c=2"' in page
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_drafts_and_unknown_pages_are_not_found(api: Api, kb: Kb) -> None:
    draft = await api.client.get("/help/acme/black-friday")
    assert draft.status_code == 404
    assert "BLACKFRIDAY" not in draft.text
    assert (await api.client.get("/help/acme/no-such-article")).status_code == 404
    assert (await api.client.get("/help/nobody")).status_code == 404
    assert (await api.client.get("/help/nobody/returns")).status_code == 404


async def test_one_tenants_help_center_never_shows_anothers_articles(api: Api, kb: Kb) -> None:
    await make_kb(api, "globex", [{"title": "Globex warranty", "slug": "warranty",
                                   "status": "published", "body": "Two years, refund."}])
    assert (await api.client.get("/help/acme/warranty")).status_code == 404
    assert "Globex warranty" not in (await api.client.get("/help/acme")).text
    found = await api.client.get("/help/acme", params={"q": "warranty refund"})
    assert "Globex" not in found.text
    assert (await api.client.get("/help/globex/warranty")).status_code == 200


async def test_search_shows_ranked_results_with_snippets(api: Api, kb: Kb) -> None:
    response = await api.client.get("/help/acme", params={"q": "refund <i>now</i>"})
    assert response.status_code == 200
    page = response.text
    assert "<h1>Search results for “refund &lt;i&gt;now&lt;/i&gt;”</h1>" in page
    assert 'value="refund &lt;i&gt;now&lt;/i&gt;"' in page
    links = re.findall(r'<li><a href="(/help/acme/[^"]+)">', page)
    assert links == ["/help/acme/returns"]  # the draft mentioning refunds is not listed
    assert "<mark>refund</mark>" in page
    assert '1 article found.' in page
    nothing = await api.client.get("/help/acme", params={"q": "submarine"})
    assert "No article matches your search" in nothing.text
