"""One chart per guardrail: its metric with and without the feature over the plan's
checks, the always-valid interval around the value with the feature, and the line the
guardrail judges against, with a summary in words and the same numbers as a table.

The numbers are the ones each check's judgement recorded (``domain.verdicts`` puts them
in ``details``; ``rollout_apply.judgements_dict`` stores them with the timeline), so the
chart shows exactly what the verdicts were judged on. The checks are the timeline's
lines and the sampled checks between them (``domain.rollout_samples``: about 30 a step,
and always the newest), so a healthy guardrail draws a line, not two dots:

=====================  ===================================================================
rule, observation      plotted
=====================  ===================================================================
compare, both arms     with = treatment mean, without = control mean, interval = with ±
                       the difference's always-valid half-width, line = without * (1 ±
                       max_worse): beyond it (and sure of it) is "regressed"
threshold, both arms   with = the feature's mean, interval = the judgement's, line = limit
threshold, one number  with = the value, line = limit
=====================  ===================================================================

A check whose judgement has no numbers (too little data, a source that could not be
read) is a row of the table with its verdict and reason, and a gap in the lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipwise.domain import verdict_words
from shipwise.domain.guardrails import Compare, Direction, Guardrail
from shipwise.server.ports import RolloutCheck
from shipwise.server.web.charts import Band, Chart, Series, line_chart

__all__ = ["GuardrailChart", "Row", "guardrail_charts"]

_TITLES = {
    True: "with and without the feature, check by check",
    False: "against its limit, check by check",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One check of one guardrail, its numbers in words ("" when it had none)."""

    at: datetime
    step: int
    verdict: str
    with_feature: str
    without: str
    interval: str
    line: str
    summary: str


@dataclass(frozen=True, slots=True)
class GuardrailChart:
    name: str
    rule: str  # the guardrail in words: "errors: no more than 50% worse; else roll back"
    title: str
    description: str
    chart: Chart | None  # None: no check has numbers yet
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class _Point:
    at: datetime
    step: int
    verdict: str
    summary: str
    with_feature: float | None = None
    without: float | None = None
    interval: tuple[float, float] | None = None
    line: float | None = None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _point(guardrail: Guardrail, check: RolloutCheck, judgement: Mapping[str, Any]) -> _Point:
    details = judgement.get("details")
    details = details if isinstance(details, Mapping) else {}
    base = _Point(
        check.at,
        check.step + 1,
        str(judgement.get("verdict", "")),
        str(judgement.get("summary", "")),
    )
    if isinstance(guardrail.rule, Compare):
        with_it, without = (
            _number(details.get("treatment_mean")),
            _number(details.get("control_mean")),
        )
        half = _number(details.get("difference_halfwidth"))
        if with_it is None or without is None:
            return base
        worse = guardrail.rule.max_worse
        sign = 1.0 if guardrail.direction is Direction.HIGHER_IS_WORSE else -1.0
        line = without * (1 + sign * worse) if without else None
        interval = None if half is None else (with_it - half, with_it + half)
        return _replace(base, with_it, without, interval, line)
    value, limit = _number(details.get("value")), _number(details.get("limit"))
    lower, upper = _number(judgement.get("lower")), _number(judgement.get("upper"))
    if value is None:
        return base
    interval = (
        (lower, upper) if lower is not None and upper is not None and lower != upper else None
    )
    return _replace(base, value, None, interval, limit)


def _replace(
    base: _Point,
    with_it: float | None,
    without: float | None,
    interval: tuple[float, float] | None,
    line: float | None,
) -> _Point:
    return _Point(base.at, base.step, base.verdict, base.summary, with_it, without, interval, line)


def _formatter(judgements: Sequence[Mapping[str, Any]]) -> Callable[[float], str]:
    """The metric's values as its verdicts write them: a rate as a percentage."""
    for judgement in judgements:
        details = judgement.get("details")
        if isinstance(details, Mapping) and details.get("kind") in {"rate", "mean"}:
            kind, poisson = str(details["kind"]), details.get("model") == "poisson"
            return lambda x: verdict_words.value(kind, poisson, x)
    return verdict_words.number


