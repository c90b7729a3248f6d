"""The documentation's links lead somewhere, and the README's commands are read the way
tests/e2e/test_readme_commands.py documents (a trailing ``(exit N)`` states the code)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.markdown import ROOT, relative_links, shell_commands, split_comment

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_link__in_readme_and_docs__points_at_a_file_that_exists(
    document: Path,
) -> None:
    broken = [
        target
        for target in relative_links(document)
        if target and not (document.parent / target).exists()
    ]

    assert broken == []


def test_relative_links__of_the_readme__are_found() -> None:
    assert "docs/policy.md" in relative_links(ROOT / "README.md")


def test_relative_links__of_a_file_with_urls_anchors_and_code__are_only_its_file_links(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "See [a](docs/a.md#part), [b](https://example.org/b.md), [c](#here),\n"
        '![d](img/d.png "title") and [e][ref].\n\n'
        "[ref]: ../e.md\n\n"
        "```python\nx = [f](g.md)\n```\n"
    )

    assert sorted(relative_links(page)) == ["../e.md", "docs/a.md", "img/d.png"]


def test_shell_commands__of_bash_and_console_blocks__keep_the_line_and_the_stated_exit(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\n"
        'shipwise flag kill f --reason "a # b"   # off for everyone\n'
        "shipwise flag rollout f 25 -e production  # refused (exit 1): use the release\n"
        "```\n"
        "```python\nprint('not a command')\n```\n"
        "```console\n$ shipwise gate check rel-1   # (exit 1)\nGate closed\n```\n"
    )

    commands = shell_commands(page)

    assert [(c.text, c.line, c.expected_exit) for c in commands] == [
        ('shipwise flag kill f --reason "a # b"', 2, 0),
        ("shipwise flag rollout f 25 -e production", 3, 1),
        ("shipwise gate check rel-1", 9, 1),
    ]


def test_split_comment__a_hash_inside_a_word__is_not_a_comment() -> None:
    assert split_comment("echo a#b  # note") == ("echo a#b", "note")
