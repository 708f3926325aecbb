"""HTML-only mail made readable as plain text, with the standard library's parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
                        "blockquote", "pre", "hr"})
LINES = frozenset({"div", "li", "tr", "dd", "dt", "section", "article", "header", "footer"})
HIDDEN = frozenset({"script", "style", "head", "title", "template"})


class _TextExtractor(HTMLParser):
    """Visible text: a blank line around paragraphs, a line per block, "- " per list item."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._newlines = 0  # line breaks at the end of the text so far
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []

    def _append(self, text: str) -> None:
        self.parts.append(text)
        if text.strip():
            self._newlines = len(text) - len(text.rstrip("\n"))
        else:
            self._newlines += text.count("\n")

    def _gap(self, lines: int) -> None:
        if self._newlines < lines:
            self._append("\n" * (lines - self._newlines))

    def _block(self, tag: str) -> None:
        if tag in PARAGRAPHS:
            self._gap(2)
        elif tag in LINES:
            self._gap(1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self._hidden += 1
            return
        self._block(tag)
        if tag == "br":
            self._append("\n")
        elif tag == "li":
            self._append("- ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self._hidden = max(0, self._hidden - 1)
            return
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and href.startswith(("http://", "https://")) and label and label != href:
                self._append(f" ({href})")
        self._block(tag)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(markup: str) -> str:
    """Readable text of an HTML document: paragraphs, lines, list items, links as text (url)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).replace("\xa0", " ").splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
