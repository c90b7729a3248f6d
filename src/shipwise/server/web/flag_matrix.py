"""The flag page's matrix: one column per environment, one row per part of the rules
(state, strategies, variants, dependencies), and each column's difference from the
environment named in ``?compare=``.

A part is a list of lines (one strategy, one variant, ...); the difference is the lines
an environment has that the compared one lacks (``added``) and the lines it lacks
(``removed``), in order, by ``difflib`` so a reordered strategy shows as moved.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from shipwise.server.ports import FlagConfig
from shipwise.server.web.flag_words import (
    Cell,
    Kill,
    cell,
    dependency_words,
    strategy_words,
    variant_words,
)


class Mark(StrEnum):
    SAME = "same"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    mark: Mark = Mark.SAME


@dataclass(frozen=True, slots=True)
class Part:
    """One row's cell: its lines, and whether they differ from the compared column."""

    lines: tuple[Line, ...]
    differs: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    parts: tuple[Part, ...]  # one per environment, in pipeline order


@dataclass(frozen=True, slots=True)
class Matrix:
    cells: tuple[Cell, ...]  # one per environment, in pipeline order
    rows: tuple[Row, ...]
    compare: str | None  # the environment the others are compared with


def _lines(config: FlagConfig, column: Cell, segments: Mapping[int, str]) -> dict[str, list[str]]:
    state = [column.words]
    if column.kill is not None:
        state.append(f"kill switch: {column.kill.reason}")
    return {
        "State": state,
        "Who, when on": ["; ".join(strategy_words(s, segments)) for s in config.strategies]
        or ["everyone (no strategies)"],
        "Variants": [variant_words(v) for v in config.variants] or ["none"],
        "Depends on": [dependency_words(d) for d in config.dependencies] or ["nothing"],
    }


def _diff(mine: list[str], theirs: list[str]) -> Part:
    if mine == theirs:
        return Part(tuple(Line(text) for text in mine))
    lines = []
    for entry in difflib.ndiff(theirs, mine):
        code, text = entry[:2], entry[2:]
        if code == "+ ":
            lines.append(Line(text, Mark.ADDED))
        elif code == "- ":
            lines.append(Line(text, Mark.REMOVED))
        elif code == "  ":
            lines.append(Line(text))
    return Part(tuple(lines), differs=True)


def build_matrix(
    flag: str,
    configs: Mapping[str, FlagConfig],
    kills: Mapping[tuple[str, str], tuple[int, Kill]],
    segments: Mapping[int, str],
    compare: str | None,
) -> Matrix:
    """``compare`` must be one of ``configs`` (the page checks it) or None."""
    cells = {env: cell(flag, env, config, kills) for env, config in configs.items()}
    lines = {env: _lines(config, cells[env], segments) for env, config in configs.items()}
    labels = next(iter(lines.values())).keys() if lines else ()
    rows = []
    for label in labels:
        parts = []
        for env in configs:
            mine = lines[env][label]
            if compare is None or env == compare:
                parts.append(Part(tuple(Line(text) for text in mine)))
            else:
                parts.append(_diff(mine, lines[compare][label]))
        rows.append(Row(label, tuple(parts)))
    return Matrix(tuple(cells.values()), tuple(rows), compare)
