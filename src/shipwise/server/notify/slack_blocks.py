"""A notification as a Slack message: Block Kit blocks and the plain-text ``text``
fallback (what notifications and screen readers show), within Slack's limits.

    header   the title (plain text, at most 150 characters)
    section  the text, as mrkdwn, cut into sections of at most 3,000 characters
    context  kind · project · release · flag · environment · severity

A rollout's guardrails (``guardrail_table``) are drawn where their lines are in the
text: a section each (the verdict in words, the numbers with and without the feature,
the change) and a context line under it (the interval, the verdict).

Slack reads ``<``, ``>`` and ``&`` in mrkdwn as links, mentions and entities, so every
piece of text is escaped (``&amp;``, ``&lt;``, ``&gt;``): a flag's description cannot
ping ``<!channel>``. At most 50 blocks: a longer text ends with a section saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shipwise.server.notify import guardrail_table
from shipwise.server.ports import Notification

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FALLBACK = 3000  # Slack truncates ``text`` past 40,000; a notification says less
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
FIELDS = ("kind", "project", "release", "flag", "environment", "severity")
SEVERITY_MARK = {"info": "", "warning": ":warning: ", "critical": ":rotating_light: "}
VERDICT_MARK = {
    "healthy": ":white_check_mark: ",
    "regressed": ":x: ",
    "inconclusive": ":hourglass_flowing_sand: ",
    "error": ":warning: ",
}


def escape(text: str) -> str:
    """``text`` safe in mrkdwn and in ``text``: the three characters Slack reserves."""
    return "".join(_ESCAPES.get(c, c) for c in text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sections_of(text: str, limit: int = MAX_SECTION) -> Iterator[str]:
    """``text`` escaped, in pieces of at most ``limit`` characters, never cutting an
    entity in two; a piece ends at a line break when one is near."""
    piece: list[str] = []
    size = 0
    for char in text:
        escaped = _ESCAPES.get(char, char)
        if size + len(escaped) > limit:
            joined = "".join(piece)
            cut = joined.rfind("\n", limit // 2)
            if cut > 0:
                yield joined[:cut]
                piece, size = [joined[cut + 1 :]], len(joined) - cut - 1
            else:
                yield joined
                piece, size = [], 0
        piece.append(escaped)
        size += len(escaped)
    if piece and "".join(piece).strip():
        yield "".join(piece)


def fallback(notification: Notification) -> str:
    """The plain-text ``text``: the title, then the text (escaped, as Slack wants)."""
    mark = SEVERITY_MARK.get(notification.severity, ":warning: ")
    return _cut(escape(f"{mark}{notification.title}\n{notification.text}".strip()), MAX_FALLBACK)


def blocks(notification: Notification) -> list[dict[str, Any]]:
    title = " ".join(notification.title.split()) or notification.kind
    found: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, MAX_HEADER)}}
    ]
    room = MAX_BLOCKS - 2  # the header, and the context at the end
    found += _with_guardrails(notification, room) or _text(notification.text, room)
    facts = [
        f"{name}: *{escape(str(getattr(notification, name)))}*"
        for name in FIELDS
        if getattr(notification, name) is not None
    ]
    context = _cut(" · ".join(facts), MAX_SECTION)
    found.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return found


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _text(text: str, room: int) -> list[dict[str, Any]]:
    pieces = list(sections_of(text))
    if len(pieces) > room:
        pieces = [*pieces[: room - 1], "_(the rest is cut: Slack shows at most 50 blocks)_"]
    return [_section(p) for p in pieces]


def _with_guardrails(notification: Notification, room: int) -> list[dict[str, Any]] | None:
    """The text with its guardrail lines drawn as a section each (the verdict in words,
    both arms' numbers, the change) and a context line (the interval, the verdict);
    None when there are none, or too many to fit: then the lines stay text."""
    rows = guardrail_table.rows(notification)
    split = guardrail_table.around(notification, rows) if rows else None
    if split is None:
        return None
    before, after = list(sections_of(split[0])), list(sections_of(split[1]))
    if len(before) + 2 * len(rows) + len(after) > room:
        return None
    drawn: list[dict[str, Any]] = []
    for row in rows:
        numbers = [
            f"{label} *{escape(value)}*"
            for label, value in (
                ("with the feature", row.with_feature),
                ("without", row.without_feature),
                ("change", row.change),
            )
            if value
        ]
        mark = VERDICT_MARK.get(row.verdict, "")
        said = f"{mark}*{escape(row.metric)}*: {escape(row.said)}"
        text = "\n".join([said, " · ".join(numbers)]) if numbers else said
        drawn.append(_section(_cut(text, MAX_SECTION)))
        facts = [escape(row.interval)] if row.interval else []
        facts.append(f"verdict: {escape(row.verdict or 'unknown')}")
        context = _cut(" · ".join(facts), MAX_SECTION)
        drawn.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return [*map(_section, before), *drawn, *map(_section, after)]


def message(notification: Notification) -> dict[str, Any]:
    """``text`` and ``blocks``: the body an incoming webhook takes, and the arguments of
    ``chat.postMessage`` / ``chat.update``."""
    return {"text": fallback(notification), "blocks": blocks(notification)}
