"""Rollout plans and checks, templates, metric definitions, tracked events, pushed
values and the notification outbox, in memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from shipwise.domain.plan_format import parse_plan, plan_to_dict
from shipwise.domain.rollout import ACTIVE, PlanSpec, PlanState
from shipwise.domain.rollout_samples import SAMPLE
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import OutboxRow, PlanRow, as_json, utc, utc_or_none
from shipwise.server.ports.metrics import MetricDefinition
from shipwise.server.ports.notify import Notification
from shipwise.server.ports.outbox import Delivery, DeliveryState, OutboxItem
from shipwise.server.ports.rollouts import (
    EventTotals,
    RolloutCheck,
    RolloutPlanRecord,
    TrackedEvent,
)


def _stored(check: RolloutCheck) -> RolloutCheck:
    """As the database would give it back: UTC times, JSON judgements."""
    return RolloutCheck(
        check.plan_id,
        utc(check.at),
        check.step,
        check.decision,
        check.reason,
        as_json(dict(check.judgements)),
    )


def _state(state: PlanState) -> PlanState:
    return PlanState(
        status=state.status,
        step=state.step,
        started_at=utc(state.started_at),
        step_started_at=utc(state.step_started_at),
        reason=state.reason,
        approved_step=state.approved_step,
        baking_since=utc_or_none(state.baking_since),
        finished_at=utc_or_none(state.finished_at),
        notified=frozenset(state.notified),
    )


class RolloutQueries(MemoryBase):
    # -- plans --------------------------------------------------------------------------

    def _plan(self, plan_id: int, row: PlanRow) -> RolloutPlanRecord:
        release = self._t.releases.get(row.release_id) if row.release_id else None
        return RolloutPlanRecord(
            id=plan_id,
            project=self._t.projects[row.project_id].key,
            flag=self._t.flags[row.flag_id].key,
            environment=self._t.environments[row.environment_id].key,
            release=release[1].key if release else None,
            spec=parse_plan(row.spec),
            state=row.state,
            version=row.version,
            next_check_at=row.next_check_at,
            created_by=row.created_by,
            created_at=row.created_at,
            judgements=as_json(row.judgements),
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
        row = PlanRow(
            project_id=project_id,
            flag_id=flag_id,
            environment_id=environment_id,
            release_id=release_id,
            spec=as_json(plan_to_dict(spec)),
            state=_state(state),
            next_check_at=utc_or_none(next_check_at),
            judgements={},
            version=1,
            created_by=created_by,
            created_at=utc(self._now()),
        )
        plan_id = self._t.next_id("plans")
        self._t.plans[plan_id] = row
        return self._plan(plan_id, row)

    def get_plan(self, plan_id: int, *, for_update: bool = False) -> RolloutPlanRecord | None:
        row = self._t.plans.get(plan_id)
        return None if row is None else self._plan(plan_id, row)

    def save_plan(
        self,
        plan: RolloutPlanRecord,
        state: PlanState,
        next_check_at: datetime | None,
        judgements: Mapping[str, Any] | None = None,
    ) -> RolloutPlanRecord:
        row = self._t.plans[plan.id]
        row.state = _state(state)
        row.next_check_at = utc_or_none(next_check_at) if state.status in ACTIVE else None
        if judgements is not None:
            row.judgements = as_json(dict(judgements))
        row.version += 1
        return self._plan(plan.id, row)

    def list_plans(
        self,
        project_id: int,
        *,
        flag_id: int | None = None,
        environment_id: int | None = None,
        release_id: int | None = None,
        active_only: bool = False,
    ) -> list[RolloutPlanRecord]:
        return [
            self._plan(plan_id, row)
            for plan_id, row in self._t.plans.items()
            if row.project_id == project_id
            and (flag_id is None or row.flag_id == flag_id)
            and (environment_id is None or row.environment_id == environment_id)
            and (release_id is None or row.release_id == release_id)
            and (not active_only or row.state.status in ACTIVE)
        ]

    def due_plans(self, now: datetime, limit: int) -> list[int]:
        due = [
            (row.next_check_at, plan_id)
            for plan_id, row in self._t.plans.items()
            if row.next_check_at is not None and row.next_check_at <= utc(now)
        ]
        return [plan_id for _, plan_id in sorted(due)[:limit]]

    def wake_plans(self, environment_id: int, flags: Sequence[str], now: datetime) -> int:
        flag_ids = {f.id for f in self._t.flags.values() if f.key in flags}
        woken = 0
        for row in self._t.plans.values():
            if (
                row.environment_id == environment_id
                and row.flag_id in flag_ids
                and row.next_check_at is not None
                and row.next_check_at > utc(now)
            ):
                row.next_check_at = utc(now)
                woken += 1
        return woken

    def add_check(self, check: RolloutCheck) -> None:
        self._t.checks.append(_stored(check))

    def replace_last_sample(self, check: RolloutCheck) -> bool:
        checks = self._t.checks
        mine = [i for i, line in enumerate(checks) if line.plan_id == check.plan_id]
        if not mine or checks[mine[-1]].decision != SAMPLE:
            return False
        checks[mine[-1]] = _stored(check)
        return True

    def list_checks(
        self, plan_id: int, limit: int = 500, *, samples: bool = False
    ) -> list[RolloutCheck]:
        checks = [
            c for c in self._t.checks if c.plan_id == plan_id and (samples or c.decision != SAMPLE)
        ]
        return checks[-limit:] if limit > 0 else []

    # -- templates ----------------------------------------------------------------------

    def save_template(self, project_id: int, name: str, spec: PlanSpec) -> None:
        self._t.templates[(project_id, name)] = as_json(plan_to_dict(spec))

    def get_template(self, project_id: int, name: str) -> PlanSpec | None:
        spec = self._t.templates.get((project_id, name))
        return None if spec is None else parse_plan(spec)

    def list_templates(self, project_id: int) -> dict[str, PlanSpec]:
        mine = sorted((n, s) for (p, n), s in self._t.templates.items() if p == project_id)
        return {name: parse_plan(spec) for name, spec in mine}

    def delete_template(self, project_id: int, name: str) -> bool:
        return self._t.templates.pop((project_id, name), None) is not None

    # -- metric definitions -------------------------------------------------------------

    def save_metric(self, definition: MetricDefinition) -> MetricDefinition:
        stored = MetricDefinition(
            definition.project_id,
            definition.name,
            definition.source,
            as_json(dict(definition.settings)),
            definition.description,
        )
        self._t.metrics[(definition.project_id, definition.name)] = stored
        return stored

    def get_metric(self, project_id: int, name: str) -> MetricDefinition | None:
        return self._t.metrics.get((project_id, name))

    def list_metrics(self, project_id: int) -> list[MetricDefinition]:
        mine = [m for (p, _), m in self._t.metrics.items() if p == project_id]
        return sorted(mine, key=lambda m: m.name)

    def delete_metric(self, project_id: int, name: str) -> bool:
        return self._t.metrics.pop((project_id, name), None) is not None

    # -- observations -------------------------------------------------------------------

    def add_tracked(
        self, environment_id: int, app_name: str | None, events: Sequence[TrackedEvent]
    ) -> int:
        now = utc(self._now())
        for e in events:
            self._t.tracked.append(
                (
                    environment_id,
                    e.flag,
                    e.arm,
                    e.event,
                    now,
                    e.count,
                    e.valued,
                    e.total,
                    e.total_sq,
                )
            )
        return len(events)

    def tracked_totals(
        self, environment_id: int, flag: str, event: str, since: datetime
    ) -> dict[str, EventTotals]:
        totals: dict[str, EventTotals] = {}
        for env, name, arm, kind, received, count, valued, total, total_sq in self._t.tracked:
            if env != environment_id or name != flag or kind != event or received < utc(since):
                continue
            t = totals.get(arm, EventTotals())
            totals[arm] = EventTotals(
                t.count + count, t.valued + valued, t.total + total, t.total_sq + total_sq
            )
        return totals

    def add_pushed(
        self, project_id: int, environment: str | None, name: str, value: float, at: datetime
    ) -> None:
        self._t.pushed.append((project_id, environment, name, value, utc(at)))

    def pushed_total(
        self, project_id: int, environment: str | None, name: str, since: datetime
    ) -> tuple[float, int]:
        values = [
            value
            for project, env, metric, value, at in self._t.pushed
            if project == project_id
            and metric == name
            and at >= utc(since)
            and (environment is None or env in (environment, None))
        ]
        return float(sum(values)), len(values)

    # -- outbox -------------------------------------------------------------------------

    def enqueue(
        self, channel: str, notification: Notification, due_at: datetime | None = None
    ) -> None:
        now = utc(self._now())
        due = now if due_at is None else utc(due_at)
        self._t.outbox[self._t.next_id("outbox")] = OutboxRow(
            channel, as_json(notification.to_dict()), 0, due, created_at=now
        )

    def due_outbox(
        self, now: datetime, limit: int, per_destination: int | None = None
    ) -> list[OutboxItem]:
        due = [
            OutboxItem(item_id, row.channel, Notification.from_dict(row.payload), row.attempts, at)
            for item_id, row in self._t.outbox.items()
            if row.delivered_at is None
            and (at := row.next_attempt_at) is not None
            and at <= utc(now)
        ]
        if per_destination is None:
            return due[:limit]
        kept: list[OutboxItem] = []
        taken: Counter[str] = Counter()
        for item in due:
            taken[item.channel] += 1
            if taken[item.channel] <= per_destination:
                kept.append(item)
        return kept[:limit]

    def outbox_claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        row = self._t.outbox.get(item_id)
        if row is None or row.delivered_at is not None or row.next_attempt_at is None:
            return False
        if row.next_attempt_at > utc(now):
            return False
        row.next_attempt_at = utc(until)
        return True

    def outbox_delivered(self, item_id: int, at: datetime) -> None:
        row = self._t.outbox[item_id]
        row.delivered_at = utc(at)
        row.attempts += 1
        row.last_error = None

    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        row = self._t.outbox[item_id]
        row.attempts += 1
        row.last_error = error[:2000]
        row.next_attempt_at = utc_or_none(retry_at)

    def list_deliveries(
        self, channels: Collection[str], states: Collection[DeliveryState], limit: int
    ) -> list[Delivery]:
        found = [
            delivery
            for item_id in reversed(self._t.outbox)
            if self._t.outbox[item_id].channel in channels
            and (delivery := self._delivery(item_id)).state in states
        ]
        return found[:limit]

    def get_delivery(self, item_id: int) -> Delivery | None:
        return self._delivery(item_id) if item_id in self._t.outbox else None

    def retry_delivery(self, item_id: int, at: datetime) -> None:
        row = self._t.outbox[item_id]
        if row.delivered_at is None:
            row.next_attempt_at = utc(at)

    def _delivery(self, item_id: int) -> Delivery:
        row = self._t.outbox[item_id]
        return Delivery(
            item_id,
            row.channel,
            Notification.from_dict(row.payload),
            utc(row.created_at or row.next_attempt_at or row.delivered_at or self._now()),
            row.attempts,
            None if row.delivered_at is not None else row.next_attempt_at,
            row.delivered_at,
            row.last_error,
        )
