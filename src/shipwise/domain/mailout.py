"""Email announcements to users, as values: who may receive one, what a draft says, and
where an announcement stands. Pure: the standard library only.

An announcement is drafted from a release's notes, edited by a person, tried out in a
dry run and then sent to each recipient alone. ``status`` says how far it got:

    draft    written or edited since its last dry run: it cannot be sent yet
    tested   this very version went out in a dry run: it may be sent
    sending  a send began and stopped (the channel failed): sending again continues
    sent     every recipient has been sent it (or refused by their mail server)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from shipwise.domain.release_notes_render import BREAKING, NotesSection

__all__ = [
    "MAX_BODY",
    "MAX_RECIPIENTS",
    "MAX_SUBJECT",
    "USER_FACING",
    "MailoutStatus",
    "address_problem",
    "draft_from_notes",
    "recipients_from",
]

MAX_RECIPIENTS = 5_000  # one list; a bigger audience belongs to a mailing-list service
MAX_SUBJECT = 200
MAX_BODY = 50_000
MAX_ADDRESS = 254  # RFC 5321's limit on a path
# What users care about in the notes; chores, CI, tests and refactoring are the team's.
USER_FACING = (BREAKING, "feat", "fix", "perf")


class MailoutStatus(StrEnum):
    DRAFT = "draft"
    TESTED = "tested"
    SENDING = "sending"
    SENT = "sent"


def address_problem(address: str) -> str | None:
    """Why ``address`` is not one plain email address (``name@example.com``), or None.
    Deliberately strict: no display names, no comments, no line breaks, which would let a
    list smuggle a second recipient or a header into a message."""
    if not address or len(address) > MAX_ADDRESS:
        return f"an address has 3 to {MAX_ADDRESS} characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in address):
        return "an address has no spaces, tabs or line breaks"
    if any(c in address for c in '<>(),;:"[]\\'):
        return "write the address alone, without a name, brackets or commas"
    local, at, domain = address.rpartition("@")
    if not at or not local or "@" in local:
        return "an address has one @ with a name before it"
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels) or domain.startswith("-"):
        return "an address ends in a domain with a dot, like example.com"
    return None


def recipients_from(lines: Iterable[str]) -> tuple[str, ...]:
    """Addresses, one a line (blank lines and ``#`` comments skipped), each checked,
    duplicates (whatever their case) kept once, in the order given. ``ValueError``
    naming the first bad line (1-based) and why; or when there are too many."""
    seen: set[str] = set()
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        address = line.strip()
        if not address or address.startswith("#"):
            continue
        problem = address_problem(address)
        if problem is not None:
            raise ValueError(f"line {number} ({address[:80]!r}): {problem}")
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        kept.append(address)
        if len(kept) > MAX_RECIPIENTS:
            raise ValueError(f"more than {MAX_RECIPIENTS:,} recipients: split the list")
    return tuple(kept)


def draft_from_notes(
    release_title: str, product: str, sections: Sequence[NotesSection]
) -> tuple[str, str]:
    """A subject and a Markdown body for users, from the notes' user-facing sections
    (breaking changes, features, fixes, performance), in the notes' order. A person
    edits it before it goes anywhere: it is a start, not the message."""
    subject = f"New in {product}: {release_title}"[:MAX_SUBJECT]
    lines = [f"# {release_title}", ""]
    shown = [s for s in sections if s.kind in USER_FACING]
    for section in shown:
        lines += [f"## {section.title}", ""]
        for group in section.groups:
            for entry in group.entries:
                scope = f"**{entry.scope}:** " if entry.scope else ""
                lines.append(f"- {scope}{' '.join(entry.text.split())}")
        lines.append("")
    if not shown:
        lines += ["Describe what changed for your users here.", ""]
    return subject, "\n".join(lines).rstrip("\n") + "\n"
