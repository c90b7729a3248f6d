"""What the CLI prints: tables and sentences for people, JSON for scripts, errors on
stderr with the next step to take, and one set of exit codes for every command.

    0  ok
    1  the answer is no: refused, not found, a broken audit chain
    2  usage, configuration, connection or server error

Text that comes from users or the server (flag descriptions, error messages) is printed
as text, never as rich markup, so ``[beta]`` in a description stays ``[beta]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from typing import Any, NoReturn

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

console = Console()
errors = Console(stderr=True)


class Exit(IntEnum):
    OK = 0
    NO = 1  # refused or not found, as a result
    ERROR = 2  # usage, configuration, connection or server error


def fail(message: str, *, hint: str | None = None, code: Exit = Exit.ERROR) -> NoReturn:
    """Print ``Error: message`` (and what to do next) on stderr and exit with ``code``."""
    line = Text("Error: ", style="bold red")
    line.append(message)
    errors.print(line, soft_wrap=True)
    if hint:
        errors.print(Text(hint, style="yellow"), soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """JSON for scripts: plain, indented, no colour, no wrapping."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def cell(value: Any) -> RenderableType:
    if isinstance(value, Text):
        return value
    if value is None or value == "":
        return Text("—", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list | tuple):
        return Text(", ".join(str(v) for v in value) or "—")
    return Text(str(value))


def table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> Table:
    """A table of ``rows``; numbers go right, missing values show as a dash."""
    materialised = [list(row) for row in rows]
    result = Table(title=title, title_justify="left", header_style="bold")
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
        line.append(part)
    console.print(line, soft_wrap=True)


def note(*parts: str | Text) -> None:
    """One line for people on stderr: commentary that a script's stdout should not get."""
    line = Text()
    for part in parts:
        line.append(part)
    errors.print(line, soft_wrap=True)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs (nothing when not a terminal)."""
    with errors.status(Text(message)):
        yield
