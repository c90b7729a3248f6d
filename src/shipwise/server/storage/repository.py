"""The ``Transaction`` port over one SQLAlchemy session: rows in, records out."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shipwise.domain.audit import ChainedRecord, record_hash
from shipwise.server.ports import (
    AuditEntry,
    AuditFilter,
    AuditRecord,
    Change,
    Environment,
    EnvironmentState,
    ExposureCount,
    FlagConfig,
    FlagRecord,
    KeyTaken,
    Project,
    SegmentRecord,
    TokenRecord,
)
from shipwise.server.storage.change_request_repository import ChangeRequestQueries
from shipwise.server.storage.delivery_repository import DeliveryQueries
from shipwise.server.storage.release_repository import ReleaseQueries
from shipwise.server.storage.rollout_repository import RolloutQueries
from shipwise.server.storage.tables import (
    AuditRow,
    ChainHeadRow,
    EnvironmentRow,
    ExposureRow,
    FlagConfigRow,
    FlagRow,
    ProjectRow,
    SegmentRow,
    TokenRow,
)


def utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; everything here is stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def _project(row: ProjectRow) -> Project:
    return Project(row.id, row.key, row.name, row.timezone, utc(row.created_at))


def _environment(row: EnvironmentRow) -> Environment:
    return Environment(
        row.id, row.project_id, row.key, row.name, row.branch, row.position, row.revision
    )


def _flag(row: FlagRow) -> FlagRecord:
    return FlagRecord(
        row.id,
        row.project_id,
        row.key,
        row.kind,
        row.owner,
        row.description,
        tuple(row.tags or ()),
        utc(row.created_at),
        row.archived,
    )


def _config(row: FlagConfigRow) -> FlagConfig:
    return FlagConfig(
        row.flag_id,
        row.environment_id,
        row.enabled,
        list(row.strategies or []),
        list(row.variants or []),
        list(row.dependencies or []),
        row.version,
        utc(row.updated_at),
    )


def _segment(row: SegmentRow) -> SegmentRecord:
    return SegmentRecord(
        row.id,
        row.project_id,
        row.name,
        row.description,
        list(row.constraints or []),
        row.version,
        utc(row.updated_at),
    )


def _token(row: TokenRow) -> TokenRecord:
    return TokenRecord(
        row.id,
        row.name,
        row.kind,
        row.role,
        row.project_id,
        row.environment_id,
        row.prefix,
        row.created_by,
        utc(row.created_at),
        _utc_or_none(row.expires_at),
        _utc_or_none(row.revoked_at),
    )


def audit_fields(row: AuditRow) -> dict[str, Any]:
    """What a record's hash covers: everything but the hashes themselves."""
    return {
        "id": row.id,
        "at": utc(row.at).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "project": row.project,
        "environment": row.environment,
        "target_type": row.target_type,
        "target_key": row.target_key,
        "before": row.before,
        "after": row.after,
        "reason": row.reason,
    }


def _audit(row: AuditRow) -> AuditRecord:
    entry = AuditEntry(
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_key=row.target_key,
        project=row.project,
        environment=row.environment,
        before=row.before,
        after=row.after,
        reason=row.reason,
    )
    return AuditRecord(row.id, utc(row.at), entry, row.previous_hash, row.hash)


