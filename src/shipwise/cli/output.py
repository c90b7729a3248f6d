"""What the CLI prints: tables and sentences for people, JSON for scripts, errors on
stderr with the next step to take, and one set of exit codes for every command.

    0  yes: done, allowed, intact
    1  the answer is no: a closed gate, a refusal (the server's 409), a failed rollback
       drill, a broken audit chain
    2  a mistake: an unknown name (404), a bad or revoked token (401), a token of the
       wrong kind or role (403), bad input, configuration, connection or server error

So a typo never reads as a closed gate: only a real "no" exits 1 (docs/ci.md).

Text that comes from users or the server (flag descriptions, error messages) is printed
as text, never as rich markup, so ``[beta]`` in a description stays ``[beta]``; and it is
printed inert (``domain.text.inert``): control, bidirectional and zero-width characters
show escaped, ``\\u202e``, so a stored name cannot reorder a line, forge another one or
drive the terminal. Sentences and table rows are one line each: a line break in a value
shows as ``\\n`` (a table draws no rule between rows, so a break would pass for a row);
``shown(..., keep_newlines=True)`` keeps them for free text printed on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from itertools import accumulate
from typing import Any, NoReturn

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from shipwise.domain.text import inert, inert_pieces

console = Console()
errors = Console(stderr=True)


class Exit(IntEnum):
    OK = 0
    NO = 1  # a closed gate or a refusal: the question was understood, the answer is no
    ERROR = 2  # a mistake: unknown name, token, bad input, config, connection, server


def shown(value: str | Text, *, keep_newlines: bool = False) -> Text:
    """``value`` as text to print, never markup, with nothing in it that could reorder
    or forge a line; the styles of a ``Text`` move along with its characters."""
    if isinstance(value, str):
        return Text(inert(value, keep_newlines=keep_newlines))
    plain = value.plain
    if inert(plain, keep_newlines=keep_newlines) == plain:
        return value
    pieces = inert_pieces(plain, keep_newlines=keep_newlines)
    starts = list(accumulate((len(piece) for piece in pieces), initial=0))
    result = Text("".join(pieces), style=value.style, justify=value.justify, end=value.end)
    for span in value.spans:
        result.stylize(span.style, starts[span.start], starts[span.end])
    return result


class _Mode:
    """Whether the running command was given ``--json``: then its errors are JSON on
    stdout too, so a script reads one format. Set by the ``--json`` option's callback
    (``json_option``), which click runs for every command that has the option."""

    json = False


def json_option(value: bool) -> bool:
    _Mode.json = value
    return value


def fail(message: str, *, hint: str | None = None, code: Exit = Exit.ERROR) -> NoReturn:
    """Print ``Error: message`` (and what to do next) on stderr and exit with ``code``;
    with ``--json``, also ``{"error": {"message", "hint", "exit_code"}}`` on stdout."""
    if _Mode.json:
        print_json({"error": {"message": message, "hint": hint, "exit_code": int(code)}})
    line = Text("Error: ", style="bold red")
    line.append(shown(message))
    errors.print(line, soft_wrap=True)
    if hint:
        errors.print(shown(Text(hint, style="yellow")), soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """JSON for scripts: plain, indented, no colour, no wrapping."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def cell(value: Any) -> RenderableType:
    if isinstance(value, Text):
        return shown(value)
    if value is None or value == "":
        return Text("—", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list | tuple):
        return shown(", ".join(str(v) for v in value) or "—")
    return shown(str(value))


def table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> Table:
    """A table of ``rows``; numbers go right, missing values show as a dash."""
    materialised = [list(row) for row in rows]
    caption = None if title is None else shown(title)
    result = Table(title=caption, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        numeric = bool(materialised) and all(
            isinstance(row[index], int | float) and not isinstance(row[index], bool)
            for row in materialised
        )
        result.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in materialised:
        result.add_row(*(cell(value) for value in row))
    return result


def say(*parts: str | Text, style: str | None = None) -> None:
    """One line for people on stdout, from plain text (no markup) and styled pieces."""
    line = Text(style=style or "")
    for part in parts:
        line.append(shown(part))
    console.print(line, soft_wrap=True)


def note(*parts: str | Text) -> None:
    """One line for people on stderr: commentary that a script's stdout should not get."""
    line = Text()
    for part in parts:
        line.append(shown(part))
    errors.print(line, soft_wrap=True)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs (nothing when not a terminal)."""
    with errors.status(shown(message)):
        yield
