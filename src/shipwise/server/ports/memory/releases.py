"""Releases, their evidence, CI results, deploys and policy sources, in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from shipwise.domain.github_order import Recorded
from shipwise.domain.releases import (
    Approval,
    ApproverRole,
    ChecklistCheck,
    CiResult,
    Deploy,
    Drill,
    Evidence,
    Release,
    ReleaseStatus,
    SignOff,
    automatic_key_number,
)
from shipwise.server.ports.errors import KeyTaken
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import as_json, utc


class ReleaseQueries(MemoryBase):
    def _release_row(self, project_id: int, release: Release, release_id: int) -> Release:
        """What the SQL store hands back: the project's key, times in UTC, pull requests
        by number."""
        return replace(
            release,
            id=release_id,
            project=self._t.projects[project_id].key,
            created_at=utc(release.created_at),
            content_changed_at=utc(release.content_changed_at),
            flags=tuple(release.flags),
            labels=tuple(release.labels),
            authors=tuple(release.authors),
            pull_requests=tuple(sorted(release.pull_requests, key=lambda p: p.number)),
        )

    def add_release(self, project_id: int, release: Release) -> Release:
        if self.get_release(project_id, release.key) is not None:
            raise KeyTaken(f"release {release.key!r}")
        stored = self._release_row(project_id, release, self._t.next_id("releases"))
        self._t.releases[stored.id] = (project_id, stored)
        return stored

    def save_release(self, release: Release) -> Release:
        project_id, _ = self._t.releases[release.id]
        stored = self._release_row(project_id, release, release.id)
        self._t.releases[release.id] = (project_id, stored)
        return stored

    def get_release(self, project_id: int, key: str, *, for_update: bool = False) -> Release | None:
        return next(
            (r for p, r in self._t.releases.values() if p == project_id and r.key == key), None
        )

    def list_releases(
        self,
        project_id: int,
        *,
        stage: str | None = None,
        status: ReleaseStatus | None = None,
    ) -> list[Release]:
        return [
            r
            for p, r in self._t.releases.values()
            if p == project_id
            and (stage is None or r.stage == stage)
            and (status is None or r.status is status)
        ]

    def newest_releases(self, project_id: int, status: ReleaseStatus, limit: int) -> list[Release]:
        return self.list_releases(project_id, status=status)[::-1][:limit]

    def count_releases(self, project_id: int, status: ReleaseStatus) -> int:
        return len(self.list_releases(project_id, status=status))

    def releases_for_branch(self, project_id: int, branch: str) -> list[Release]:
        return [r for p, r in self._t.releases.values() if p == project_id and r.branch == branch]

    def next_release_number(self, project_id: int) -> int:
        numbers = (automatic_key_number(r.key) for r in self.list_releases(project_id))
        return max((n for n in numbers if n is not None), default=0) + 1

    # -- evidence -----------------------------------------------------------------------

    def add_evidence(
        self,
        release: Release,
        kind: str,
        stage: str,
        actor: str,
        at: datetime,
        data: dict[str, Any],
    ) -> None:
        self._t.evidence.append(
            (release.id, kind, stage, actor, utc(at), release.content_version, as_json(data))
        )

    def evidence(self, project_id: int, release: Release) -> Evidence:
        rows = [row for row in self._t.evidence if row[0] == release.id]
        approvals = tuple(
            Approval(
                actor, frozenset(ApproverRole(x) for x in data.get("roles", [])), stage, at, cv
            )
            for _, kind, stage, actor, at, cv, data in rows
            if kind == "approval"
        )
        checks = tuple(
            ChecklistCheck(data["item"], stage, actor, at, data.get("note"), cv)
            for _, kind, stage, actor, at, cv, data in rows
            if kind == "check"
        )
        signoffs = tuple(
            SignOff(data.get("kind", "qa"), stage, actor, at, cv)
            for _, kind, stage, actor, at, cv, data in rows
            if kind == "signoff"
        )
        drills = tuple(
            Drill(stage, at, bool(data.get("succeeded")), cv, data.get("detail", ""))
            for _, kind, stage, actor, at, cv, data in rows
            if kind == "drill"
        )
        ci: tuple[CiResult, ...] = ()
        deploys: tuple[Deploy, ...] = ()
        if release.commit:
            ci = tuple(
                CiResult(commit, context, state, at)
                for project, commit, context, state, at, _ in self._t.ci_results
                if project == project_id and commit == release.commit
            )
            deploys = tuple(
                Deploy(environment, commit, at, succeeded)
                for project, environment, commit, succeeded, at, _ in self._t.deploys
                if project == project_id and commit == release.commit
            )
        return Evidence(approvals, checks, signoffs, ci, deploys, drills)

    def evidence_for(self, project_id: int, releases: Sequence[Release]) -> dict[int, Evidence]:
        return {r.id: self.evidence(project_id, r) for r in releases}

    def add_ci_result(
        self,
        project_id: int,
        commit: str,
        context: str,
        state: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None:
        event = None if event_at is None else utc(event_at)
        self._t.ci_results.append((project_id, commit, context, state, utc(at), event))

    def last_ci_event(self, project_id: int, commit: str, context: str) -> Recorded | None:
        # Of the same instant, the last recorded: ``max`` keeps the first of equals, and
        # the newest come first.
        events = [
            (event_at, state)
            for project, c, ctx, state, _, event_at in reversed(self._t.ci_results)
            if project == project_id and c == commit and ctx == context and event_at is not None
        ]
        if not events:
            return None
        event_at, state = max(events, key=lambda e: e[0])
        return Recorded(event_at, state)

    def add_deploy(
        self,
        project_id: int,
        environment: str,
        commit: str,
        succeeded: bool,
        reported_by: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None:
        event = None if event_at is None else utc(event_at)
        self._t.deploys.append((project_id, environment, commit, succeeded, utc(at), event))

    def last_deploy_event(self, project_id: int, environment: str, commit: str) -> Recorded | None:
        events = [
            (event_at, succeeded)
            for project, env, c, succeeded, _, event_at in reversed(self._t.deploys)
            if project == project_id and env == environment and c == commit
            if event_at is not None
        ]
        if not events:
            return None
        event_at, succeeded = max(events, key=lambda e: e[0])
        return Recorded(event_at, "success" if succeeded else "failure")

    def recent_deploys(
        self, project_id: int, environment: str, limit: int
    ) -> list[tuple[str, datetime]]:
        successes = sorted(
            (at, order, commit)
            for order, (project, env, commit, succeeded, at, _) in enumerate(self._t.deploys)
            if project == project_id and env == environment and succeeded
        )
        began: dict[str, tuple[datetime, int]] = {}  # commit: start of its last run
        previous: str | None = None
        for at, order, commit in successes:
            if commit != previous:  # a re-report of the commit serving does not move it
                began[commit] = (at, order)
            previous = commit
        ranked = sorted(began.items(), key=lambda item: item[1], reverse=True)
        return [(commit, at) for commit, (at, _) in ranked[:limit]]

    # -- policy -------------------------------------------------------------------------

    def get_policy_source(self, project_id: int) -> tuple[str, int] | None:
        return self._t.policies.get(project_id)

    def save_policy_source(self, project_id: int, source: str, at: datetime) -> int:
        stored = self._t.policies.get(project_id)
        version = 1 if stored is None else stored[1] + 1
        self._t.policies[project_id] = (source, version)
        return version
