"""An email announcement's HTML part: the person's Markdown through the mailer's
allow-list. A link in an email has no page to be relative to: only absolute addresses
keep their ``href``."""

from __future__ import annotations

import pytest

from shipwise.server.notify.mailout import markdown_html


@pytest.mark.parametrize(
    "markdown",
    [
        pytest.param("[x](//evil.example/login)", id="protocol-relative"),
        pytest.param('<a href="\\\\evil.example">x</a>', id="backslashes-read-as-slashes"),
        pytest.param("[x](/unsubscribe)", id="root-relative"),
        pytest.param('<a href="javascript:alert(1)">x</a>', id="javascript"),
    ],
)
def test_markdown_html__a_link_that_is_not_absolute__loses_its_href(markdown: str) -> None:
    assert "href" not in markdown_html(markdown)


def test_markdown_html__an_absolute_link__keeps_its_href() -> None:
    html = markdown_html("[docs](https://help.example.com/new) or [mail](mailto:a@example.com)")

    assert 'href="https://help.example.com/new"' in html
    assert 'href="mailto:a@example.com"' in html
