"""Releases, their evidence, CI results, deploys and the project's policy source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.github_order import Recorded
from shipwise.domain.releases import Evidence, EvidenceKind, Release, ReleaseStatus


class PolicySourceStore(Protocol):
    """The project's policy (``shipwise.toml``) as applied, and its version."""

    def get_policy_source(self, project_id: int) -> tuple[str, int] | None: ...
    def save_policy_source(self, project_id: int, source: str, at: datetime) -> int:
        """Store a new version (1 for the first); its number."""
        ...


class DeployHistory(Protocol):
    """What was deployed where, newest first (a deploy comparison reads it)."""

    def recent_deploys(
        self, project_id: int, environment: str, limit: int
    ) -> list[tuple[str, datetime]]:
        """The last ``limit`` commits deployed successfully to the environment, each once,
        newest first, with the time it began serving (as recorded): its first success
        after another commit's. A commit reported again while serving (a CI re-run) keeps
        that time; one deployed again later (a revert: A, B, A) takes the later one."""
        ...


class ReleaseStore(PolicySourceStore, DeployHistory, Protocol):
    """Releases, their evidence, CI results, deploys and the project's policy."""

    def add_release(self, project_id: int, release: Release) -> Release: ...
    def save_release(self, release: Release) -> Release: ...
    def get_release(
        self, project_id: int, key: str, *, for_update: bool = False
    ) -> Release | None: ...
    def list_releases(
        self,
        project_id: int,
        *,
        stage: str | None = None,
        status: ReleaseStatus | None = None,
    ) -> list[Release]:
        """Oldest first; only those in ``stage`` and with ``status`` when given."""
        ...

    def newest_releases(self, project_id: int, status: ReleaseStatus, limit: int) -> list[Release]:
        """The ``limit`` newest releases with ``status`` (the last added), newest first:
        the board's "released" column, however long the history."""
        ...

    def count_releases(self, project_id: int, status: ReleaseStatus) -> int: ...
    def releases_for_branch(self, project_id: int, branch: str) -> list[Release]: ...
    def next_release_number(self, project_id: int) -> int:
        """One more than the highest number of a key of the automatic form ("rel-<n>",
        ``domain.releases.automatic_key_number``), keys given by hand included."""
        ...

    def add_evidence(
        self,
        release: Release,
        kind: EvidenceKind,
        stage: str,
        actor: str,
        at: datetime,
        data: dict[str, Any],
    ) -> None: ...
    def evidence(self, project_id: int, release: Release) -> Evidence: ...
    def evidence_for(self, project_id: int, releases: Sequence[Release]) -> dict[int, Evidence]:
        """``evidence`` of each release, by release id, in a fixed number of reads
        whatever the number of releases (the board judges every card at once)."""
        ...

    def add_ci_result(
        self,
        project_id: int,
        commit: str,
        context: str,
        state: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None: ...
    def add_deploy(
        self,
        project_id: int,
        environment: str,
        commit: str,
        succeeded: bool,
        reported_by: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None: ...
    def last_ci_event(self, project_id: int, commit: str, context: str) -> Recorded | None:
        """The newest result with an ``event_at`` for the commit and context."""
        ...

    def last_deploy_event(self, project_id: int, environment: str, commit: str) -> Recorded | None:
        """The newest deploy with an ``event_at`` of the commit to the environment
        (state ``success`` or ``failure``)."""
        ...
