"""Rollout plans, templates, metric definitions, observations and the notification
outbox: rows in, records out. Mixed into ``SqlTransaction`` so a step applied to a flag,
the plan's new state, its audit record and its notifications commit together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shipwise.domain.plan_format import parse_plan, plan_to_dict
from shipwise.domain.rollout import ACTIVE, PlanSpec, PlanState, PlanStatus
from shipwise.domain.rollout_samples import SAMPLE
from shipwise.server.ports import (
    EventTotals,
    ExposureCount,
    MetricDefinition,
    RolloutCheck,
    RolloutPlanRecord,
    TrackedEvent,
)
from shipwise.server.storage.tables import (
    EnvironmentRow,
    ExposureRow,
    FlagRow,
    MetricDefinitionRow,
    ProjectRow,
    PushedMetricRow,
    ReleaseRow,
    RolloutCheckRow,
    RolloutPlanRow,
    RolloutTemplateRow,
    TrackedEventRow,
)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _state(row: RolloutPlanRow) -> PlanState:
    return PlanState(
        status=PlanStatus(row.status),
        step=row.step,
        started_at=_utc(row.started_at) or row.started_at,
        step_started_at=_utc(row.step_started_at) or row.step_started_at,
        reason=row.reason,
        approved_step=row.approved_step,
        baking_since=_utc(row.baking_since),
        finished_at=_utc(row.finished_at),
        notified=frozenset(row.notified or ()),
    )


def _write_state(row: RolloutPlanRow, state: PlanState) -> None:
    row.status = state.status.value
    row.step = state.step
    row.started_at = state.started_at
    row.step_started_at = state.step_started_at
    row.reason = state.reason
    row.approved_step = state.approved_step
    row.baking_since = state.baking_since
    row.finished_at = state.finished_at
    row.notified = sorted(state.notified)


def _record(
    row: RolloutPlanRow, project: str, flag: str, environment: str, release: str | None
) -> RolloutPlanRecord:
    return RolloutPlanRecord(
        id=row.id,
        project=project,
        flag=flag,
        environment=environment,
        release=release,
        spec=parse_plan(row.spec),
        state=_state(row),
        version=row.version,
        next_check_at=_utc(row.next_check_at),
        created_by=row.created_by,
        created_at=_utc(row.created_at) or row.created_at,
        judgements=dict(row.judgements or {}),
    )


class RolloutQueries:
    session: Session
    _now: Callable[[], datetime]
    _is_sqlite: bool

    # -- plans ------------------------------------------------------------------------

    def _plan(self, row: RolloutPlanRow) -> RolloutPlanRecord:
        project = self.session.get_one(ProjectRow, row.project_id)
        flag = self.session.get_one(FlagRow, row.flag_id)
        environment = self.session.get_one(EnvironmentRow, row.environment_id)
        release = self.session.get(ReleaseRow, row.release_id) if row.release_id else None
        return _record(
            row, project.key, flag.key, environment.key, release.key if release else None
        )

    def add_plan(
        self,
        project_id: int,
        flag_id: int,
        environment_id: int,
        release_id: int | None,
        spec: PlanSpec,
        state: PlanState,
        next_check_at: datetime | None,
        created_by: str,
    ) -> RolloutPlanRecord:
        row = RolloutPlanRow(
            project_id=project_id,
            flag_id=flag_id,
            environment_id=environment_id,
            release_id=release_id,
            spec=plan_to_dict(spec),
            judgements={},
            next_check_at=next_check_at,
            version=1,
            created_by=created_by,
            created_at=self._now(),
        )
        _write_state(row, state)
        self.session.add(row)
        self.session.flush()
        return self._plan(row)

    def get_plan(self, plan_id: int, *, for_update: bool = False) -> RolloutPlanRecord | None:
        query = select(RolloutPlanRow).where(RolloutPlanRow.id == plan_id)
        if for_update and not self._is_sqlite:
            query = query.with_for_update()
        row = self.session.scalars(query).first()
        return None if row is None else self._plan(row)

    def save_plan(
        self,
        plan: RolloutPlanRecord,
        state: PlanState,
        next_check_at: datetime | None,
        judgements: Mapping[str, Any] | None = None,
    ) -> RolloutPlanRecord:
        row = self.session.get_one(RolloutPlanRow, plan.id)
        _write_state(row, state)
        row.next_check_at = next_check_at if state.status in ACTIVE else None
        if judgements is not None:
            row.judgements = dict(judgements)
        row.version += 1
        self.session.flush()
        return self._plan(row)

    def list_plans(
        self,
        project_id: int,
        *,
        flag_id: int | None = None,
        environment_id: int | None = None,
        release_id: int | None = None,
        active_only: bool = False,
    ) -> list[RolloutPlanRecord]:
        # The keys come in the same query: one statement however many plans (loading
        # each plan's flag and release by id was a query per plan).
        query = (
            select(RolloutPlanRow, ProjectRow.key, FlagRow.key, EnvironmentRow.key, ReleaseRow.key)
            .join(ProjectRow, ProjectRow.id == RolloutPlanRow.project_id)
            .join(FlagRow, FlagRow.id == RolloutPlanRow.flag_id)
            .join(EnvironmentRow, EnvironmentRow.id == RolloutPlanRow.environment_id)
            .outerjoin(ReleaseRow, ReleaseRow.id == RolloutPlanRow.release_id)
            .where(RolloutPlanRow.project_id == project_id)
        )
        if flag_id is not None:
            query = query.where(RolloutPlanRow.flag_id == flag_id)
        if environment_id is not None:
            query = query.where(RolloutPlanRow.environment_id == environment_id)
        if release_id is not None:
            query = query.where(RolloutPlanRow.release_id == release_id)
        if active_only:
            query = query.where(RolloutPlanRow.status.in_([s.value for s in ACTIVE]))
        rows = self.session.execute(query.order_by(RolloutPlanRow.id))
        return [_record(plan, p, f, e, r) for plan, p, f, e, r in rows]

    def due_plans(self, now: datetime, limit: int) -> list[int]:
        query = (
            select(RolloutPlanRow.id)
            .where(RolloutPlanRow.next_check_at.is_not(None), RolloutPlanRow.next_check_at <= now)
            .order_by(RolloutPlanRow.next_check_at)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def wake_plans(self, environment_id: int, flags: Sequence[str], now: datetime) -> int:
        flag_ids = select(FlagRow.id).where(FlagRow.key.in_(list(flags)))
        result = self.session.execute(
            update(RolloutPlanRow)
            .where(
                RolloutPlanRow.environment_id == environment_id,
                RolloutPlanRow.flag_id.in_(flag_ids),
                RolloutPlanRow.next_check_at > now,
            )
            .values(next_check_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def add_check(self, check: RolloutCheck) -> None:
        self.session.add(
            RolloutCheckRow(
                plan_id=check.plan_id,
                at=check.at,
                step=check.step,
                decision=check.decision,
                reason=check.reason,
                judgements=dict(check.judgements),
            )
        )

    def replace_last_sample(self, check: RolloutCheck) -> bool:
        row = self.session.scalars(
            select(RolloutCheckRow)
            .where(RolloutCheckRow.plan_id == check.plan_id)
            .order_by(RolloutCheckRow.id.desc())
            .limit(1)
        ).first()
        if row is None or row.decision != SAMPLE:
            return False
        row.at, row.step, row.reason = check.at, check.step, check.reason
        row.decision, row.judgements = check.decision, dict(check.judgements)
        return True

    def list_checks(
        self, plan_id: int, limit: int = 500, *, samples: bool = False
    ) -> list[RolloutCheck]:
        query = select(RolloutCheckRow).where(RolloutCheckRow.plan_id == plan_id)
        if not samples:
            query = query.where(RolloutCheckRow.decision != SAMPLE)
        rows = self.session.scalars(query.order_by(RolloutCheckRow.id.desc()).limit(limit))
        checks = [
            RolloutCheck(
                row.plan_id,
                _utc(row.at) or row.at,
                row.step,
                row.decision,
                row.reason,
                dict(row.judgements),
            )
            for row in rows
        ]
        return checks[::-1]

    # -- templates ----------------------------------------------------------------------

    def save_template(self, project_id: int, name: str, spec: PlanSpec) -> None:
        row = self.session.scalars(
            select(RolloutTemplateRow).where(
                RolloutTemplateRow.project_id == project_id, RolloutTemplateRow.name == name
            )
        ).first()
        if row is None:
            row = RolloutTemplateRow(project_id=project_id, name=name)
            self.session.add(row)
        row.spec = plan_to_dict(spec)
        row.updated_at = self._now()
        self.session.flush()

    def get_template(self, project_id: int, name: str) -> PlanSpec | None:
        row = self.session.scalars(
            select(RolloutTemplateRow).where(
                RolloutTemplateRow.project_id == project_id, RolloutTemplateRow.name == name
            )
        ).first()
        return None if row is None else parse_plan(row.spec)

    def list_templates(self, project_id: int) -> dict[str, PlanSpec]:
        rows = self.session.scalars(
            select(RolloutTemplateRow)
            .where(RolloutTemplateRow.project_id == project_id)
            .order_by(RolloutTemplateRow.name)
        )
        return {row.name: parse_plan(row.spec) for row in rows}

    def delete_template(self, project_id: int, name: str) -> bool:
        result = self.session.execute(
            delete(RolloutTemplateRow).where(
                RolloutTemplateRow.project_id == project_id, RolloutTemplateRow.name == name
            )
        )
        return bool(getattr(result, "rowcount", 0))

    # -- metric definitions ---------------------------------------------------------------

    @staticmethod
    def _metric(row: MetricDefinitionRow) -> MetricDefinition:
        return MetricDefinition(
            row.project_id, row.name, row.source, dict(row.settings), row.description
        )

    def save_metric(self, definition: MetricDefinition) -> MetricDefinition:
        row = self.session.scalars(
            select(MetricDefinitionRow).where(
                MetricDefinitionRow.project_id == definition.project_id,
                MetricDefinitionRow.name == definition.name,
            )
        ).first()
        if row is None:
            row = MetricDefinitionRow(project_id=definition.project_id, name=definition.name)
            self.session.add(row)
        row.source = definition.source
        row.settings = dict(definition.settings)
        row.description = definition.description
        row.updated_at = self._now()
        self.session.flush()
        return self._metric(row)

    def get_metric(self, project_id: int, name: str) -> MetricDefinition | None:
        row = self.session.scalars(
            select(MetricDefinitionRow).where(
                MetricDefinitionRow.project_id == project_id, MetricDefinitionRow.name == name
            )
        ).first()
        return None if row is None else self._metric(row)

    def list_metrics(self, project_id: int) -> list[MetricDefinition]:
        rows = self.session.scalars(
            select(MetricDefinitionRow)
            .where(MetricDefinitionRow.project_id == project_id)
            .order_by(MetricDefinitionRow.name)
        )
        return [self._metric(row) for row in rows]

    def delete_metric(self, project_id: int, name: str) -> bool:
        result = self.session.execute(
            delete(MetricDefinitionRow).where(
                MetricDefinitionRow.project_id == project_id, MetricDefinitionRow.name == name
            )
        )
        return bool(getattr(result, "rowcount", 0))

    # -- observations ---------------------------------------------------------------------

    def add_tracked(
        self, environment_id: int, app_name: str | None, events: Sequence[TrackedEvent]
    ) -> int:
        now = self._now()
        self.session.add_all(
            TrackedEventRow(
                environment_id=environment_id,
                flag=event.flag,
                arm=event.arm,
                event=event.event,
                app_name=app_name,
                received_at=now,
                count=event.count,
                valued=event.valued,
                total=event.total,
                total_sq=event.total_sq,
            )
            for event in events
        )
        self.session.flush()
        return len(events)

    def tracked_totals(
        self, environment_id: int, flag: str, event: str, since: datetime
    ) -> dict[str, EventTotals]:
        rows = self.session.execute(
            select(
                TrackedEventRow.arm,
                func.sum(TrackedEventRow.count),
                func.sum(TrackedEventRow.valued),
                func.sum(TrackedEventRow.total),
                func.sum(TrackedEventRow.total_sq),
            )
            .where(
                TrackedEventRow.environment_id == environment_id,
                TrackedEventRow.flag == flag,
                TrackedEventRow.event == event,
                TrackedEventRow.received_at >= since,
            )
            .group_by(TrackedEventRow.arm)
        )
        return {
            arm: EventTotals(float(c or 0), float(v or 0), float(t or 0), float(q or 0))
            for arm, c, v, t, q in rows
        }

    def exposures_since(self, environment_id: int, flag: str, since: datetime) -> ExposureCount:
        yes, no = self.session.execute(
            select(func.sum(ExposureRow.yes), func.sum(ExposureRow.no)).where(
                ExposureRow.environment_id == environment_id,
                ExposureRow.flag == flag,
                ExposureRow.received_at >= since,
            )
        ).one()
        return ExposureCount(int(yes or 0), int(no or 0), {})

    def add_pushed(
        self, project_id: int, environment: str | None, name: str, value: float, at: datetime
    ) -> None:
        self.session.add(
            PushedMetricRow(
                project_id=project_id, environment=environment, name=name, value=value, at=at
            )
        )
        self.session.flush()

    def pushed_total(
        self, project_id: int, environment: str | None, name: str, since: datetime
    ) -> tuple[float, int]:
        query = select(func.sum(PushedMetricRow.value), func.count(PushedMetricRow.id)).where(
            PushedMetricRow.project_id == project_id,
            PushedMetricRow.name == name,
            PushedMetricRow.at >= since,
        )
        if environment is not None:
            query = query.where(
                (PushedMetricRow.environment == environment) | PushedMetricRow.environment.is_(None)
            )
        total, count = self.session.execute(query).one()
        return float(total or 0), int(count or 0)
