"""Guardrails: what a rollout watches, and what it does when a number goes bad.

A guardrail names a metric, which way is worse, and a rule: an absolute ``Threshold``
(error rate below 2%) or a ``Compare`` of users with the feature against users without
it (no more than X% worse). ``verdicts.judge`` turns an observation of the metric into a
``Judgement``; the rollout plan (``rollout.py``) turns judgements into decisions.
Pure values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    """Which way is worse for the metric."""

    HIGHER_IS_WORSE = "higher-is-worse"  # errors, latency, support tickets
    LOWER_IS_WORSE = "lower-is-worse"  # conversions, usage


class Verdict(StrEnum):
    HEALTHY = "healthy"  # enough data, and confidently within the rule
    INCONCLUSIVE = "inconclusive"  # not enough data to say either way (never "healthy")
    REGRESSED = "regressed"  # confidently outside the rule
    ERROR = "error"  # the metric could not be read
    NOT_APPLICABLE = "not-applicable"  # e.g. a comparison at 100%: nobody left without it


class GuardrailAction(StrEnum):
    ROLLBACK = "rollback"  # flag off at once, notify
    PAUSE = "pause"  # hold the plan and ask a person
    NOTIFY = "notify"  # tell people, carry on


@dataclass(frozen=True, slots=True)
class Threshold:
    """The metric's value must stay on the good side of ``limit``."""

    limit: float


@dataclass(frozen=True, slots=True)
class Compare:
    """Users with the feature against users without it: no more than ``max_worse`` worse,
    as a fraction of the value without it (0.1 = 10% worse)."""

    max_worse: float


Rule = Threshold | Compare


@dataclass(frozen=True, slots=True)
class Guardrail:
    metric: str  # a metric the project defines (``MetricDefinition.name``)
    direction: Direction
    rule: Rule
    action: GuardrailAction = GuardrailAction.ROLLBACK
    min_sample: int = 0  # fewer units than this (per arm) is inconclusive, whatever the numbers

    @property
    def name(self) -> str:
        return self.metric

    def to_dict(self) -> dict[str, Any]:
        rule: dict[str, Any] = (
            {"threshold": self.rule.limit}
            if isinstance(self.rule, Threshold)
            else {"max_worse": self.rule.max_worse}
        )
        return {
            "metric": self.metric,
            "direction": self.direction.value,
            **rule,
            "action": self.action.value,
            "min_sample": self.min_sample,
        }


# --- observations: what a metric source reports for one check -------------------------


@dataclass(frozen=True, slots=True)
class ArmStats:
    """One arm's (feature on, or off) accumulated numbers since the step started.

    For a *rate* metric (errors per exposure): ``units`` are exposures and ``count`` the
    events. For a *mean* metric (latency): ``units`` are the events carrying a value,
    ``total`` their sum and ``total_sq`` the sum of squares.
    """

    units: float
    count: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0


FLAG, DEPLOYS = "flag", "deploys"  # Comparison.basis, Unreadable.basis


@dataclass(frozen=True, slots=True)
class Comparison:
    """Users with the feature (``treatment``) and without it (``control``); or, on the
    ``deploys`` basis, the deployment now serving against the one before it (a release
    shipped without a flag split, e.g. a revert)."""

    kind: str  # "rate" or "mean"
    treatment: ArmStats
    control: ArmStats
    basis: str = FLAG

    @property
    def sides(self) -> tuple[str, str]:
        """How the two sides read: "with" / "without" (the feature), "after" / "before"."""
        return ("after", "before") if self.basis == DEPLOYS else ("with", "without")


@dataclass(frozen=True, slots=True)
class Reading:
    """One number, e.g. a PromQL result. ``sample`` is how many units it rests on, when
    the source knows (None: the source aggregates itself and its value stands)."""

    value: float | None  # None: the source had no data for the window
    sample: float | None = None


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """Events an outside source counted for each arm (errors in Sentry or Cloud Logging
    whose entries carry the flag's value). The source knows no exposures: the rollout
    pairs these counts with the exposures SDKs report for the same window, making a
    "rate" ``Comparison`` judged like the SDK's own events."""

    with_feature: float
    without: float


@dataclass(frozen=True, slots=True)
class Unreadable:
    """The metric could not be read: the source was down, the query wrong, ... ``basis``
    is what it would have compared: a ``deploys`` one still matters at 100%, where an
    unreadable one must hold the release rather than count as not applying."""

    problem: str
    basis: str = FLAG


Observation = Comparison | Reading | Unreadable


@dataclass(frozen=True, slots=True)
class Judgement:
    """A verdict and the numbers behind it, in words a person can check."""

    verdict: Verdict
    summary: str  # one line: "error rate 2.1% vs 1.0% (+110%, 95% always-valid: +40%..+190%)"
    estimate: float | None = None  # relative change (Compare) or the value (Threshold)
    lower: float | None = None
    upper: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
