"""An announcement's Markdown as the HTML the server keeps beside it: what the
allow-list lets through and what it removes (scripts, event handlers, javascript: and
data: links, styles, images, frames)."""

from __future__ import annotations

import pytest

from shipwise.server.services.announcement_html import render_announcement


def test_render__markdown__becomes_the_allowed_html_with_safe_links() -> None:
    html = render_announcement(
        "# New\n\nPay *fast*, **safely**:\n\n- one\n- two\n\n> quoted `code`\n\n"
        "[Read more](https://example.com/more)"
    )

    assert html == (
        "<h3>New</h3>\n<p>Pay <em>fast</em>, <strong>safely</strong>:</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<blockquote>\n<p>quoted <code>code</code></p>\n"
        '</blockquote>\n<p><a href="https://example.com/more" rel="noopener noreferrer">'
        "Read more</a></p>"
    )


@pytest.mark.parametrize(
    ("markdown", "gone"),
    [
        pytest.param("Hi <script>alert('x')</script>", ["<script", "alert"], id="script"),
        pytest.param('<img src="x" onerror="alert(1)">', ["<img", "onerror"], id="onerror"),
        pytest.param('<p onclick="steal()">hi</p>', ["onclick", "steal"], id="event-handler"),
        pytest.param("[click](javascript:alert(1))", ['href="javascript'], id="markdown-js-link"),
        pytest.param('<a href="javascript:alert(1)">x</a>', ["javascript:"], id="html-js-link"),
        pytest.param("<style>body{display:none}</style>ok", ["<style", "display"], id="style"),
        pytest.param('<p style="position:fixed">x</p>', ["style="], id="style-attribute"),
        pytest.param("![pixel](https://tracker.example/p.gif)", ["<img"], id="image"),
        pytest.param('<iframe src="https://x.example"></iframe>', ["<iframe"], id="iframe"),
        pytest.param('<a href="data:text/html,x">x</a>', ["data:"], id="data-link"),
    ],
)
def test_render__hostile_markdown__loses_what_is_not_allowed(
    markdown: str, gone: list[str]
) -> None:
    html = render_announcement(markdown)

    for fragment in gone:
        assert fragment not in html, html


def test_render__a_link_that_carries_its_own_rel__gets_noopener_noreferrer() -> None:
    html = render_announcement('<a href="https://example.com" rel="opener" target="_top">x</a>')

    assert html == '<p><a href="https://example.com" rel="noopener noreferrer">x</a></p>'


@pytest.mark.parametrize(
    "markdown",
    [
        pytest.param("[x](//evil.example/login)", id="markdown-protocol-relative"),
        pytest.param('<a href="//evil.example">x</a>', id="html-protocol-relative"),
        pytest.param('<a href="\\\\evil.example">x</a>', id="backslashes-read-as-slashes"),
        pytest.param('<a href="http:\\\\evil.example">x</a>', id="scheme-then-backslashes"),
        pytest.param("[x](/account/delete)", id="root-relative"),
        pytest.param("[x](settings?plan=free)", id="path-relative"),
        pytest.param("[x](https:evil.example)", id="scheme-without-host"),
    ],
)
def test_render__a_link_that_is_not_absolute__loses_its_href(markdown: str) -> None:
    # Given a link the browser would resolve against the application's own page (whose
    # addresses the author does not know) or read as another host without a scheme
    html = render_announcement(markdown)

    # Then it stays text: only absolute http(s) addresses with a host, and mailto:, link
    assert "href" not in html, html


@pytest.mark.parametrize(
    "href", ["https://example.com/a?b=c#d", "http://example.com", "mailto:help@example.com"]
)
def test_render__an_absolute_link__keeps_its_href(href: str) -> None:
    assert f'href="{href}"' in render_announcement(f"[x]({href})")