class SqlTransaction(ReleaseQueries, RolloutQueries, DeliveryQueries, ChangeRequestQueries):
    def __init__(
        self,
        session: Session,
        clock: Callable[[], datetime],
        changes: list[Change] | None,
        is_sqlite: bool,
    ) -> None:
        self.session = session
        self._clock = clock
        self._changes = changes
        self._is_sqlite = is_sqlite

    def _now(self) -> datetime:
        return self._clock()

    def now(self) -> datetime:
        return self._clock()

    def _flush_new(self, what: str) -> None:
        """Flush an insert; a unique key a concurrent writer took first is ``KeyTaken``
        (on PostgreSQL the insert waits for that writer's commit, then fails here)."""
        try:
            self.session.flush()
        except IntegrityError as error:
            raise KeyTaken(what) from error

    # -- projects and environments ------------------------------------------------

    def get_project(self, key: str) -> Project | None:
        row = self.session.scalar(select(ProjectRow).where(ProjectRow.key == key))
        return None if row is None else _project(row)

    def list_projects(self) -> list[Project]:
        return [
            _project(r) for r in self.session.scalars(select(ProjectRow).order_by(ProjectRow.key))
        ]

    def add_project(self, key: str, name: str, timezone: str) -> Project:
        row = ProjectRow(key=key, name=name, timezone=timezone, created_at=self._now())
        self.session.add(row)
        self._flush_new(f"project {key!r}")
        return _project(row)

    def list_environments(self, project_id: int) -> list[Environment]:
        rows = self.session.scalars(
            select(EnvironmentRow)
            .where(EnvironmentRow.project_id == project_id)
            .order_by(EnvironmentRow.position)
        )
        return [_environment(r) for r in rows]

    def get_environment(self, project_id: int, key: str) -> Environment | None:
        row = self.session.scalar(
            select(EnvironmentRow).where(
                EnvironmentRow.project_id == project_id, EnvironmentRow.key == key
            )
        )
        return None if row is None else _environment(row)

    def get_environment_by_id(self, environment_id: int) -> Environment | None:
        row = self.session.get(EnvironmentRow, environment_id)
        return None if row is None else _environment(row)

    def add_environment(
        self, project_id: int, key: str, name: str, branch: str, position: int
    ) -> Environment:
        row = EnvironmentRow(
            project_id=project_id,
            key=key,
            name=name,
            branch=branch,
            position=position,
            revision=1,
            created_at=self._now(),
        )
        self.session.add(row)
        self._flush_new(f"environment {key!r}")
        return _environment(row)

    def touch(self, environment_ids: Sequence[int]) -> list[Change]:
        if self._changes is None:
            raise RuntimeError("touch() needs a write transaction")
        changes = []
        for environment_id in sorted(set(environment_ids)):
            revision = self.session.execute(
                update(EnvironmentRow)
                .where(EnvironmentRow.id == environment_id)
                .values(revision=EnvironmentRow.revision + 1)
                .returning(EnvironmentRow.revision)
            ).scalar_one()
            changes.append(Change(environment_id, revision))
        self._changes.extend(changes)
        return changes

    # -- flags ----------------------------------------------------------------------

    def list_flags(self, project_id: int) -> list[FlagRecord]:
        rows = self.session.scalars(
            select(FlagRow).where(FlagRow.project_id == project_id).order_by(FlagRow.key)
        )
        return [_flag(r) for r in rows]

    def get_flag(self, project_id: int, key: str) -> FlagRecord | None:
        row = self.session.scalar(
            select(FlagRow).where(FlagRow.project_id == project_id, FlagRow.key == key)
        )
        return None if row is None else _flag(row)

    def add_flag(
        self,
        project_id: int,
        key: str,
        kind: str,
        owner: str | None,
        description: str | None,
        tags: Sequence[str],
    ) -> FlagRecord:
        row = FlagRow(
            project_id=project_id,
            key=key,
            kind=kind,
            owner=owner,
            description=description,
            tags=list(tags),
            created_at=self._now(),
        )
        self.session.add(row)
        self._flush_new(f"flag {key!r}")
        return _flag(row)

    def update_flag(self, flag: FlagRecord) -> FlagRecord:
        row = self.session.get_one(FlagRow, flag.id)
        row.kind, row.owner, row.description = flag.kind, flag.owner, flag.description
        row.tags, row.archived = list(flag.tags), flag.archived
        self.session.flush()
        return _flag(row)

    def get_config(
        self, flag_id: int, environment_id: int, *, for_update: bool = False
    ) -> FlagConfig | None:
        statement = select(FlagConfigRow).where(
            FlagConfigRow.flag_id == flag_id, FlagConfigRow.environment_id == environment_id
        )
        if for_update:  # PostgreSQL: a concurrent writer waits here, then sees our version
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalar(statement)
        return None if row is None else _config(row)

    def configs_for_flag(self, flag_id: int) -> list[FlagConfig]:
        rows = self.session.scalars(select(FlagConfigRow).where(FlagConfigRow.flag_id == flag_id))
        return [_config(r) for r in rows]

    def save_config(self, config: FlagConfig) -> FlagConfig:
        row = self.session.scalar(
            select(FlagConfigRow).where(
                FlagConfigRow.flag_id == config.flag_id,
                FlagConfigRow.environment_id == config.environment_id,
            )
        )
        if row is None:
            row = FlagConfigRow(
                flag_id=config.flag_id, environment_id=config.environment_id, version=1
            )
            self.session.add(row)
        else:
            row.version += 1
        row.enabled = config.enabled
        row.strategies = list(config.strategies)
        row.variants = list(config.variants)
        row.dependencies = list(config.dependencies)
        row.updated_at = self._now()
        self.session.flush()
        return _config(row)

    # -- segments -------------------------------------------------------------------

    def list_segments(self, project_id: int) -> list[SegmentRecord]:
        rows = self.session.scalars(
            select(SegmentRow).where(SegmentRow.project_id == project_id).order_by(SegmentRow.id)
        )
        return [_segment(r) for r in rows]

    def get_segment(
        self, project_id: int, name: str, *, for_update: bool = False
    ) -> SegmentRecord | None:
        statement = select(SegmentRow).where(
            SegmentRow.project_id == project_id, SegmentRow.name == name
        )
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalar(statement)
        return None if row is None else _segment(row)

    def save_segment(
        self, project_id: int, name: str, description: str | None, constraints: list[Any]
    ) -> SegmentRecord:
        row = self.session.scalar(
            select(SegmentRow).where(SegmentRow.project_id == project_id, SegmentRow.name == name)
        )
        if row is None:
            row = SegmentRow(project_id=project_id, name=name, version=1)
            self.session.add(row)
        else:
            row.version += 1
        row.description = description
        row.constraints = list(constraints)
        row.updated_at = self._now()
        self._flush_new(f"segment {name!r}")
        return _segment(row)

    def delete_segment(self, project_id: int, name: str) -> bool:
        deleted = self.session.execute(
            delete(SegmentRow).where(SegmentRow.project_id == project_id, SegmentRow.name == name)
        )
        return bool(getattr(deleted, "rowcount", 0))

    # -- tokens ---------------------------------------------------------------------

    def add_token(
        self,
        *,
        name: str,
        kind: str,
        role: str | None,
        project_id: int | None,
        environment_id: int | None,
        secret_hash: str,
        prefix: str,
        created_by: str,
        expires_at: datetime | None,
    ) -> TokenRecord:
        row = TokenRow(
            name=name,
            kind=kind,
            role=role,
            project_id=project_id,
            environment_id=environment_id,
            secret_hash=secret_hash,
            prefix=prefix,
            created_by=created_by,
            created_at=self._now(),
            expires_at=expires_at,
        )
        self.session.add(row)
        self.session.flush()
        return _token(row)

    def find_token(self, secret_hash: str) -> TokenRecord | None:
        row = self.session.scalar(select(TokenRow).where(TokenRow.secret_hash == secret_hash))
        return None if row is None else _token(row)

    def list_tokens(self, project_id: int | None) -> list[TokenRecord]:
        query = select(TokenRow).order_by(TokenRow.id)
        if project_id is not None:
            query = query.where(TokenRow.project_id == project_id)
        return [_token(r) for r in self.session.scalars(query)]

    def get_token(self, token_id: int) -> TokenRecord | None:
        row = self.session.get(TokenRow, token_id)
        return None if row is None else _token(row)

    def revoke_token(self, token_id: int, at: datetime) -> TokenRecord:
        row = self.session.get_one(TokenRow, token_id)
        row.revoked_at = at
        self.session.flush()
        return _token(row)

    def count_tokens(self) -> int:
        return len(self.session.scalars(select(TokenRow.id)).all())

    # -- audit ----------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditRecord:
        # Locking the head row orders appends across instances (PostgreSQL row lock;
        # SQLite has one writer already).
        head = self.session.scalars(
            select(ChainHeadRow).where(ChainHeadRow.id == 1).with_for_update()
        ).one()  # created by the first migration
        row = AuditRow(
            at=self._now(),
            actor=entry.actor,
            action=entry.action,
            project=entry.project,
            environment=entry.environment,
            target_type=entry.target_type,
            target_key=entry.target_key,
            before=None if entry.before is None else dict(entry.before),
            after=None if entry.after is None else dict(entry.after),
            reason=entry.reason,
            previous_hash=head.last_hash,
            hash="",
        )
        self.session.add(row)
        self.session.flush()  # assigns the id the hash covers
        row.hash = record_hash(row.previous_hash, audit_fields(row))
        head.last_hash = row.hash
        self.session.flush()
        return _audit(row)

    def list_audit(self, query: AuditFilter) -> list[AuditRecord]:
        statement = select(AuditRow).order_by(AuditRow.id.desc()).limit(query.limit)
        if query.project is not None:
            statement = statement.where(AuditRow.project == query.project)
        if query.target_type is not None:
            statement = statement.where(AuditRow.target_type == query.target_type)
        if query.target_key is not None:
            statement = statement.where(AuditRow.target_key == query.target_key)
        if query.before_id is not None:
            statement = statement.where(AuditRow.id < query.before_id)
        if query.environment is not None:
            statement = statement.where(AuditRow.environment == query.environment)
        if query.action is not None:
            family = query.action.removesuffix("*")
            statement = statement.where(
                AuditRow.action.startswith(family, autoescape=True)
                if family != query.action
                else AuditRow.action == query.action
            )
        if query.actor is not None:
            statement = statement.where(AuditRow.actor.icontains(query.actor, autoescape=True))
        # SQLite keeps datetimes without their zone: compare in UTC, as they were stored.
        if query.since is not None:
            statement = statement.where(AuditRow.at >= utc(query.since))
        if query.until is not None:
            statement = statement.where(AuditRow.at < utc(query.until))
        return [_audit(r) for r in self.session.scalars(statement)]

    def iter_audit(self) -> Iterator[AuditRecord]:
        for row in self.session.scalars(select(AuditRow).order_by(AuditRow.id)).yield_per(500):
            yield _audit(row)

    def audit_chain_head(self) -> str | None:
        return self.session.scalar(select(ChainHeadRow.last_hash).where(ChainHeadRow.id == 1))

    def iter_audit_chain(self) -> Iterator[ChainedRecord]:
        for row in self.session.scalars(select(AuditRow).order_by(AuditRow.id)).yield_per(500):
            yield ChainedRecord(row.id, row.previous_hash, row.hash, audit_fields(row))

    # -- metrics --------------------------------------------------------------------

    def add_exposures(
        self, environment_id: int, app_name: str | None, counts: Mapping[str, ExposureCount]
    ) -> int:
        now = self._now()
        rows = [
            ExposureRow(
                environment_id=environment_id,
                flag=flag,
                app_name=app_name,
                received_at=now,
                yes=count.yes,
                no=count.no,
                variants=dict(count.variants),
            )
            for flag, count in counts.items()
        ]
        self.session.add_all(rows)
        self.session.flush()
        return len(rows)

    def exposure_totals(self, environment_id: int) -> dict[str, ExposureCount]:
        totals: dict[str, ExposureCount] = {}
        rows = self.session.scalars(
            select(ExposureRow).where(ExposureRow.environment_id == environment_id)
        )
        for row in rows:
            previous = totals.get(row.flag, ExposureCount(0, 0, {}))
            variants = dict(previous.variants)
            for name, count in (row.variants or {}).items():
                variants[name] = variants.get(name, 0) + int(count)
            totals[row.flag] = ExposureCount(previous.yes + row.yes, previous.no + row.no, variants)
        return totals

    # -- snapshots ------------------------------------------------------------------

    def environment_state(self, environment_id: int) -> EnvironmentState | None:
        environment = self.session.get(EnvironmentRow, environment_id)
        if environment is None:
            return None
        project = self.session.get_one(ProjectRow, environment.project_id)
        rows = self.session.execute(
            select(FlagRow, FlagConfigRow)
            .join(FlagConfigRow, FlagConfigRow.flag_id == FlagRow.id)
            .where(FlagConfigRow.environment_id == environment_id, FlagRow.archived.is_(False))
            .order_by(FlagRow.key)
        ).all()
        return EnvironmentState(
            environment=_environment(environment),
            project=_project(project),
            flags=[(_flag(flag), _config(config)) for flag, config in rows],
            segments=self.list_segments(project.id),
        )
