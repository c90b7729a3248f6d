"""An announcement's Markdown as HTML that is safe to put in someone else's page.

markdown-it-py renders CommonMark (raw HTML allowed through, so the sanitiser alone
decides what survives), headings demoted to ``h3``/``h4`` (an announcement sits inside
the application's page, under its headings); then ``nh3`` (Ammonia) keeps only the
allow-list below. No images (a tracking pixel in every user's page), no scripts, no
styles, no event handlers, no ``javascript:`` or ``data:`` links, and no relative or
``//host`` ones (``domain.safe_links``); every link opens with ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from shipwise.domain.safe_links import link_filter

__all__ = ["ALLOWED_TAGS", "render_announcement"]

ALLOWED_TAGS = frozenset(
    {"p", "a", "em", "strong", "ul", "ol", "li", "code", "pre", "br", "h3", "h4", "blockquote"}
)
_ATTRIBUTES = {"a": {"href"}}
_SCHEMES = {"http", "https", "mailto"}
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False})


def _demote(tag: str) -> str:
    level = int(tag[1:])
    return "h3" if level <= 3 else "h4"


def render_announcement(markdown: str) -> str:
    """``markdown`` as sanitised HTML (see the module docstring)."""
    tokens = _MARKDOWN.parse(markdown)
    for token in tokens:
        if token.type in {"heading_open", "heading_close"}:
            token.tag = _demote(token.tag)
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        attribute_filter=link_filter,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