def _rule_words(guardrail: Guardrail) -> str:
    rule = guardrail.rule
    action = {"rollback": "roll back", "pause": "pause", "notify": "notify"}[guardrail.action]
    if isinstance(rule, Compare):
        said = (
            f"with the feature no more than {verdict_words.allowed(rule.max_worse)} "
            f"{'higher' if guardrail.direction is Direction.HIGHER_IS_WORSE else 'lower'} "
            "than without it"
        )
    else:
        side = "at most" if guardrail.direction is Direction.HIGHER_IS_WORSE else "at least"
        said = f"{side} {verdict_words.number(rule.limit)}"
    sample = f", judged from {guardrail.min_sample:,} units" if guardrail.min_sample else ""
    return f"{guardrail.name}: {said}{sample}; else {action}"


def _describe(guardrail: Guardrail, points: Sequence[_Point], show: Callable[[float], str]) -> str:
    plotted = [p for p in points if p.with_feature is not None]
    if not plotted:
        said = f" The latest check: {points[-1].verdict}: {points[-1].summary}." if points else ""
        return f"No numbers for {guardrail.name} yet.{said}"
    first, latest = plotted[0], plotted[-1]
    words = [
        f"{guardrail.name} over {len(plotted)} check{'s' if len(plotted) != 1 else ''}: "
        f"with the feature from {show(first.with_feature or 0.0)} "
        f"to {show(latest.with_feature or 0.0)}"
    ]
    if latest.without is not None and first.without is not None:
        words.append(f"without it from {show(first.without)} to {show(latest.without)}")
    if latest.interval is not None:
        low, high = latest.interval
        words.append(f"the last always-valid interval {show(low)} to {show(high)}")
    if latest.line is not None:
        words.append(f"the line it is judged against {show(latest.line)}")
    return "; ".join(words) + f". The latest verdict: {latest.verdict}."


def _row(point: _Point, show: Callable[[float], str]) -> Row:
    def text(value: float | None) -> str:
        return "" if value is None else show(value)

    interval = (
        "" if point.interval is None else f"{show(point.interval[0])} to {show(point.interval[1])}"
    )
    return Row(
        point.at,
        point.step,
        point.verdict,
        text(point.with_feature),
        text(point.without),
        interval,
        text(point.line),
        point.summary,
    )


def _chart(points: Sequence[_Point], show: Callable[[float], str]) -> Chart | None:
    plotted = [p for p in points if p.with_feature is not None]
    if not plotted:
        return None
    series = [Series("with the feature", [p.with_feature for p in plotted], "with")]
    if any(p.without is not None for p in plotted):
        series.append(Series("without the feature", [p.without for p in plotted], "without"))
    if any(p.line is not None for p in plotted):
        series.append(Series("the line it is judged against", [p.line for p in plotted], "limit"))
    band = None
    if any(p.interval is not None for p in plotted):
        band = Band("always-valid interval", [p.interval for p in plotted])
    return line_chart([p.at for p in plotted], series, band, show)


def guardrail_charts(
    guardrails: Sequence[Guardrail], checks: Sequence[RolloutCheck]
) -> list[GuardrailChart]:
    """A chart, its words and its table for each guardrail, from the plan's checks."""
    charts = []
    for guardrail in guardrails:
        judged = [
            (check, judgement)
            for check in checks
            if isinstance(judgement := check.judgements.get(guardrail.name), Mapping)
        ]
        show = _formatter([j for _, j in judged])
        points = [_point(guardrail, check, judgement) for check, judgement in judged]
        charts.append(
            GuardrailChart(
                name=guardrail.name,
                rule=_rule_words(guardrail),
                title=f"{guardrail.name} {_TITLES[isinstance(guardrail.rule, Compare)]}",
                description=_describe(guardrail, points, show),
                chart=_chart(points, show),
                rows=tuple(_row(p, show) for p in reversed(points)),
            )
        )
    return charts
