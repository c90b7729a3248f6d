"""A release's learnings: what went well, what did not, the contributing factors, action
items (what, who owns it, by when) and the timeline of what happened.

``parse_learnings`` reads what a person sent (the API's JSON, a TOML or JSON file from
the CLI, the dashboard's form) and refuses it naming the field at fault; every text and
list is bounded, so a release's record stays a document people read. ``timeline`` fills
the timeline from the audit record (each event's time, who and what) and merges the
lines people added. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shipwise.domain.success_report import ACTS, Act, person_of

MAX_TEXT = 5000  # went_well, went_badly, contributing_factors: each
MAX_ITEMS = 50  # action items
MAX_ITEM_TEXT = 500  # an item's "what", a timeline line's "what"
MAX_OWNER = 100
MAX_LINES = 200  # timeline lines people add
TEXT_FIELDS = ("went_well", "went_badly", "contributing_factors")


class LearningsInvalid(ValueError):
    """What a person sent does not fit; ``field`` names where (``action_items[2].due``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class ActionItem:
    what: str
    owner: str
    due: date


@dataclass(frozen=True, slots=True)
class TimelineLine:
    at: datetime
    who: str
    what: str
    added: bool = False  # written by a person, not read from the audit record


@dataclass(frozen=True, slots=True)
class LearningsDraft:
    """What people wrote (the timeline: only the lines they added)."""

    went_well: str = ""
    went_badly: str = ""
    contributing_factors: str = ""
    action_items: tuple[ActionItem, ...] = ()
    added_lines: tuple[TimelineLine, ...] = ()

    @property
    def empty(self) -> bool:
        return self == LearningsDraft()

    def to_data(self) -> dict[str, Any]:
        """As stored and as the API shows it (dates and times in ISO 8601)."""
        return {
            "went_well": self.went_well,
            "went_badly": self.went_badly,
            "contributing_factors": self.contributing_factors,
            "action_items": [
                {"what": i.what, "owner": i.owner, "due": i.due.isoformat()}
                for i in self.action_items
            ],
            "timeline": [
                {"at": line.at.isoformat(), "who": line.who, "what": line.what}
                for line in self.added_lines
            ],
        }


def parse_learnings(data: object) -> LearningsDraft:
    """``data`` as a draft, or ``LearningsInvalid`` naming the first field at fault.
    Unknown keys are refused (a misspelt field would otherwise be lost silently)."""
    if not isinstance(data, Mapping):
        raise LearningsInvalid("learnings are an object of fields", "learnings")
    known = {*TEXT_FIELDS, "action_items", "timeline", "version"}
    for key in data:
        if key not in known:
            raise LearningsInvalid(
                f"unknown field {str(key)[:60]!r}: the fields are {', '.join(sorted(known))}",
                str(key)[:60],
            )
    texts = {name: _text(data.get(name, ""), name, MAX_TEXT) for name in TEXT_FIELDS}
    items = _list(data.get("action_items", []), "action_items", MAX_ITEMS)
    lines = _list(data.get("timeline", []), "timeline", MAX_LINES)
    return LearningsDraft(
        went_well=texts["went_well"],
        went_badly=texts["went_badly"],
        contributing_factors=texts["contributing_factors"],
        action_items=tuple(_item(item, f"action_items[{i}]") for i, item in enumerate(items)),
        added_lines=tuple(_line(line, f"timeline[{i}]") for i, line in enumerate(lines)),
    )


def draft_from_data(data: Mapping[str, Any]) -> LearningsDraft:
    """A stored draft back (stored only after ``parse_learnings`` passed it)."""
    return parse_learnings({k: v for k, v in data.items() if k != "version"})


def _text(value: object, field: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LearningsInvalid(f"{field} is text", field)
    if "\x00" in value:
        raise LearningsInvalid(f"{field} has a NUL character", field)
    value = value.strip()
    if len(value) > limit:
        raise LearningsInvalid(f"{field} is {len(value):,} characters; at most {limit:,}", field)
    if required and not value:
        raise LearningsInvalid(f"{field} is empty: say it in a few words", field)
    return value


def _list(value: object, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise LearningsInvalid(f"{field} is a list", field)
    if len(value) > limit:
        raise LearningsInvalid(f"{field} has {len(value)} entries; at most {limit}", field)
    return value


def _fields(value: object, field: str, names: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise LearningsInvalid(f"{field} is an object with {', '.join(names)}", field)
    for key in value:
        if key not in names:
            name = str(key)[:60]
            raise LearningsInvalid(f"{field} has no field {name!r}", f"{field}.{name}")
    return value


def _item(value: object, field: str) -> ActionItem:
    item = _fields(value, field, ("what", "owner", "due"))
    what = _text(item.get("what"), f"{field}.what", MAX_ITEM_TEXT, required=True)
    owner = _text(item.get("owner"), f"{field}.owner", MAX_OWNER, required=True)
    due = item.get("due")
    if isinstance(due, datetime):
        due = due.date()
    if isinstance(due, str):
        typed = due
        try:
            due = date.fromisoformat(typed.strip())
        except ValueError:
            raise LearningsInvalid(
                f"{field}.due is a date like 2026-12-31, not {typed[:40]!r}", f"{field}.due"
            ) from None
    if not isinstance(due, date):
        raise LearningsInvalid(f"{field}.due is a date like 2026-12-31", f"{field}.due")
    return ActionItem(what, owner, due)


def _line(value: object, field: str) -> TimelineLine:
    line = _fields(value, field, ("at", "who", "what"))
    who = _text(line.get("who"), f"{field}.who", MAX_OWNER, required=True)
    what = _text(line.get("what"), f"{field}.what", MAX_ITEM_TEXT, required=True)
    at = line.get("at")
    if isinstance(at, str):
        typed = at
        try:
            at = datetime.fromisoformat(typed.strip())
        except ValueError:
            raise LearningsInvalid(
                f"{field}.at is a time like 2026-12-06T14:30:00Z, not {typed[:40]!r}",
                f"{field}.at",
            ) from None
    if not isinstance(at, datetime):
        raise LearningsInvalid(f"{field}.at is a time like 2026-12-06T14:30:00Z", f"{field}.at")
    if at.tzinfo is None:
        raise LearningsInvalid(f"{field}.at needs a time zone (Z for UTC)", f"{field}.at")
    return TimelineLine(at.astimezone(UTC), who, what, added=True)


def timeline(acts: Sequence[Act], added: Sequence[TimelineLine] = ()) -> list[TimelineLine]:
    """Every audit record about the release and its plans, oldest first, with the lines
    people added in their place: who (a person, or "Shipwise" for the runner and the
    system) and what, in words where the action has them."""
    lines = [
        TimelineLine(
            act.at,
            person_of(act.actor) or "Shipwise",
            _what(act),
        )
        for act in sorted(acts, key=lambda a: (a.at, a.seq))
    ]
    return sorted([*lines, *added], key=lambda line: (line.at, line.added))


def _what(act: Act) -> str:
    words = ACTS.get(act.action, act.action)
    where = f" in {act.environment}" if act.environment else ""
    why = f": {act.reason}" if act.reason else ""
    return f"{words}{where}{why}"
