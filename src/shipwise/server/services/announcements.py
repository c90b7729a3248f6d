"""In-app announcements: made, listed, ended early and removed by people (each change
audited on the release, in one unit of work), and served to SDKs and browsers.

Who may: showing something new to an environment's users is a release action
(``MANAGE_RELEASES``, like promoting); ending or removing one shows less, so anyone on
the team who may write flags may (``WRITE_FLAGS``), as anyone may switch a flag off. In
a protected environment (production) the release must have passed its gates into it
first (``release_standing``), as for its flags: otherwise one person could make a release
naming a flag already on for everyone and show every production user what they wrote,
with nobody's approval.

Serving reads the store per request (an index on environment and end): an SDK asks at
most once per refresh interval, a browser once per page, and a cache would have to be
told of every change on every instance. Dismissals are not audited: they are users'
clicks, not changes to the release.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.announcements import (
    Announcement,
    AnnouncementDraft,
    check_draft,
    user_id_problem,
)
from shipwise.domain.protected_paths import release_standing
from shipwise.domain.releases import Release, ReleaseStatus
from shipwise.server.ports import (
    AuditStore,
    Clocked,
    Environment,
    FlagStore,
    PolicySourceStore,
    Project,
    ProjectStore,
    ReleaseStore,
    StoreOf,
)
from shipwise.server.ports.announcements import AnnouncementStore, NewAnnouncement
from shipwise.server.services._common import audit, environment_or_404
from shipwise.server.services.announcement_html import render_announcement
from shipwise.server.services.errors import Conflict, Invalid, NotFound, Refused
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import project_policy
from shipwise.server.services.release_access import release_or_404

__all__ = [
    "MAX_PER_RELEASE",
    "AnnouncementService",
    "AnnouncementState",
    "AnnouncementTx",
    "Serving",
]

MAX_PER_RELEASE = 50  # ended ones included: remove old ones to make room


class AnnouncementTx(
    ProjectStore,
    ReleaseStore,
    PolicySourceStore,
    FlagStore,
    AnnouncementStore,
    AuditStore,
    Clocked,
    Protocol,
):
    """What announcements touch: the release, its project, policy and flags, the
    announcements, the audit."""


class AnnouncementState(StrEnum):
    SCHEDULED = "scheduled"  # its window has not begun
    SHOWING = "showing"  # in its window: users whose flag is on see it
    ENDED = "ended"  # its window is over (or someone ended it early)


@dataclass(frozen=True, slots=True)
class Serving:
    """What an environment serves now: its announcements not yet ended, judged at
    ``now`` (the server's clock)."""

    announcements: tuple[Announcement, ...]
    now: datetime


def _audited(announcement: Announcement) -> dict[str, Any]:
    return {
        "announcement": announcement.id,
        "environment": announcement.environment,
        "flag": announcement.flag,
        "title": announcement.title,
        "link": announcement.link,
        "starts_at": announcement.starts_at.isoformat(),
        "ends_at": announcement.ends_at.isoformat(),
    }


def _target_environment(tx: AnnouncementTx, project: Project, key: str | None) -> Environment:
    """The named environment, else the pipeline's last one (production)."""
    if key is not None:
        return environment_or_404(tx, project, key)
    environments = tx.list_environments(project.id)
    if not environments:
        raise Invalid(f"project {project.key!r} has no environments", field="environment")
    return environments[-1]


def _check_release(release: Release) -> None:
    if release.status in {ReleaseStatus.ABANDONED, ReleaseStatus.ROLLED_BACK}:
        raise Conflict(
            f"release {release.key} is {release.status}: its features are off, so an "
            "announcement of it would announce nothing"
        )


def _check_reached(
    tx: AnnouncementTx, project: Project, release: Release, target: Environment
) -> None:
    """Refuse an announcement to a protected environment the release has not reached."""
    policy = project_policy(tx, project)
    if not policy.is_protected(target.key):
        return
    standing = release_standing(release, target.key, policy)
    if not standing.reached:
        raise Refused(
            f"{target.key} is protected: an announcement to its users waits until the "
            f"release is there, and {standing.why}; {standing.remedy}, then announce it",
            field="environment",
        )


class AnnouncementService:
    def __init__(self, store: StoreOf[AnnouncementTx]) -> None:
        self._store = store

    def state(self, announcement: Announcement) -> AnnouncementState:
        now = self._store_now()
        if announcement.ended_at(now):
            return AnnouncementState.ENDED
        return (
            AnnouncementState.SHOWING
            if announcement.showing_at(now)
            else AnnouncementState.SCHEDULED
        )

    def _store_now(self) -> datetime:
        with self._store.read() as tx:
            return tx.now()

    # -- people ---------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        project_key: str,
        release_key: str,
        draft: AnnouncementDraft,
        environment: str | None = None,
    ) -> Announcement:
        """Store an announcement of the release to ``environment``'s users (default: the
        last environment, production) whose ``draft.flag`` is on."""
        with self._store.transaction() as tx:
            project, release = release_or_404(
                tx, principal, project_key, release_key, Action.MANAGE_RELEASES
            )
            target = _target_environment(tx, project, environment)
            _check_release(release)
            problem = check_draft(draft, release.key, release.flags, tx.now())
            if problem is not None:
                raise Invalid(problem.message, field=problem.field)
            if tx.get_flag(project.id, draft.flag) is None:
                raise NotFound(f"no flag {draft.flag!r} in project {project.key!r}")
            _check_reached(tx, project, release, target)
            if len(tx.list_announcements(project.id, release.id)) >= MAX_PER_RELEASE:
                raise Conflict(
                    f"release {release.key} has {MAX_PER_RELEASE} announcements already; "
                    f"remove old ones (shipwise announcement remove {release.key} ID)"
                )
            stored = tx.add_announcement(
                NewAnnouncement(
                    project.id,
                    release.id,
                    target.id,
                    draft,
                    render_announcement(draft.body),
                    principal.actor,
                    tx.now(),
                )
            )
            audit(
                tx,
                principal,
                "release.announcement.add",
                "release",
                release.key,
                project=project.key,
                environment=target.key,
                after=_audited(stored),
            )
            return stored

    def of_release(
        self, principal: Principal, project_key: str, release_key: str
    ) -> list[Announcement]:
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, release_key, Action.READ)
            return tx.list_announcements(project.id, release.id)

    def show(
        self, principal: Principal, project_key: str, release_key: str, announcement_id: int
    ) -> Announcement:
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, release_key, Action.READ)
            return _announcement_or_404(tx, project, release, announcement_id)

    def end(
        self, principal: Principal, project_key: str, release_key: str, announcement_id: int
    ) -> Announcement:
        """End it now: nobody sees it from now on (it stays listed, as ended)."""
        with self._store.transaction() as tx:
            project, release = release_or_404(
                tx, principal, project_key, release_key, Action.WRITE_FLAGS
            )
            found = _announcement_or_404(tx, project, release, announcement_id)
            now = tx.now()
            if found.ended_at(now):
                raise Conflict(
                    f"announcement {announcement_id} of {release.key} ended at "
                    f"{found.ends_at.isoformat()} already"
                )
            tx.end_announcement(found.id, principal.actor, now)
            audit(
                tx,
                principal,
                "release.announcement.end",
                "release",
                release.key,
                project=project.key,
                environment=found.environment,
                before=_audited(found),
                after={**_audited(found), "ends_at": now.isoformat()},
            )
            return _announcement_or_404(tx, project, release, announcement_id)

    def remove(
        self, principal: Principal, project_key: str, release_key: str, announcement_id: int
    ) -> Announcement:
        """Delete it and its dismissals (ending it keeps the record; this does not)."""
        with self._store.transaction() as tx:
            project, release = release_or_404(
                tx, principal, project_key, release_key, Action.WRITE_FLAGS
            )
            found = _announcement_or_404(tx, project, release, announcement_id)
            tx.remove_announcement(found.id)
            audit(
                tx,
                principal,
                "release.announcement.remove",
                "release",
                release.key,
                project=project.key,
                environment=found.environment,
                before=_audited(found),
            )
            return found

    # -- SDKs and browsers (an SDK key's environment, already authenticated) ----------

    def serving(self, environment_id: int) -> Serving:
        """The environment's announcements not yet ended (showing, or still to come)."""
        with self._store.read() as tx:
            now = tx.now()
            return Serving(tuple(tx.announcements_until(environment_id, now)), now)

    def showing_to(
        self,
        environment_id: int,
        user_id: str | None,
        flag_is_on: Callable[[str], bool],
    ) -> list[Announcement]:
        """What one user sees now: in its window, its flag on for them (``flag_is_on``,
        the environment's engine), not dismissed by ``user_id``."""
        with self._store.read() as tx:
            now = tx.now()
            showing = [
                a
                for a in tx.announcements_until(environment_id, now)
                if a.showing_at(now) and flag_is_on(a.flag)
            ]
            if not showing or not user_id:
                return showing
            gone = tx.dismissed(user_id, [a.id for a in showing])
            return [a for a in showing if a.id not in gone]

    def dismissals(self, environment_id: int, user_id: str) -> list[int]:
        """The ids of the environment's current announcements ``user_id`` dismissed."""
        _check_user(user_id)
        with self._store.read() as tx:
            current = tx.announcements_until(environment_id, tx.now())
            return sorted(tx.dismissed(user_id, [a.id for a in current]))

    def dismiss(self, environment_id: int, announcement_id: int, user_id: str) -> bool:
        """Remember that ``user_id`` dismissed it; False when they had already. Only an
        announcement of this environment (another's is a 404, as if it did not exist)."""
        _check_user(user_id)
        with self._store.transaction() as tx:
            if tx.announcement_environment(announcement_id) != environment_id:
                raise NotFound(f"no announcement {announcement_id} in this key's environment")
            return tx.add_dismissal(announcement_id, user_id, tx.now())


def _check_user(user_id: str) -> None:
    problem = user_id_problem(user_id)
    if problem is not None:
        raise Invalid(problem, field="userId")


def _announcement_or_404(
    tx: AnnouncementTx, project: Project, release: Release, announcement_id: int
) -> Announcement:
    found = tx.get_announcement(project.id, announcement_id)
    if found is None or found.release != release.key:
        raise NotFound(
            f"no announcement {announcement_id} of release {release.key}; "
            f"`shipwise announcement list {release.key}` lists them"
        )
    return found
