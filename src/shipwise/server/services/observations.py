"""Reading a plan's metrics for one check, from wherever each metric comes from.

- ``sdk``: events SDKs ``track`` with the user's assignment, against exposures: a rate
  (events per exposure, e.g. errors) or a mean (of the values, e.g. latency), for users
  with the feature and without it, since the step began.
- ``pushed``: counters people or systems push through the API (support tickets,
  feedback), summed since the step began (or over a ``window``).
- ``vercel``: what Vercel's drains delivered, kept in Shipwise's store
  (``vercel_metrics``), over the step's window.
- anything else: a pulled source adapter (Prometheus, Sentry, a JSON URL), given the
  window; its failure becomes an "error" verdict, never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shipwise.domain.guardrails import (
    ArmCounts,
    ArmStats,
    Comparison,
    Observation,
    Reading,
    Unreadable,
)
from shipwise.domain.plan_format import parse_duration
from shipwise.server.ports import (
    ExposureStore,
    MetricDefinition,
    MetricDefinitionStore,
    MetricSource,
    MetricUnavailable,
    MetricWindow,
    ObservationStore,
    ProjectStore,
    RolloutPlanRecord,
    StoreOf,
)
from shipwise.server.ports.releases import DeployHistory
from shipwise.server.ports.vercel import VercelDrainStore
from shipwise.server.services.vercel_metrics import VERCEL, read_vercel

log = logging.getLogger(__name__)

SDK, PUSHED = "sdk", "pushed"
# SDKs send counts in batches (every 30 s by default): a batch arriving just after a
# step changed was counted under the old percentage. The comparisons do not mind (each
# exposure is credited to the arm it really had), but the sample-ratio check would
# see a split that was never asked for: it leaves out the step's first two minutes.
SETTLE = timedelta(minutes=2)
MEASURES = ("rate", "mean")


@dataclass(frozen=True, slots=True)
class Observed:
    metrics: dict[str, Observation]
    exposures: tuple[float, float]  # with the feature, without, since the step began
    split: tuple[float, float]  # the same, leaving out the step's first minutes (SETTLE)


def sdk_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    event = settings.get("event")
    if not isinstance(event, str) or not event.strip() or len(event) > 200:
        problems.append(("settings.event", 'name the event SDKs track, e.g. "error"'))
    measure = settings.get("measure", "rate")
    if measure not in MEASURES:
        problems.append(
            (
                "settings.measure",
                f"'rate' (events per exposure) or 'mean' (of values), got {measure!r}",
            )
        )
    for key in sorted(set(settings) - {"event", "measure"}):
        problems.append((f"settings.{key}", "unknown setting; sdk metrics take event and measure"))
    return problems


def pushed_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if "window" in settings:
        try:
            parse_duration(settings["window"])
        except ValueError as problem:
            problems.append(("settings.window", str(problem)))
    for key in sorted(set(settings) - {"window"}):
        problems.append((f"settings.{key}", "unknown setting; pushed metrics take window"))
    return problems


class ObserveTx(
    ProjectStore,
    MetricDefinitionStore,
    ExposureStore,
    ObservationStore,
    VercelDrainStore,
    DeployHistory,
    Protocol,
):
    """What observing a plan reads: its environment, its guardrails' metric definitions,
    the exposures and the tracked, pushed or drained values since its step began."""


class Observer:
    def __init__(self, store: StoreOf[ObserveTx], sources: Mapping[str, MetricSource]) -> None:
        self._store = store
        self._sources = dict(sources)

    @property
    def source_kinds(self) -> list[str]:
        return sorted({SDK, PUSHED, VERCEL, *self._sources})

    def source(self, kind: str) -> MetricSource | None:
        return self._sources.get(kind)

    def observe(self, plan: RolloutPlanRecord, now: datetime) -> Observed:
        since = plan.state.step_started_at
        metrics: dict[str, Observation] = {}
        pulled: list[MetricDefinition] = []
        with self._store.read() as tx:
            project = tx.get_project(plan.project)
            environment = tx.get_environment(project.id, plan.environment) if project else None
            if project is None or environment is None:
                problem = f"project {plan.project!r} or environment {plan.environment!r} is gone"
                unreadable = {g.metric: Unreadable(problem) for g in plan.spec.guardrails}
                return Observed(dict(unreadable), (0, 0), (0, 0))
            exposures = tx.exposures_since(environment.id, plan.flag, since)
            settled = tx.exposures_since(environment.id, plan.flag, since + SETTLE)
            for guardrail in plan.spec.guardrails:
                definition = tx.get_metric(project.id, guardrail.metric)
                if definition is None:
                    metrics[guardrail.metric] = Unreadable(
                        f"metric {guardrail.metric!r} is no longer defined"
                    )
                elif definition.source == SDK:
                    event = str(definition.settings.get("event", ""))
                    arms = tx.tracked_totals(environment.id, plan.flag, event, since)
                    measure = str(definition.settings.get("measure", "rate"))
                    metrics[guardrail.metric] = _comparison(
                        measure, arms, exposures.yes, exposures.no
                    )
                elif definition.source == PUSHED:
                    start = since
                    if "window" in definition.settings:
                        start = now - parse_duration(definition.settings["window"])
                    total, pushes = tx.pushed_total(
                        project.id, plan.environment, definition.name, start
                    )
                    metrics[guardrail.metric] = Reading(total, float(pushes))
                elif definition.source == VERCEL:
                    metrics[guardrail.metric] = read_vercel(
                        tx,
                        project.id,
                        definition,
                        MetricWindow(plan.project, plan.environment, plan.flag, since, now),
                    )
                else:
                    pulled.append(definition)
        # Network reads happen outside any database transaction.
        window = MetricWindow(
            plan.project, plan.environment, plan.flag, plan.state.step_started_at, now
        )
        for definition in pulled:
            observation = self._pull(definition, window)
            if isinstance(observation, ArmCounts):  # errors per exposure, arm by arm
                observation = Comparison(
                    "rate",
                    ArmStats(float(exposures.yes), observation.with_feature),
                    ArmStats(float(exposures.no), observation.without),
                )
            metrics[definition.name] = observation
        return Observed(
            metrics,
            (float(exposures.yes), float(exposures.no)),
            (float(settled.yes), float(settled.no)),
        )

    def _pull(self, definition: MetricDefinition, window: MetricWindow) -> Observation | ArmCounts:
        source = self._sources.get(definition.source)
        if source is None:
            return Unreadable(f"no {definition.source!r} metric source is configured")
        try:
            observation = source.read(definition, window)
        except MetricUnavailable as unavailable:
            return Unreadable(str(unavailable))
        except Exception as failure:  # an adapter bug becomes an "error" verdict, logged
            log.exception("metric source %s failed", definition.source)
            return Unreadable(f"{definition.source} failed: {type(failure).__name__}: {failure}")
        if not isinstance(observation, Reading | Comparison | Unreadable | ArmCounts):
            return Unreadable(f"{definition.source} returned {type(observation).__name__}")
        return observation


def _comparison(measure: str, arms: Mapping[str, Any], shown: float, hidden: float) -> Comparison:
    on, off = arms.get("on"), arms.get("off")
    if measure == "mean":
        return Comparison(
            "mean",
            ArmStats(on.valued, on.valued, on.total, on.total_sq) if on else ArmStats(0),
            ArmStats(off.valued, off.valued, off.total, off.total_sq) if off else ArmStats(0),
        )
    return Comparison(
        "rate",
        ArmStats(shown, on.count if on else 0.0),
        ArmStats(hidden, off.count if off else 0.0),
    )
