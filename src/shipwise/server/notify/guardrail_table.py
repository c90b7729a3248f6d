"""The guardrails a notification carries (``data["guardrails"]``, written by the
rollout's news), read back for the channels that draw them as a table: Slack's blocks
and the email's HTML table and plain-text columns.

A notification's ``text`` already has each guardrail as a line (``- <line>``) for the
channels that show text alone (the log, a webhook's ``text``); ``around`` splits the
text where those lines are, so a channel can put its table in their place. What it
reads came through the outbox as JSON and may be from an older version: anything that
is not a guardrail as this version writes it is left out, and a notification with none
is rendered as text alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipwise.server.ports import Notification

COLUMNS = ("metric", "with", "without", "change", "interval", "verdict")
EMPTY = "-"  # a cell with no number (a threshold has nothing "without")


@dataclass(frozen=True, slots=True)
class Row:
    """One guardrail as the table shows it: words only, as the news wrote them."""

    metric: str
    verdict: str  # the verdict's value: healthy, regressed, inconclusive, error, ...
    with_feature: str
    without_feature: str
    change: str
    interval: str
    said: str  # the verdict in words: "no worse than allowed (+10%)"
    line: str  # the whole sentence, as in the text

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """The table's cells, in ``COLUMNS`` order (an empty number as a dash)."""
        return (
            self.metric,
            self.with_feature or EMPTY,
            self.without_feature or EMPTY,
            self.change or EMPTY,
            self.interval or EMPTY,
            self.said,
        )


def rows(notification: Notification) -> list[Row]:
    found = notification.data.get("guardrails")
    if not isinstance(found, Sequence) or isinstance(found, str):
        return []
    return [row for item in found if (row := _row(item)) is not None]


def _row(item: Any) -> Row | None:
    if not isinstance(item, Mapping):
        return None
    shown = item.get("shown")
    shown = shown if isinstance(shown, Mapping) else {}
    name, line = item.get("name"), item.get("line")
    if not isinstance(name, str) or not isinstance(line, str):
        return None
    words = {key: shown.get(key, "") for key in ("with", "without", "change", "interval")}
    said = shown.get("verdict", "")
    if not all(isinstance(w, str) for w in (*words.values(), said)):
        return None
    return Row(
        name,
        str(item.get("verdict", "")),
        str(words["with"]),
        str(words["without"]),
        str(words["change"]),
        str(words["interval"]),
        str(said),
        line,
    )


def around(notification: Notification, found: Sequence[Row]) -> tuple[str, str] | None:
    """The text before the first guardrail line (ending with their heading, which
    heads the table instead) and the text after it without any guardrail line; None
    when the text has none of them."""
    bullets = {f"- {row.line}" for row in found}
    lines = notification.text.split("\n")
    first = next((i for i, line in enumerate(lines) if line in bullets), None)
    if first is None:
        return None
    after = [line for line in lines[first:] if line not in bullets]
    return "\n".join(lines[:first]).strip("\n"), "\n".join(after).strip("\n")
