"""A small, safe HTML -> plain text converter for the text part of outgoing mail.

Mail templates are HTML; clients that show only text (and spam filters, which distrust HTML-only
mail) get this version. It is deliberately simple: it never fetches anything, never runs anything,
and keeps what a reader needs — the words, paragraph breaks, list items and link targets
(``label (url)``, since a text reader cannot click a label). Built on the stdlib tokenizer, which
never raises on malformed markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose content is not text a reader should see.
_SKIPPED = frozenset(
    {"head", "title", "style", "script", "template", "noscript", "iframe", "object", "svg", "select",
     "textarea", "button"}
)  # fmt: skip
#: Elements that start a new paragraph (a blank line before and after).
_PARAGRAPHS = frozenset(
    {"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section",
     "article", "header", "footer", "hr", "form", "dl"}
)  # fmt: skip
#: Elements that start a new line.
_LINES = frozenset({"tr", "li", "dt", "dd", "caption"})
_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"}
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []  # finished text, with "\n" markers between blocks
        self.skip_depth = 0
        self.links: list[tuple[str, int]] = []  # (href, index in out where the label starts)

    # -- tokenizer callbacks ----------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in _PARAGRAPHS:
            self.out.append("\n\n")
            if tag == "hr":
                self.out.append("----\n\n")
        elif tag in _LINES:
            self.out.append("\n")
            if tag == "li":
                self.out.append("- ")
        elif tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), "")
            self.links.append((href.strip(), len(self.out)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _PARAGRAPHS:
            self.out.append("\n\n")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = _SPACES.sub(" ", "".join(self.out[start:])).strip()
            if href and not href.startswith("#") and href != label:
                self.out.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.out.append(_SPACES.sub(" ", data))

    # -- result -----------------------------------------------------------------------------

    def text(self) -> str:
        while self.links:  # an anchor never closed still shows where it points
            self.skip_depth = 0
            self.handle_endtag("a")
        lines = [line.strip() for line in "".join(self.out).split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    """The readable text of ``html``: tags dropped, entities decoded, link URLs kept after labels."""
    if not html:
        return ""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return converter.text()
