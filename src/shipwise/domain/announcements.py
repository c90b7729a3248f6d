"""In-app announcements: what a release tells its users inside the application.

An announcement belongs to one release and one environment. Its audience is one of the
release's flags: a user sees it only while that flag is on for them (the SDK's and the
frontend API's engine decides), between ``starts_at`` (inclusive) and ``ends_at``
(exclusive), and not after they dismissed it. Its body is Markdown; the server keeps
the sanitised HTML beside it (rendering needs ``nh3``, so it lives in the server, not
here). Pure values and checks: time comes in as ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from shipwise.domain.text import name_problem

MAX_TITLE = 120
MAX_BODY = 10_000
MAX_LINK = 2_000
MAX_USER_ID = 256  # a dismissal's user id: Unleash's userId is free text, bounded here
LINK_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class AnnouncementDraft:
    """What a person asks for; ``check_draft`` says whether it may be stored."""

    flag: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Announcement:
    """A stored announcement. ``html`` is ``body`` rendered and sanitised by the server;
    ``ended_by`` is set when someone ended it early (``ends_at`` is then that moment)."""

    id: int
    project: str
    release: str
    environment: str
    flag: str
    title: str
    body: str
    html: str
    link: str | None
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    ended_by: str | None = None

    def showing_at(self, moment: datetime) -> bool:
        """Whether the announcement is in its window at ``moment`` (the audience's flag
        and the user's dismissals are decided elsewhere)."""
        return self.starts_at <= moment < self.ends_at

    def ended_at(self, moment: datetime) -> bool:
        """Whether its window is over at ``moment``: it will never show again."""
        return moment >= self.ends_at


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a draft cannot be stored: the field at fault and what to do, in words."""

    field: str
    message: str


def _unstorable(text: str) -> str | None:
    """Why neither database can store ``text`` (a NUL, a lone surrogate half), or None."""
    if "\x00" in text:
        return "contains a NUL character, which cannot be stored"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "contains a lone UTF-16 surrogate, which cannot be stored"
    return None


def link_problem(link: str) -> str | None:
    """Why ``link`` cannot be an announcement's link, or None: an absolute http(s) URL
    with a host, no spaces or control characters, at most ``MAX_LINK`` characters."""
    if len(link) > MAX_LINK:
        return f"is {len(link)} characters; at most {MAX_LINK}"
    if _unstorable(link):
        return _unstorable(link)
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in link):
        return "contains a space or control character; percent-encode it"
    try:
        parts = urlsplit(link)
    except ValueError as error:
        return f"is not a URL ({error})"
    if parts.scheme.lower() not in LINK_SCHEMES:
        return f"must be an http:// or https:// address, got {link[:40]!r}"
    if not parts.hostname:
        return "names no host; give an absolute address such as https://example.com/whats-new"
    return None


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _time_problem(draft: AnnouncementDraft, now: datetime) -> Problem | None:
    for name in ("starts_at", "ends_at"):
        moment: datetime = getattr(draft, name)
        if moment.tzinfo is None:
            return Problem(name, "give a time zone, e.g. 2027-03-01T09:00:00+00:00")
        # Stored in UTC: a time the zone pushes out of years 1-9999 there (0001-01-01
        # at +14:00) cannot be kept by any database.
        if not EARLIEST <= moment <= LATEST:
            return Problem(name, f"{moment.isoformat()} is out of range: 1970 to 9999 (UTC)")
    if draft.ends_at <= draft.starts_at:
        return Problem(
            "ends_at",
            f"ends_at ({draft.ends_at.isoformat()}) must be after starts_at "
            f"({draft.starts_at.isoformat()})",
        )
    if draft.ends_at <= now:
        return Problem(
            "ends_at", f"ends_at ({draft.ends_at.isoformat()}) has passed: nobody would see it"
        )
    return None


def check_draft(
    draft: AnnouncementDraft, release_key: str, release_flags: tuple[str, ...], now: datetime
) -> Problem | None:
    """The first reason ``draft`` cannot be stored for a release naming
    ``release_flags``, or None."""
    if draft.flag not in release_flags:
        named = ", ".join(release_flags) if release_flags else "no flags"
        return Problem(
            "flag",
            f"flag {draft.flag!r} is not one of release {release_key}'s flags ({named}): "
            "an announcement's audience is a flag the release turns on",
        )
    title = name_problem(draft.title)
    if title is not None:
        return Problem("title", f"title {title}")
    if len(draft.title) > MAX_TITLE:
        return Problem("title", f"title is {len(draft.title)} characters; at most {MAX_TITLE}")
    if not draft.body.strip():
        return Problem("body", "body is empty; write what users should know (Markdown)")
    if len(draft.body) > MAX_BODY:
        return Problem("body", f"body is {len(draft.body)} characters; at most {MAX_BODY}")
    if _unstorable(draft.body):
        return Problem("body", f"body {_unstorable(draft.body)}")
    if draft.link is not None:
        problem = link_problem(draft.link)
        if problem is not None:
            return Problem("link", f"link {problem}")
    return _time_problem(draft, now)


def user_id_problem(user_id: object) -> str | None:
    """Why ``user_id`` cannot key a dismissal, or None."""
    if not isinstance(user_id, str) or not user_id:
        return "userId is required: the user whose dismissal this is"
    if len(user_id) > MAX_USER_ID:
        return f"userId is {len(user_id)} characters; at most {MAX_USER_ID}"
    if _unstorable(user_id):
        return f"userId {_unstorable(user_id)}"
    return None
