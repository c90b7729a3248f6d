"""Bug fixes that are due: a sweep the runner's loop runs, telling the team once per
release when a fix is due soon (``fix.due_soon``) and once when it is overdue
(``fix.overdue``), by its severity's fix-by time (``domain.release_timing``).

"Soon" is the last quarter of the fix window, at most a day: the last 6 hours of a
high-severity fix's 24, the last day of a medium one's week. A critical fix is due at
once, so it is overdue as soon as it exists (the domain's rule), and never "due soon".

The outbox's dedupe keys make each message once per release and kind, across restarts
and instances; the sweep also remembers what it told, so a quiet round only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.domain.events import EventKind
from shipwise.domain.release_timing import fix_by, is_overdue
from shipwise.domain.releases import Release, ReleaseStatus
from shipwise.server.ports import Clocked, StoreOf
from shipwise.server.services.notifications import AnnounceTx
from shipwise.server.services.project_policy import PolicyReader
from shipwise.server.services.release_news import ReleaseNews, in_words, named
from shipwise.server.services.release_policy import ReleasePolicy

SOON_SHARE = 0.25  # the last quarter of the fix window is "soon"
SOON_AT_MOST = timedelta(days=1)


class SweepTx(AnnounceTx, PolicyReader, Clocked, Protocol):
    """What the sweep reads (every project's releases in progress and its policy) and
    the outbox it writes to."""


@dataclass(frozen=True, slots=True)
class Due:
    kind: EventKind
    release: Release
    due: datetime


class FixSweep:
    def __init__(self, store: StoreOf[SweepTx], policy: ReleasePolicy, news: ReleaseNews) -> None:
        self._store = store
        self._policy = policy
        self._news = news
        self._told: set[tuple[int, EventKind]] = set()  # (release id, kind) told here

    def sweep(self) -> int:
        """Tell what became due since the last sweep; how many messages were queued."""
        with self._store.read() as tx:
            now = tx.now()
            found = [d for d in self._due(tx, now) if (d.release.id, d.kind) not in self._told]
        for due in found:
            with self._store.transaction() as tx:
                self._announce(tx, due, tx.now())
            self._told.add((due.release.id, due.kind))
        return len(found)

    def _due(self, tx: SweepTx, now: datetime) -> list[Due]:
        found: list[Due] = []
        for project in tx.list_projects():
            releases = tx.list_releases(project.id, status=ReleaseStatus.IN_PROGRESS)
            fixes = [r for r in releases if r.severity is not None]
            if not fixes:
                continue
            policy = self._policy.policy_for(tx, project)
            for release in fixes:
                due = fix_by(release, policy)
                if due is None:
                    continue
                if is_overdue(release, policy, now):
                    found.append(Due(EventKind.FIX_OVERDUE, release, due))
                elif now >= due - min((due - release.created_at) * SOON_SHARE, SOON_AT_MOST):
                    found.append(Due(EventKind.FIX_DUE_SOON, release, due))
        return found

    def _announce(self, tx: SweepTx, due: Due, now: datetime) -> None:
        release = due.release
        severity = release.severity.value if release.severity is not None else "?"
        when = due.due.isoformat(timespec="minutes")
        if due.kind is EventKind.FIX_OVERDUE:
            title = f"Fix {named(release)} is overdue"
            if due.due <= release.created_at:
                first = f"A {severity}-severity fix is due at once; it is still in progress."
            else:
                first = (
                    f"This {severity}-severity fix was due at {when}, "
                    f"{in_words(now - due.due)} ago; it is still in progress."
                )
        else:
            title = f"Fix {named(release)} is due in {in_words(due.due - now)}"
            first = f"This {severity}-severity fix is due at {when}; it is still in progress."
        stage = f"in {release.stage}" if release.stage else "not promoted anywhere yet"
        self._news.announce(
            tx,
            due.kind,
            release,
            title,
            [first, f"It is {stage}; its owner is {release.owner}."],
            now=now,
            event_key="due",
            data={"due": due.due.isoformat(), "severity": severity},
        )
