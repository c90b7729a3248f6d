"""Calendar feed links: a secret address (``/calendar/<token>.ics``) a person subscribes
to in a calendar app, which cannot send an Authorization header (Google Calendar's
"secret address" works the same way). The feed shows the project's upcoming and
running releases' monitoring schedules (``schedules.feed_schedules``).

Any member of a project may make a link (it shows only what they can read), named for
whoever uses it; the address is shown once, when it is made. Only the SHA-256 of its
token is stored and a link is found by that hash (an indexed lookup, not a comparison in
Python), so a copy of the database opens no feed. A link lives no longer than the api
token it was made with: once that token is revoked or expired (the person left the
team), the link opens nothing, as a dashboard session signed in with it ends. The
member who made a link, or whoever may manage the project's tokens, revokes it. Making
and revoking are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.server.ports import AuditStore, Clocked, ProjectStore, StoreOf, TokenStore
from shipwise.server.ports.calendar_feeds import CalendarFeedRecord, CalendarFeedStore
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Forbidden, Invalid, NotFound
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_news import Links
from shipwise.server.services.schedule_ics import calendar_document
from shipwise.server.services.schedules import ScheduleTx, feed_schedules

__all__ = ["FEED_PREFIX", "MAX_TOKEN", "CalendarFeedService", "CreatedFeed", "FeedTx"]

FEED_PREFIX = "sw_cal_"
MAX_TOKEN = 64  # characters: a token is the prefix and 43 of base64url
MAX_NAME = 100


class FeedTx(
    CalendarFeedStore, ScheduleTx, ProjectStore, TokenStore, AuditStore, Clocked, Protocol
):
    """What a feed touches: its links, their makers' tokens, the schedules it shows, the
    audit log."""


@dataclass(frozen=True, slots=True)
class CreatedFeed:
    feed: CalendarFeedRecord
    url: str  # the secret address, shown once


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeedService:
    def __init__(self, store: StoreOf[FeedTx], links: Links) -> None:
        self._store = store
        self._links = links

    def url_of(self, token: str) -> str:
        return f"{self._links.base.rstrip('/')}/calendar/{token}.ics"

    def create(self, principal: Principal, project_key: str, name: str | None) -> CreatedFeed:
        name = (name or principal.person).strip()
        if not name or len(name) > MAX_NAME or any(ord(c) < 0x20 for c in name):
            raise Invalid(f"a feed's name is one line of 1 to {MAX_NAME} characters", field="name")
        token = FEED_PREFIX + secrets.token_urlsafe(32)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            feed = tx.add_calendar_feed(
                project.id, name, _hash(token), principal.actor, principal.token_id
            )
            after = {"id": feed.id, "name": name}
            audit(
                tx,
                principal,
                "calendar.create",
                "calendar-feed",
                str(feed.id),
                project=project_key,
                after=after,
            )
        return CreatedFeed(feed, self.url_of(token))

    def list(self, principal: Principal, project_key: str) -> list[CalendarFeedRecord]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.list_calendar_feeds(project.id)

    def revoke(self, principal: Principal, project_key: str, feed_id: int) -> CalendarFeedRecord:
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            feed = tx.get_calendar_feed(feed_id)
            if feed is None or feed.project_id != project.id:
                raise NotFound(f"no calendar feed {feed_id} in project {project_key!r}")
            if feed.created_by != principal.actor:
                try:
                    principal.require(Action.MANAGE_TOKENS, project)
                except Forbidden:
                    raise Forbidden(
                        f"calendar feed {feed_id} was made by someone else: only they, or "
                        "whoever manages the project's tokens, may revoke it"
                    ) from None
            revoked = tx.revoke_calendar_feed(feed_id)
            assert revoked is not None  # found above, in this unit of work
            if feed.revoked_at is None:
                audit(
                    tx,
                    principal,
                    "calendar.revoke",
                    "calendar-feed",
                    str(feed_id),
                    project=project_key,
                    before={"id": feed_id, "name": feed.name},
                )
            return revoked

    def feed(self, token: str) -> bytes | None:
        """The feed behind ``token`` as iCalendar; None for a token that opens nothing
        (unknown, revoked, malformed): one answer for all, so a guess learns nothing."""
        if not token.startswith(FEED_PREFIX) or len(token) > MAX_TOKEN:
            return None
        with self._store.read() as tx:
            feed = tx.calendar_feed_by_hash(_hash(token))
            if feed is None or feed.revoked_at is not None:
                return None
            now = tx.now()
            if not _maker_still_valid(tx, feed, now):
                return None
            project = next((p for p in tx.list_projects() if p.id == feed.project_id), None)
            if project is None:
                return None
            shown = feed_schedules(tx, project, now, self._links)
        return calendar_document(shown, f"{project.name}: monitoring schedules", now)


def _maker_still_valid(tx: FeedTx, feed: CalendarFeedRecord, now: datetime) -> bool:
    """Whether the api token the link was made with still works (a link made on the
    server's host has none, and answers to the host alone)."""
    if feed.token_id is None:
        return True
    token = tx.get_token(feed.token_id)
    if token is None or token.revoked_at is not None:
        return False
    return token.expires_at is None or now < token.expires_at
