"""A release's learnings: read them (with the timeline filled from the audit record)
and save them, audited, in one unit of work.

A save names the version it read: a save over a newer one is refused (409, naming who
saved in between and when) and changes nothing, as a flag edit with a stale ``If-Match``.
The release's row lock serialises two saves, so the second always sees the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.domain.learnings import (
    LearningsDraft,
    LearningsInvalid,
    TimelineLine,
    draft_from_data,
    parse_learnings,
    timeline,
)
from shipwise.domain.releases import Release
from shipwise.server.ports import AuditStore, Clocked, StoreOf
from shipwise.server.ports.learnings import LearningsStore, StoredLearnings
from shipwise.server.services._common import audit
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.success_reports import GatherTx, gather

MAX_VERSION = 2**31 - 1


class LearningsTx(GatherTx, LearningsStore, AuditStore, Clocked, Protocol):
    """What learnings touch: the release and its plans' audit (the timeline), their row."""


@dataclass(frozen=True, slots=True)
class LearningsView:
    release: Release
    draft: LearningsDraft
    timeline: tuple[TimelineLine, ...]  # the audit record's lines and people's, in order
    version: int  # 0: never saved
    updated_by: str | None
    updated_at: datetime | None


def _view(tx: LearningsTx, release: Release, stored: StoredLearnings | None) -> LearningsView:
    project = tx.get_project(release.project)
    draft = LearningsDraft() if stored is None else draft_from_data(stored.data)
    acts = () if project is None else gather(tx, project, release).acts
    return LearningsView(
        release,
        draft,
        tuple(timeline(acts, draft.added_lines)),
        0 if stored is None else stored.version,
        None if stored is None else stored.updated_by,
        None if stored is None else stored.updated_at,
    )


def version_of(value: object) -> int:
    """The version a save says it read: a whole number, 0 for "never saved"."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VERSION:
        raise Invalid(
            "version is the version you read (a whole number; 0 before the first save)",
            field="version",
        )
    return value


class LearningsService:
    def __init__(self, store: StoreOf[LearningsTx]) -> None:
        self._store = store

    def show(self, principal: Principal, project_key: str, key: str) -> LearningsView:
        with self._store.read() as tx:
            _project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            return _view(tx, release, tx.get_learnings(release.id))

    def save(
        self, principal: Principal, project_key: str, key: str, data: object, version: object
    ) -> LearningsView:
        """Replace the learnings with ``data`` (every field; the timeline's added lines
        only), if ``version`` is still the current one."""
        read = version_of(version)
        try:
            draft = parse_learnings(data)
        except LearningsInvalid as invalid:
            raise Invalid(invalid.message, field=invalid.field) from None
        with self._store.transaction() as tx:
            project, release = release_or_404(
                tx, principal, project_key, key, Action.MANAGE_RELEASES
            )
            current = tx.get_learnings(release.id)
            now_at = 0 if current is None else current.version
            if read != now_at:
                raise Conflict(_stale(key, read, current), field="version")
            saved = tx.save_learnings(project.id, release.id, draft.to_data(), principal.person)
            audit(
                tx,
                principal,
                "release.learnings",
                "release",
                release.key,
                project=project.key,
                before={"version": now_at},
                after={
                    "version": saved.version,
                    "action_items": len(draft.action_items),
                    "timeline_lines": len(draft.added_lines),
                },
            )
            return _view(tx, release, saved)


def _stale(key: str, read: int, current: StoredLearnings | None) -> str:
    if current is None:
        return (
            f"the learnings of {key} have not been saved yet, but your edit says it read "
            f"version {read}: send version 0; nothing changed"
        )
    return (
        f"the learnings of {key} were changed by {current.updated_by} at "
        f"{current.updated_at:%Y-%m-%d %H:%M} UTC since you read them (version "
        f"{current.version}, yours {read}): reload them and make your change again; "
        "nothing changed"
    )
