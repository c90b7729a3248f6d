"""The ``Transaction`` port over one SQLAlchemy session: rows in, records out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shipwise.server.ports import (
    Change,
    Environment,
    EnvironmentState,
    FlagConfig,
    FlagRecord,
    KeyTaken,
    Project,
    SegmentRecord,
)
from shipwise.server.storage.announcement_repository import AnnouncementQueries
from shipwise.server.storage.calendar_feed_repository import CalendarFeedQueries
from shipwise.server.storage.change_request_repository import ChangeRequestQueries
from shipwise.server.storage.channel_repository import ChannelQueries
from shipwise.server.storage.delivery_repository import DeliveryQueries
from shipwise.server.storage.flag_listing import FlagListingQueries
from shipwise.server.storage.learning_repository import LearningsQueries
from shipwise.server.storage.ledger_repository import LedgerQueries
from shipwise.server.storage.mailout_repository import MailoutQueries
from shipwise.server.storage.outbox_repository import OutboxQueries
from shipwise.server.storage.release_notes_repository import ReleaseNotesQueries
from shipwise.server.storage.release_repository import ReleaseQueries
from shipwise.server.storage.rollout_repository import RolloutQueries
from shipwise.server.storage.session_repository import SessionQueries
from shipwise.server.storage.subscription_repository import SubscriptionQueries
from shipwise.server.storage.tables import (
    EnvironmentRow,
    FlagConfigRow,
    FlagRow,
    ProjectRow,
    SegmentRow,
)
from shipwise.server.storage.timestamps import utc
from shipwise.server.storage.vercel_repository import VercelQueries


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


class SqlTransaction(
    LedgerQueries,
    ReleaseQueries,
    RolloutQueries,
    OutboxQueries,
    DeliveryQueries,
    ChangeRequestQueries,
    SessionQueries,
    FlagListingQueries,
    ChannelQueries,
    ReleaseNotesQueries,
    SubscriptionQueries,
    MailoutQueries,
    AnnouncementQueries,
    CalendarFeedQueries,
    LearningsQueries,
    VercelQueries,
):
    _flag_record = staticmethod(_flag)
    _config_record = staticmethod(_config)

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

    def configs_for_project(self, project_id: int) -> list[FlagConfig]:
        rows = self.session.scalars(
            select(FlagConfigRow)
            .join(FlagRow, FlagRow.id == FlagConfigRow.flag_id)
            .where(FlagRow.project_id == project_id)
        )
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
