"""Rollout plans and their timelines, templates, metric definitions, and the numbers
SDKs and deploy scripts send for guardrails (tracked events, pushed values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.rollout import PlanSpec, PlanState
from shipwise.server.ports.metrics import MetricDefinition


@dataclass(frozen=True, slots=True)
class RolloutPlanRecord:
    """A rollout plan running (or that ran) on one flag in one environment."""

    id: int
    project: str
    flag: str
    environment: str
    release: str | None
    spec: PlanSpec
    state: PlanState
    version: int  # bumped by every saved change: a runner acts only on what it read
    next_check_at: datetime | None
    created_by: str
    created_at: datetime
    judgements: Mapping[str, Any] = field(default_factory=dict)  # the last check's, as dicts


@dataclass(frozen=True, slots=True)
class RolloutCheck:
    """One line of a plan's timeline: a check that decided something or saw a change,
    or (``decision`` ``SAMPLE``) a check kept only as a point of the guardrail charts
    (``domain.rollout_samples`` says which)."""

    plan_id: int
    at: datetime
    step: int
    decision: str
    reason: str
    judgements: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EventTotals:
    """One arm's SDK-tracked events for one flag: calls, calls with a value, and sums."""

    count: float = 0.0
    valued: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """One aggregated line of an SDK's ``track`` batch."""

    flag: str
    arm: str  # "on" or "off"
    event: str
    count: int
    valued: int
    total: float
    total_sq: float


class RolloutPlanStore(Protocol):
    """Plans and their timelines."""

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
    ) -> RolloutPlanRecord: ...
    def get_plan(self, plan_id: int, *, for_update: bool = False) -> RolloutPlanRecord | None: ...
    def save_plan(
        self,
        plan: RolloutPlanRecord,
        state: PlanState,
        next_check_at: datetime | None,
        judgements: Mapping[str, Any] | None = None,
    ) -> RolloutPlanRecord:
        """Store the new state and bump the version; the caller holds the row lock."""
        ...

    def list_plans(
        self,
        project_id: int,
        *,
        flag_id: int | None = None,
        environment_id: int | None = None,
        release_id: int | None = None,
        active_only: bool = False,
    ) -> list[RolloutPlanRecord]: ...
    def due_plans(self, now: datetime, limit: int) -> list[int]:
        """Ids of active plans whose next check is at or before ``now``, soonest first."""
        ...

    def wake_plans(self, environment_id: int, flags: Sequence[str], now: datetime) -> int:
        """Make the active plans on these flags due now (new data arrived for them)."""
        ...

    def add_check(self, check: RolloutCheck) -> None: ...
    def replace_last_sample(self, check: RolloutCheck) -> bool:
        """Overwrite the plan's newest timeline line with ``check`` if that line is a
        sample (False, and nothing changed, if it is not); the caller holds the plan's
        row lock."""
        ...

    def list_checks(
        self, plan_id: int, limit: int = 500, *, samples: bool = False
    ) -> list[RolloutCheck]:
        """The newest ``limit``, oldest first: the lines that decided something or saw a
        verdict change, and with ``samples`` the sampled points too (the charts')."""
        ...


class TemplateStore(Protocol):
    """Named plan specs a project reuses."""

    def save_template(self, project_id: int, name: str, spec: PlanSpec) -> None: ...
    def get_template(self, project_id: int, name: str) -> PlanSpec | None: ...
    def list_templates(self, project_id: int) -> dict[str, PlanSpec]: ...
    def delete_template(self, project_id: int, name: str) -> bool: ...


class MetricDefinitionStore(Protocol):
    def save_metric(self, definition: MetricDefinition) -> MetricDefinition: ...
    def get_metric(self, project_id: int, name: str) -> MetricDefinition | None: ...
    def list_metrics(self, project_id: int) -> list[MetricDefinition]: ...
    def delete_metric(self, project_id: int, name: str) -> bool: ...


class ObservationStore(Protocol):
    """Numbers sent in for guardrails: SDK-tracked events and pushed values."""

    def add_tracked(
        self, environment_id: int, app_name: str | None, events: Sequence[TrackedEvent]
    ) -> int: ...
    def tracked_totals(
        self, environment_id: int, flag: str, event: str, since: datetime
    ) -> dict[str, EventTotals]:
        """By arm ("on"/"off"), for batches received at or after ``since``."""
        ...

    def add_pushed(
        self, project_id: int, environment: str | None, name: str, value: float, at: datetime
    ) -> None: ...
    def pushed_total(
        self, project_id: int, environment: str | None, name: str, since: datetime
    ) -> tuple[float, int]:
        """Sum and number of pushes since ``since`` (environment None: any)."""
        ...


class RolloutStore(
    RolloutPlanStore, TemplateStore, MetricDefinitionStore, ObservationStore, Protocol
):
    """Everything rollouts keep (the outbox and exposures are ports of their own)."""
