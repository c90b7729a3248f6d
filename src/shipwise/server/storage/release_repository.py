"""Releases, their evidence, CI results, deploys and policies: rows in, domain values out.
Mixed into ``SqlTransaction`` so one unit of work covers flags and releases alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func, or_, select
from sqlalchemy.orm import Session

from shipwise.domain.github_order import Recorded
from shipwise.domain.releases import (
    AUTOMATIC_KEY_DIGITS,
    AUTOMATIC_KEY_PREFIX,
    Approval,
    ApproverRole,
    ChangeKind,
    ChecklistCheck,
    CiResult,
    Deploy,
    Drill,
    Evidence,
    EvidenceKind,
    PullRequest,
    Release,
    ReleaseStatus,
    Severity,
    SignOff,
)
from shipwise.server.storage.tables import (
    CiResultRow,
    DeployRow,
    EvidenceRow,
    PolicyRow,
    ProjectRow,
    PullRequestRow,
    ReleaseRow,
)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _pull_request(row: PullRequestRow) -> PullRequest:
    return PullRequest(
        row.number,
        row.title,
        row.url,
        row.head_branch,
        row.base_branch,
        row.merged,
        row.merge_commit,
    )


def _domain_release(row: ReleaseRow, project: str, pulls: Sequence[PullRequest]) -> Release:
    return Release(
        id=row.id,
        project=project,
        key=row.key,
        title=row.title,
        kind=ChangeKind(row.kind),
        owner=row.owner,
        created_at=_utc(row.created_at),
        content_changed_at=_utc(row.content_changed_at),
        severity=None if row.severity is None else Severity(row.severity),
        flags=tuple(row.flags or ()),
        commit=row.commit,
        branch=row.branch,
        pull_requests=tuple(pulls),
        rollback_plan=row.rollback_plan,
        communication_plan=row.communication_plan,
        justification=row.justification,
        stage=row.stage,
        status=ReleaseStatus(row.status),
        content_version=row.content_version,
        labels=tuple(row.labels or ()),
        authors=tuple(row.authors or ()),
        help_docs=row.help_docs,
    )


# Keys of the automatic form whose number counts ("rel-" and 1 to 18 digits), matched in
# SQL before the digits are cast, so no other key is ever cast.
_AUTOMATIC_KEY = f"^{AUTOMATIC_KEY_PREFIX}[0-9]{{1,{AUTOMATIC_KEY_DIGITS}}}$"


_CHUNK = 500  # ids bound per IN list: far below SQLite's and psycopg's parameter limits


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _evidence(
    rows: Sequence[EvidenceRow], ci: Sequence[CiResult], deploys: Sequence[Deploy]
) -> Evidence:
    """One release's evidence rows (oldest first) and its commit's CI results and deploys."""
    approvals = tuple(
        Approval(
            r.actor,
            frozenset(ApproverRole(x) for x in r.data.get("roles", [])),
            r.stage,
            _utc(r.at),
            r.content_version,
        )
        for r in rows
        if r.kind == EvidenceKind.APPROVAL
    )
    checks = tuple(
        ChecklistCheck(
            r.data["item"], r.stage, r.actor, _utc(r.at), r.data.get("note"), r.content_version
        )
        for r in rows
        if r.kind == EvidenceKind.CHECK
    )
    signoffs = tuple(
        SignOff(r.data.get("kind", "qa"), r.stage, r.actor, _utc(r.at), r.content_version)
        for r in rows
        if r.kind == EvidenceKind.SIGNOFF
    )
    drills = tuple(
        Drill(
            r.stage,
            _utc(r.at),
            bool(r.data.get("succeeded")),
            r.content_version,
            r.data.get("detail", ""),
        )
        for r in rows
        if r.kind == EvidenceKind.DRILL
    )
    return Evidence(approvals, checks, signoffs, tuple(ci), tuple(deploys), drills)


class ReleaseQueries:
    session: Session
    _flush_new: Callable[[str], None]  # SqlTransaction's: a unique key taken is KeyTaken

    def _release(self, row: ReleaseRow) -> Release:
        return self._releases([row], ReleaseRow.id == row.id)[0]

    def _releases(self, rows: Iterable[ReleaseRow], *where: ColumnElement[bool]) -> list[Release]:
        """``rows`` (of one project, selected by ``where``) with their pull requests:
        one query for the project and one for the pull requests of them all, however
        many rows there are (no query per release, and no list of ids to bind)."""
        rows = list(rows)
        if not rows:
            return []
        project = self.session.get_one(ProjectRow, rows[0].project_id)
        pulls: dict[int, list[PullRequest]] = defaultdict(list)
        for pull in self.session.scalars(
            select(PullRequestRow)
            .join(ReleaseRow, ReleaseRow.id == PullRequestRow.release_id)
            .where(*where)
            .order_by(PullRequestRow.release_id, PullRequestRow.number)
        ):
            pulls[pull.release_id].append(_pull_request(pull))
        return [_domain_release(row, project.key, pulls[row.id]) for row in rows]

    def _select_releases(self, *where: ColumnElement[bool]) -> list[Release]:
        rows = self.session.scalars(select(ReleaseRow).where(*where).order_by(ReleaseRow.id))
        return self._releases(rows, *where)

    def add_release(self, project_id: int, release: Release) -> Release:
        row = ReleaseRow(project_id=project_id)
        self.session.add(row)
        self._fill(row, release)
        self._flush_new(f"release {release.key!r}")
        self._sync_pull_requests(row.id, release.pull_requests)
        return self._release(row)

    def save_release(self, release: Release) -> Release:
        row = self.session.get_one(ReleaseRow, release.id)
        self._fill(row, release)
        self._sync_pull_requests(row.id, release.pull_requests)
        self.session.flush()
        return self._release(row)

    @staticmethod
    def _fill(row: ReleaseRow, release: Release) -> None:
        row.key, row.title, row.kind, row.owner = (
            release.key,
            release.title,
            release.kind.value,
            release.owner,
        )
        row.severity = None if release.severity is None else release.severity.value
        row.authors, row.flags, row.labels = (
            list(release.authors),
            list(release.flags),
            list(release.labels),
        )
        row.commit, row.branch = release.commit, release.branch
        row.rollback_plan, row.communication_plan = (
            release.rollback_plan,
            release.communication_plan,
        )
        row.help_docs = release.help_docs
        row.justification, row.stage, row.status = (
            release.justification,
            release.stage,
            release.status.value,
        )
        row.content_version = release.content_version
        row.created_at, row.content_changed_at = release.created_at, release.content_changed_at

    def _sync_pull_requests(self, release_id: int, pulls: Sequence[PullRequest]) -> None:
        existing = {
            r.number: r
            for r in self.session.scalars(
                select(PullRequestRow).where(PullRequestRow.release_id == release_id)
            )
        }
        wanted = {p.number: p for p in pulls}
        for number, row in existing.items():
            if number not in wanted:
                self.session.delete(row)
        for number, pull in wanted.items():
            row = existing.get(number) or PullRequestRow(release_id=release_id, number=number)
            row.title, row.url = pull.title, pull.url
            row.head_branch, row.base_branch = pull.head_branch, pull.base_branch
            row.merged, row.merge_commit = pull.merged, pull.merge_commit
            self.session.add(row)

    def get_release(self, project_id: int, key: str, *, for_update: bool = False) -> Release | None:
        query = select(ReleaseRow).where(ReleaseRow.project_id == project_id, ReleaseRow.key == key)
        row = self.session.scalar(query.with_for_update() if for_update else query)
        return None if row is None else self._release(row)

    def list_releases(
        self,
        project_id: int,
        *,
        stage: str | None = None,
        status: ReleaseStatus | None = None,
    ) -> list[Release]:
        where = [ReleaseRow.project_id == project_id]
        if stage is not None:
            where.append(ReleaseRow.stage == stage)
        if status is not None:
            where.append(ReleaseRow.status == status.value)
        return self._select_releases(*where)

    def newest_releases(self, project_id: int, status: ReleaseStatus, limit: int) -> list[Release]:
        where = [ReleaseRow.project_id == project_id, ReleaseRow.status == status.value]
        newest = select(ReleaseRow.id).where(*where).order_by(ReleaseRow.id.desc()).limit(limit)
        # The same selection bounds the pull-request read, so it stays one query.
        rows = self.session.scalars(
            select(ReleaseRow).where(ReleaseRow.id.in_(newest)).order_by(ReleaseRow.id.desc())
        )
        return self._releases(rows, ReleaseRow.id.in_(newest))

    def count_releases(self, project_id: int, status: ReleaseStatus) -> int:
        counted = select(func.count()).where(
            ReleaseRow.project_id == project_id, ReleaseRow.status == status.value
        )
        return self.session.scalar(counted) or 0

    def releases_for_branch(self, project_id: int, branch: str) -> list[Release]:
        return self._select_releases(
            ReleaseRow.project_id == project_id, ReleaseRow.branch == branch
        )

    def next_release_number(self, project_id: int) -> int:
        # The highest number of an automatic-form key, computed by the database: a count
        # would collide after a key given by hand ("rel-3" beside one other release).
        # Writers numbering in one project take turns on its row (PostgreSQL; SQLite's
        # writers already do): two reading the same highest number would both pick it.
        self.session.execute(
            select(ProjectRow.id).where(ProjectRow.id == project_id).with_for_update()
        )
        digits = cast(func.substr(ReleaseRow.key, len(AUTOMATIC_KEY_PREFIX) + 1), BigInteger)
        highest = self.session.scalar(
            select(func.max(digits)).where(
                ReleaseRow.project_id == project_id,
                ReleaseRow.key.regexp_match(_AUTOMATIC_KEY),
            )
        )
        return (highest or 0) + 1

    # -- evidence -------------------------------------------------------------------

    def add_evidence(
        self,
        release: Release,
        kind: EvidenceKind,
        stage: str,
        actor: str,
        at: datetime,
        data: dict[str, Any],
    ) -> None:
        self.session.add(
            EvidenceRow(
                release_id=release.id,
                kind=EvidenceKind(kind).value,
                stage=stage,
                actor=actor,
                at=at,
                content_version=release.content_version,
                data=data,
            )
        )
        self.session.flush()

    def evidence(self, project_id: int, release: Release) -> Evidence:
        return self.evidence_for(project_id, [release])[release.id]

    def evidence_for(self, project_id: int, releases: Sequence[Release]) -> dict[int, Evidence]:
        ids = sorted({r.id for r in releases})
        commits = sorted({r.commit for r in releases if r.commit})
        rows: dict[int, list[EvidenceRow]] = defaultdict(list)
        ci: dict[str, list[CiResult]] = defaultdict(list)
        deploys: dict[str, list[Deploy]] = defaultdict(list)
        for chunk in _chunks(ids):
            for row in self.session.scalars(
                select(EvidenceRow)
                .where(EvidenceRow.release_id.in_(chunk))
                .order_by(EvidenceRow.id)
            ):
                rows[row.release_id].append(row)
        for chunk in _chunks(commits):
            for c in self.session.scalars(
                select(CiResultRow)
                .where(CiResultRow.project_id == project_id, CiResultRow.commit.in_(chunk))
                .order_by(CiResultRow.id)
            ):
                ci[c.commit].append(CiResult(c.commit, c.context, c.state, _utc(c.at)))
            for d in self.session.scalars(
                select(DeployRow)
                .where(DeployRow.project_id == project_id, DeployRow.commit.in_(chunk))
                .order_by(DeployRow.id)
            ):
                deploys[d.commit].append(Deploy(d.environment, d.commit, _utc(d.at), d.succeeded))
        return {
            r.id: _evidence(
                rows[r.id],
                ci[r.commit] if r.commit else [],
                deploys[r.commit] if r.commit else [],
            )
            for r in releases
        }

    def add_ci_result(
        self,
        project_id: int,
        commit: str,
        context: str,
        state: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None:
        self.session.add(
            CiResultRow(
                project_id=project_id,
                commit=commit,
                context=context,
                state=state,
                at=at,
                event_at=event_at,
            )
        )
        self.session.flush()

    def last_ci_event(self, project_id: int, commit: str, context: str) -> Recorded | None:
        row = self.session.scalar(
            select(CiResultRow)
            .where(
                CiResultRow.project_id == project_id,
                CiResultRow.commit == commit,
                CiResultRow.context == context,
                CiResultRow.event_at.is_not(None),
            )
            # Of the same instant, the last recorded: the one that was let replace the other.
            .order_by(CiResultRow.event_at.desc(), CiResultRow.id.desc())
            .limit(1)
        )
        if row is None or row.event_at is None:
            return None
        return Recorded(_utc(row.event_at), row.state)

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
        self.session.add(
            DeployRow(
                project_id=project_id,
                environment=environment,
                commit=commit,
                succeeded=succeeded,
                reported_by=reported_by,
                at=at,
                event_at=event_at,
            )
        )
        self.session.flush()

    def last_deploy_event(self, project_id: int, environment: str, commit: str) -> Recorded | None:
        row = self.session.scalar(
            select(DeployRow)
            .where(
                DeployRow.project_id == project_id,
                DeployRow.environment == environment,
                DeployRow.commit == commit,
                DeployRow.event_at.is_not(None),
            )
            .order_by(DeployRow.event_at.desc(), DeployRow.id.desc())
            .limit(1)
        )
        if row is None or row.event_at is None:
            return None
        return Recorded(_utc(row.event_at), "success" if row.succeeded else "failure")

    def recent_deploys(
        self, project_id: int, environment: str, limit: int
    ) -> list[tuple[str, datetime]]:
        # The successes in the order recorded (ties in time: the later report); a run of
        # one commit (a CI re-run reporting it again) starts at its first success, and
        # each commit is dated by the start of its last run.
        runs = (
            select(
                DeployRow.id,
                DeployRow.commit,
                DeployRow.at,
                func.lag(DeployRow.commit)
                .over(order_by=(DeployRow.at, DeployRow.id))
                .label("previous"),
            )
            .where(
                DeployRow.project_id == project_id,
                DeployRow.environment == environment,
                DeployRow.succeeded.is_(True),
            )
            .subquery()
        )
        began = func.max(runs.c.at)
        rows = self.session.execute(
            select(runs.c.commit, began)
            .where(or_(runs.c.previous.is_(None), runs.c.previous != runs.c.commit))
            .group_by(runs.c.commit)
            .order_by(began.desc(), func.max(runs.c.id).desc())
            .limit(limit)
        )
        return [(commit, _utc(at)) for commit, at in rows]

    # -- policy ---------------------------------------------------------------------

    def get_policy_source(self, project_id: int) -> tuple[str, int] | None:
        row = self.session.scalar(select(PolicyRow).where(PolicyRow.project_id == project_id))
        return None if row is None else (row.source, row.version)

    def save_policy_source(self, project_id: int, source: str, at: datetime) -> int:
        row = self.session.scalar(
            select(PolicyRow).where(PolicyRow.project_id == project_id).with_for_update()
        )
        if row is None:
            row = PolicyRow(project_id=project_id, source=source, version=1, updated_at=at)
            self.session.add(row)
        else:
            row.source, row.version, row.updated_at = source, row.version + 1, at
        self.session.flush()
        return row.version
