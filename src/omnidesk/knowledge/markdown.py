"""Markdown of articles: safe HTML for the help center, plain text for the index and snippets.

markdown-it-py parses with raw HTML off and its link validation on (no `javascript:` links);
nh3 (the ammonia sanitizer) then keeps only an allow-list of tags and attributes, so an
article body can never run script in a reader's browser.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.enable("table")
_parser.enable("strikethrough")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "td": {"style"}, "th": {"style"}, "ol": {"start"}}
_SPACES = re.compile(r"\s+")


def to_html(markdown: str) -> str:
    """The article body as sanitised HTML (links get rel="noopener noreferrer nofollow")."""
    rendered = _parser.render(markdown)
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"},
                     link_rel="noopener noreferrer nofollow",
                     filter_style_properties={"text-align"})


def to_plain_text(markdown: str) -> str:
    """The body's words without markdown syntax: one space between words and blocks."""
    words: list[str] = []
    for token in _parser.parse(markdown):
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    words.append(" ")
                elif child.type == "image":
                    words.append(child.content)
        elif token.type in ("code_block", "fence"):
            words.append(token.content)
        if token.block and token.nesting <= 0:
            words.append(" ")
    return _SPACES.sub(" ", "".join(words)).strip()
