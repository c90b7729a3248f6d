"""Release notes laid out for people: sections, label groups, then Markdown.

    arrange(entries) -> tuple[NotesSection, ...]   breaking changes first, then by type
    notes_structure(title, sections) -> dict        plain data: Slack, email, the dashboard
    render_markdown(title, sections) -> str         what ``shipwise release notes`` prints

A breaking change is listed once, under "Breaking changes", whatever its type. Within a
section, entries without a pull-request label come first, then one group per label
(an entry's first label), in the order first seen. Hidden entries are left out. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shipwise.domain.release_notes import OTHER, NoteEntry

__all__ = ["NotesGroup", "NotesSection", "arrange", "notes_structure", "render_markdown"]

BREAKING = "breaking"
# Conventional types in the order a reader cares about; unknown types follow, by name.
_TITLES = {
    BREAKING: "Breaking changes",
    "feat": "Features",
    "fix": "Bug fixes",
    "perf": "Performance",
    "refactor": "Refactoring",
    "docs": "Documentation",
    "test": "Tests",
    "build": "Build",
    "ci": "Continuous integration",
    "style": "Style",
    "chore": "Chores",
    "revert": "Reverts",
}
_OTHER_TITLE = "Other changes"


@dataclass(frozen=True, slots=True)
class NotesGroup:
    label: str | None  # None: entries without a pull-request label
    entries: tuple[NoteEntry, ...]


@dataclass(frozen=True, slots=True)
class NotesSection:
    kind: str  # "breaking", a conventional type, or "other"
    title: str
    groups: tuple[NotesGroup, ...]


def _section_of(entry: NoteEntry) -> str:
    return BREAKING if entry.breaking else entry.type


def _order(kind: str) -> tuple[int, str]:
    known = list(_TITLES)
    if kind in _TITLES:
        return (known.index(kind), "")
    return (len(known) + (1 if kind == OTHER else 0), kind)


def _title(kind: str) -> str:
    return _TITLES.get(kind, _OTHER_TITLE if kind == OTHER else kind)


def _groups(entries: Sequence[NoteEntry]) -> tuple[NotesGroup, ...]:
    by_label: dict[str | None, list[NoteEntry]] = {None: []}
    for entry in entries:
        by_label.setdefault(entry.labels[0] if entry.labels else None, []).append(entry)
    return tuple(NotesGroup(label, tuple(found)) for label, found in by_label.items() if found)


def arrange(entries: Sequence[NoteEntry]) -> tuple[NotesSection, ...]:
    """The visible ``entries`` in sections (each entry in exactly one), in reading order."""
    by_kind: dict[str, list[NoteEntry]] = {}
    for entry in entries:
        if not entry.hidden:
            by_kind.setdefault(_section_of(entry), []).append(entry)
    return tuple(
        NotesSection(
            kind, _TITLES.get(kind, _OTHER_TITLE if kind == OTHER else kind), _groups(found)
        )
        for kind, found in sorted(by_kind.items(), key=lambda item: _order(item[0]))
    )


def _entry_dict(entry: NoteEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "type": entry.type,
        "scope": entry.scope,
        "breaking": entry.breaking,
        "text": entry.text,
        "pull_request": entry.pull_request,
        "labels": list(entry.labels),
        "commits": list(entry.commits),
        "edited": entry.edited,
    }


def notes_structure(title: str, sections: Sequence[NotesSection]) -> dict[str, Any]:
    """The notes as plain data (JSON-ready) for other renderers."""
    return {
        "title": title,
        "sections": [
            {
                "kind": section.kind,
                "title": section.title,
                "groups": [
                    {"label": group.label, "entries": [_entry_dict(e) for e in group.entries]}
                    for group in section.groups
                ],
            }
            for section in sections
        ],
    }


def _line(entry: NoteEntry) -> str:
    scope = f"**{entry.scope}:** " if entry.scope else ""
    kind = f"{entry.type}: " if entry.breaking and entry.type != OTHER else ""
    pull = f" (#{entry.pull_request})" if entry.pull_request is not None else ""
    if entry.pull_request is None and entry.commits:
        pull = f" ({entry.commits[0][:7]})"
    text = " ".join(entry.text.split())  # one line per entry, whatever was typed
    return f"- {kind}{scope}{text}{pull}"


def render_markdown(title: str, sections: Sequence[NotesSection]) -> str:
    lines = [f"# {title}", ""]
    if not sections:
        lines += ["No changes.", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for group in section.groups:
            if group.label is not None:
                lines += [f"### {group.label}", ""]
            lines += [_line(entry) for entry in group.entries]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
