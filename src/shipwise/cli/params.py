"""Values from the command line that several commands read the same way: a commit SHA,
a pull request, text given inline or as ``@FILE``, a JSON document from a file or stdin.

Each says what is wrong with the value in the words of the option that carried it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from shipwise.cli.output import fail
from shipwise.domain.commits import normalize_commit

_PULL_URL = re.compile(r"/pull/(\d+)/?(?:[?#].*)?$")


def commit_sha(value: str | None) -> str | None:
    """An option callback: the full git commit SHA, lowered (domain/commits.py)."""
    if value is None:
        return None
    try:
        return normalize_commit(value)
    except ValueError as problem:
        raise typer.BadParameter(
            f"{problem}; in CI, ${{{{ github.sha }}}} is the full SHA"
        ) from None


def pull_request(value: str) -> dict[str, Any]:
    """``--pr 42``, ``--pr '#42'`` or ``--pr https://github.com/o/r/pull/42``."""
    text = value.strip()
    link = _PULL_URL.search(text)
    if link and text.startswith(("http://", "https://")):
        return {"number": int(link.group(1)), "url": text}
    number = text.removeprefix("#")
    if number.isdigit() and int(number) >= 1:
        return {"number": int(number)}
    raise typer.BadParameter(
        f"{value!r} is not a pull request; give its number (42) or its URL "
        "(https://github.com/owner/repo/pull/42)",
        param_hint="--pr",
    )


def pull_requests(values: list[str] | None) -> list[dict[str, Any]] | None:
    return None if values is None else [pull_request(v) for v in values]


def text_or_file(value: str | None, option: str) -> str | None:
    """The option's text, or the contents of FILE when it is ``@FILE``."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"{option}: cannot read {path}: {error.strerror}")


def json_document(source: str | Path, *, option: str | None = None, hint: str | None = None) -> Any:
    """A JSON document from a file, or from stdin when ``source`` is ``-``; exit 2 naming
    the file (and ``option``, when given) when it cannot be read or parsed."""
    prefix = f"{option}: " if option else ""
    stdin = str(source) == "-"
    try:
        text = sys.stdin.read() if stdin else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        fail(f"{prefix}cannot read {source}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{prefix}{source} is not UTF-8 text")
    try:
        return json.loads(text)
    except ValueError as error:
        fail(f"{prefix}{'stdin' if stdin else source} is not valid JSON: {error}", hint=hint)
