"""The metrics a project's guardrails may name, the events SDKs track, and the counters
people push (support tickets, user feedback).

A definition says where a metric's numbers come from; it is checked by its source before
it is saved (a PromQL metric needs a URL and a query, an SDK metric an event name), so a
plan can only name metrics that can be read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.server.ports import (
    AuditStore,
    Clocked,
    MetricDefinition,
    MetricDefinitionStore,
    ObservationStore,
    ProjectStore,
    RolloutPlanStore,
    StoreOf,
    TrackedEvent,
)
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.observations import (
    PUSHED,
    SDK,
    Observer,
    pushed_problems,
    sdk_problems,
)
from shipwise.server.services.principal import Principal
from shipwise.server.services.vercel_metrics import VERCEL, vercel_problems

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
MAX_EVENTS_PER_BATCH = 10_000
ARMS = frozenset({"on", "off"})


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise Invalid(
            f"metric names are lowercase letters, digits, '.', '_' and '-' (at most 100), "
            f"got {name!r}",
            field="name",
        )


class CatalogTx(
    ProjectStore,
    MetricDefinitionStore,
    ObservationStore,
    RolloutPlanStore,
    AuditStore,
    Clocked,
    Protocol,
):
    """What the catalog touches: definitions, tracked and pushed values, the plans that
    use a metric or wake on fresh events, and the audit log."""


class MetricCatalog:
    def __init__(self, store: StoreOf[CatalogTx], observer: Observer) -> None:
        self._store = store
        self._observer = observer
        # Called when fresh events made plans due (the runner in this process, if any).
        self.on_wake: Callable[[], None] | None = None

    def define(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        source: str,
        settings: Mapping[str, Any],
        description: str | None = None,
    ) -> MetricDefinition:
        _check_name(name)
        if not isinstance(settings, Mapping):
            raise Invalid("settings must be an object", field="settings")
        self._check_settings(source, settings)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.ROLLOUT, project)
            before = tx.get_metric(project.id, name)
            saved = tx.save_metric(
                MetricDefinition(project.id, name, source, dict(settings), description)
            )
            audit(
                tx,
                principal,
                "metric.define",
                "metric",
                name,
                project=project_key,
                before=public_definition(before) if before else None,
                after=public_definition(saved),
            )
        return saved

    def reads(self, source: str) -> bool:
        """Whether this server can read metrics from ``source``: SDK events and pushed
        counters always, a pulled source when one of that kind is registered."""
        return source in self._observer.source_kinds

    def _check_settings(self, source: str, settings: Mapping[str, Any]) -> None:
        if source == SDK:
            problems = sdk_problems(settings)
        elif source == PUSHED:
            problems = pushed_problems(settings)
        elif source == VERCEL:
            problems = vercel_problems(settings)
        else:
            adapter = self._observer.source(source)
            if adapter is None:
                kinds = ", ".join(self._observer.source_kinds)
                raise Invalid(f"unknown source {source!r}; choose one of {kinds}", field="source")
            problems = [
                (f if f.startswith("settings.") else f"settings.{f}", m)
                for f, m in adapter.problems(settings)
            ]
        if problems:
            field, message = problems[0]
            raise Invalid(f"{field}: {message}", field=field)

    def all(self, principal: Principal, project_key: str) -> list[MetricDefinition]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.list_metrics(project.id)

    def get(self, principal: Principal, project_key: str, name: str) -> MetricDefinition:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            found = tx.get_metric(project.id, name)
            if found is None:
                raise NotFound(f"no metric {name!r} in project {project_key!r}")
            return found

    def delete(self, principal: Principal, project_key: str, name: str) -> None:
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.ROLLOUT, project)
            in_use = [
                plan.id
                for plan in tx.list_plans(project.id, active_only=True)
                if any(g.metric == name for g in plan.spec.guardrails)
            ]
            if in_use:
                raise Conflict(
                    f"metric {name!r} is watched by running rollout plan #{in_use[0]}; "
                    "finish or abort the plan first",
                    field="name",
                )
            before = tx.get_metric(project.id, name)
            if before is None or not tx.delete_metric(project.id, name):
                raise NotFound(f"no metric {name!r} in project {project_key!r}")
            audit(
                tx,
                principal,
                "metric.delete",
                "metric",
                name,
                project=project_key,
                before=public_definition(before),
            )

    # -- observations in ------------------------------------------------------------------

    def push(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        value: float,
        environment: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add ``value`` to a pushed counter (a support ticket: 1)."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise Invalid(f"value must be a finite number, got {value!r}", field="value")
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.REPORT, project)
            definition = tx.get_metric(project.id, name)
            if definition is None:
                raise NotFound(
                    f"no metric {name!r} in project {project_key!r}: define it first with "
                    f"source 'pushed'"
                )
            if definition.source != PUSHED:
                raise Invalid(
                    f"metric {name!r} comes from {definition.source!r}; only 'pushed' metrics "
                    "take values through the API",
                    field="name",
                )
            if environment is not None and tx.get_environment(project.id, environment) is None:
                raise Invalid(f"no environment {environment!r}", field="environment")
            tx.add_pushed(project.id, environment, name, float(value), at or tx.now())

    def record_tracked(
        self, environment_id: int, app_name: str | None, events: Sequence[Mapping[str, Any]]
    ) -> int:
        """Store one SDK batch of tracked events (already shape-checked by the API)."""
        rows = [
            TrackedEvent(
                flag=str(e["flag"]),
                arm=str(e["arm"]),
                event=str(e["event"]),
                count=int(e["count"]),
                valued=int(e.get("valued", 0)),
                total=float(e.get("sum", 0.0)),
                total_sq=float(e.get("sumSq", 0.0)),
            )
            for e in list(events)[:MAX_EVENTS_PER_BATCH]
            if e["count"] or e.get("valued")
        ]
        if not rows:
            return 0
        with self._store.transaction() as tx:
            added = tx.add_tracked(environment_id, app_name, rows)
            # Fresh events may be the ones that show a regression: check those plans
            # now rather than at their next scheduled check.
            woken = tx.wake_plans(environment_id, sorted({r.flag for r in rows}), tx.now())
        if woken and self.on_wake is not None:
            self.on_wake()
        return added


# Setting and header names that carry credentials: Authorization, X-Api-Key, token, ...
_CREDENTIAL = re.compile(r"auth|key|token|secret|cookie|pass", re.IGNORECASE)


def _hidden(key: str, value: Any) -> Any:
    """Settings as the audit log and the API show them: secrets starred, at any depth
    (a header map's Authorization too); the *name* of an environment variable is kept."""
    if isinstance(value, Mapping):
        return {k: _hidden(str(k), v) for k, v in value.items()}
    if _CREDENTIAL.search(key) and not key.lower().endswith("_env"):
        return "***"
    return value


def public_definition(definition: MetricDefinition) -> dict[str, Any]:
    """What the audit log and the API show: settings without secrets."""
    return {
        "name": definition.name,
        "source": definition.source,
        "settings": {key: _hidden(key, value) for key, value in definition.settings.items()},
        "description": definition.description,
    }
