"""Reading and writing rollout plans as JSON-shaped data (the API's and the CLI's form).

Every mistake is reported with where it is: ``steps[1].percentage: 5 is lower than
step 1's 10; percentages only go up``. All problems are collected (``engine.problems``),
not just the first, so one round trip fixes a plan. Durations follow ``domain.durations``
(the one grammar), at most ``LONGEST_STEP`` here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from shipwise.domain import durations
from shipwise.domain.durations import format_duration
from shipwise.domain.guardrails import Compare, Direction, Guardrail, GuardrailAction, Threshold
from shipwise.domain.rollout import DEFAULT_PLAN, PlanSpec, Step, Watch, WhenInconclusive
from shipwise.engine.problems import Problem, Problems, did_you_mean

__all__ = [
    "LONGEST_STEP",
    "MAX_STEPS",
    "PlanInvalid",
    "format_duration",
    "parse_duration",
    "parse_plan",
    "plan_to_dict",
]

_PLAN_KEYS = {"steps", "guardrails", "watch", "alpha", "when_inconclusive", "sample_ratio_check"}
_STEP_KEYS = {"percentage", "audiences", "min_duration", "min_sample", "approval"}
_GUARDRAIL_KEYS = {"metric", "direction", "threshold", "max_worse", "action", "min_sample"}
_WATCH_KEYS = {"close_for", "close_every", "then_every", "bake"}
MAX_STEPS = 20
LONGEST_STEP = timedelta(days=366)  # any duration in a plan (and a metric's window)


class PlanInvalid(Exception):
    """One or more problems: ``details`` (each a ``Problem``), and ``problems`` the same as
    ``(where, message)`` pairs; ``str()`` lists them all."""

    def __init__(self, details: tuple[Problem, ...]) -> None:
        self.details = details
        self.problems = [(problem.path or "plan", problem.text) for problem in details]
        super().__init__("; ".join(f"{where}: {message}" for where, message in self.problems))

    @property
    def field(self) -> str:
        return self.problems[0][0]


def parse_duration(value: Any) -> timedelta:
    """A plan's duration: ``"7d"``, ``"1h30m"``, ``"1.5d"`` (``domain.durations``'s
    grammar), or a number of seconds; at most ``LONGEST_STEP``. Raises ValueError."""
    return durations.parse_duration(value, longest=LONGEST_STEP)


class _Reader:
    def __init__(self) -> None:
        self.problems = Problems()

    def fail(self, where: str, message: str, suggestion: str | None = None) -> None:
        self.problems.add(Problem(where, message, suggestion=suggestion))

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(data) - allowed):
            choices = sorted(allowed)
            self.fail(
                f"{where}.{key}" if where else key,
                "unknown field",
                f"{did_you_mean(str(key), choices)}expected one of {', '.join(choices)}",
            )

    def duration(
        self, data: Mapping[str, Any], key: str, where: str, default: timedelta
    ) -> timedelta:
        if key not in data:
            return default
        try:
            return parse_duration(data[key])
        except ValueError as problem:
            self.fail(f"{where}.{key}" if where else key, str(problem))
            return default

    def integer(
        self, data: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int
    ) -> int:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", f"expected a whole number, got {value!r}")
            return default
        if not low <= value <= high:
            self.fail(f"{where}.{key}", f"must be between {low} and {high}, got {value}")
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, where: str) -> float | None:
        value = data[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(f"{where}.{key}", f"expected a number, got {value!r}")
            return None
        return float(value)


def parse_plan(
    data: Any, known_metrics: Collection[str] | None = None, watch: Watch | None = None
) -> PlanSpec:
    """A ``PlanSpec`` from its JSON shape, or PlanInvalid naming every problem.
    ``known_metrics``: the metrics the project defines (None: do not check names);
    ``watch``: what the ``watch`` keys the plan leaves out are (the project policy's
    ``[watch]``; None: the built-in ``Watch()``)."""
    reader = _Reader()
    if not isinstance(data, Mapping):
        shape = f"expected an object with 'steps', got {type(data).__name__}"
        raise PlanInvalid((Problem("plan", shape),))
    reader.unknown_keys(data, _PLAN_KEYS, "")
    steps = _steps(reader, data.get("steps"))
    guardrails = _guardrails(reader, data.get("guardrails", []), known_metrics)
    watch = _watch(reader, data.get("watch", {}), Watch() if watch is None else watch)
    alpha = DEFAULT_PLAN.alpha
    if "alpha" in data:
        value = reader.number(data, "alpha", "plan")
        if value is not None and not 0 < value <= 0.2:
            reader.fail("alpha", f"must be above 0 and at most 0.2, got {value}")
        elif value is not None:
            alpha = value
    when = WhenInconclusive.HOLD
    if "when_inconclusive" in data:
        try:
            when = WhenInconclusive(data["when_inconclusive"])
        except ValueError:
            reader.fail(
                "when_inconclusive",
                f"expected 'hold' or 'advance', got {data['when_inconclusive']!r}",
            )
    ratio_check = data.get("sample_ratio_check", True)
    if not isinstance(ratio_check, bool):
        reader.fail("sample_ratio_check", f"expected true or false, got {ratio_check!r}")
        ratio_check = True
    reader.problems.raise_if_any(PlanInvalid)
    return PlanSpec(tuple(steps), tuple(guardrails), watch, alpha, when, ratio_check)


def _steps(reader: _Reader, data: Any) -> list[Step]:
    if data is None:
        reader.fail("steps", 'a plan needs steps, e.g. [{"percentage": 10}, {"percentage": 100}]')
        return []
    if not isinstance(data, list) or not data:
        reader.fail("steps", "expected a non-empty list of steps")
        return []
    if len(data) > MAX_STEPS:
        reader.fail("steps", f"at most {MAX_STEPS} steps, got {len(data)}")
        return []
    steps: list[Step] = []
    previous: int | None = None
    for index, item in enumerate(data):
        where = f"steps[{index}]"
        if not isinstance(item, Mapping):
            reader.fail(where, f"expected an object with 'percentage', got {item!r}")
            continue
        reader.unknown_keys(item, _STEP_KEYS, where)
        if "percentage" not in item:
            reader.fail(f"{where}.percentage", "is missing")
            continue
        percentage = item["percentage"]
        if isinstance(percentage, bool) or not isinstance(percentage, int):
            reader.fail(f"{where}.percentage", f"expected a whole number 1-100, got {percentage!r}")
            continue
        if not 1 <= percentage <= 100:
            reader.fail(f"{where}.percentage", f"must be between 1 and 100, got {percentage}")
            continue
        if previous is not None and percentage <= previous:
            reader.fail(
                f"{where}.percentage",
                f"{percentage} is not above step {index}'s {previous}; percentages only go up",
            )
        previous = percentage
        audiences = item.get("audiences", [])
        if not isinstance(audiences, list) or not all(
            isinstance(a, str) and a.strip() for a in audiences
        ):
            reader.fail(f"{where}.audiences", "expected a list of segment names")
            audiences = []
        default_duration = timedelta(0) if percentage == 100 else timedelta(days=7)
        steps.append(
            Step(
                percentage,
                tuple(audiences),
                reader.duration(item, "min_duration", where, default_duration),
                reader.integer(item, "min_sample", where, 0, 0, 10**12),
                _flag(reader, item, "approval", where),
            )
        )
    if (
        steps
        and previous is not None
        and previous != 100
        and not any((p.path or "").endswith(".percentage") for p in reader.problems)
    ):
        reader.fail(
            f"steps[{len(data) - 1}].percentage",
            f"the last step must be 100 (got {previous}); a plan ends with everyone",
        )
    return steps


def _flag(reader: _Reader, data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        reader.fail(f"{where}.{key}", f"expected true or false, got {value!r}")
        return False
    return value


def _guardrails(
    reader: _Reader, data: Any, known_metrics: Collection[str] | None
) -> list[Guardrail]:
    if not isinstance(data, list):
        reader.fail("guardrails", "expected a list of guardrails")
        return []
    guardrails: list[Guardrail] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        where = f"guardrails[{index}]"
        if not isinstance(item, Mapping):
            reader.fail(where, f"expected an object with 'metric', got {item!r}")
            continue
        reader.unknown_keys(item, _GUARDRAIL_KEYS, where)
        metric = item.get("metric")
        if not isinstance(metric, str) or not metric.strip():
            reader.fail(f"{where}.metric", "is missing: name a metric the project defines")
            continue
        if known_metrics is not None and metric not in known_metrics:
            known = ", ".join(sorted(known_metrics)) or "none yet"
            reader.fail(
                f"{where}.metric",
                f"unknown metric {metric!r} (the project defines: {known}); "
                "define it first with `shipwise metric define`",
            )
            continue
        if metric in seen:
            reader.fail(f"{where}.metric", f"{metric!r} already has a guardrail")
            continue
        seen.add(metric)
        guardrail = _guardrail(reader, item, where, metric)
        if guardrail is not None:
            guardrails.append(guardrail)
    return guardrails


def _guardrail(
    reader: _Reader, item: Mapping[str, Any], where: str, metric: str
) -> Guardrail | None:
    try:
        direction = Direction(item.get("direction", Direction.HIGHER_IS_WORSE))
    except ValueError:
        reader.fail(
            f"{where}.direction",
            f"expected 'higher-is-worse' or 'lower-is-worse', got {item.get('direction')!r}",
        )
        return None
    try:
        action = GuardrailAction(item.get("action", GuardrailAction.ROLLBACK))
    except ValueError:
        choices = ", ".join(a.value for a in GuardrailAction)
        reader.fail(f"{where}.action", f"expected one of {choices}, got {item.get('action')!r}")
        return None
    has_threshold, has_compare = "threshold" in item, "max_worse" in item
    if has_threshold == has_compare:
        reader.fail(
            where,
            "give exactly one rule: 'threshold' (an absolute limit) or 'max_worse' "
            "(how much worse users with the feature may be, e.g. 0.1 for 10%)",
        )
        return None
    rule: Threshold | Compare
    if has_threshold:
        limit = reader.number(item, "threshold", where)
        if limit is None:
            return None
        rule = Threshold(limit)
    else:
        worse = reader.number(item, "max_worse", where)
        if worse is None:
            return None
        if not 0 <= worse <= 10:
            reader.fail(f"{where}.max_worse", f"a fraction between 0 and 10, got {worse}")
            return None
        rule = Compare(worse)
    min_sample = reader.integer(item, "min_sample", where, 0, 0, 10**12)
    return Guardrail(metric, direction, rule, action, min_sample)


def _watch(reader: _Reader, data: Any, default: Watch) -> Watch:
    if not isinstance(data, Mapping):
        reader.fail("watch", "expected an object")
        return default
    reader.unknown_keys(data, _WATCH_KEYS, "watch")
    watch = Watch(
        reader.duration(data, "close_for", "watch", default.close_for),
        reader.duration(data, "close_every", "watch", default.close_every),
        reader.duration(data, "then_every", "watch", default.then_every),
        reader.duration(data, "bake", "watch", default.bake),
    )
    for key in ("close_every", "then_every"):
        if getattr(watch, key) < timedelta(seconds=1) and key in data:
            reader.fail(f"watch.{key}", "must be at least 1s")
    return watch


def plan_to_dict(spec: PlanSpec) -> dict[str, Any]:
    return {
        "steps": [
            {
                "percentage": step.percentage,
                "audiences": list(step.audiences),
                "min_duration": format_duration(step.min_duration),
                "min_sample": step.min_sample,
                "approval": step.approval,
            }
            for step in spec.steps
        ],
        "guardrails": [guardrail.to_dict() for guardrail in spec.guardrails],
        "watch": {
            "close_for": format_duration(spec.watch.close_for),
            "close_every": format_duration(spec.watch.close_every),
            "then_every": format_duration(spec.watch.then_every),
            "bake": format_duration(spec.watch.bake),
        },
        "alpha": spec.alpha,
        "when_inconclusive": spec.when_inconclusive.value,
        "sample_ratio_check": spec.sample_ratio_check,
    }
