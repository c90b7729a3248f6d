"""A guardrail's judgement as one line a person can check, and the same numbers as
fields a table or a webhook consumer can use:

    errors: 2.10% with the feature, 2.00% without (+5.0%, 99% interval -3.0% to +14%):
        no worse than allowed (+10%).
    p95-latency 180 (at most 250): fine.
    errors: not enough users yet: 340 of 1,000 needed.

The numbers are the ones the verdict recorded (``Judgement.details``, ``estimate``,
``lower``, ``upper``: see ``verdicts``), only put into words (``verdict_words``);
nothing is recomputed here. A judgement without numbers (too little data, a metric
that could not be read) keeps the verdict's own summary. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shipwise.domain import verdict_words as words
from shipwise.domain.guardrails import Compare, Direction, Guardrail, Judgement, Verdict

__all__ = ["GuardrailLine", "describe", "judgement_from_dict"]

# What each verdict means, when the rule adds nothing more specific.
VERDICT_WORDS = {
    Verdict.HEALTHY: "fine",
    Verdict.REGRESSED: "worse than allowed",
    Verdict.INCONCLUSIVE: "not sure yet",
    Verdict.ERROR: "could not be read",
    Verdict.NOT_APPLICABLE: "not compared",
}
# What a summary without numbers is followed by (the sample-ratio check's, say).
_BARE = {Verdict.HEALTHY: "fine", Verdict.REGRESSED: "not as expected"}


@dataclass(frozen=True, slots=True)
class GuardrailLine:
    """One guardrail at one check, in words and in numbers. The words are empty where
    the judgement has no such number (a threshold has nothing "without")."""

    name: str
    verdict: Verdict
    line: str  # the whole sentence
    verdict_words: str  # "no worse than allowed (+10%)", "fine", "not sure yet"
    with_feature: str = ""  # "2.10%": the value with the feature (a threshold's value)
    without_feature: str = ""
    change: str = ""  # "+5.0%": with against without, as the data shows it
    interval: str = ""  # "99% interval -3.0% to +14%"
    allowed: str = ""  # "+10% at most", "at most 250": the rule, for a rollback's words
    numbers: Mapping[str, float | None] | None = None  # with, without, estimate, lower, upper
    sides: tuple[str, str] = ("with the feature", "without")  # or "after the deploy", "before"

    def observed(self) -> str:
        """What was measured, in one phrase: "2.10% with the feature, 2.00% without
        (+5.0%)", "180", or the verdict's own words when there are no numbers."""
        if self.without_feature:
            change = f" ({self.change})" if self.change else ""
            after, before = self.sides
            return f"{self.with_feature} {after}, {self.without_feature} {before}{change}"
        return self.with_feature or self.line.rstrip(".")

    def to_dict(self) -> dict[str, Any]:
        """For webhook consumers: the numbers as the verdict recorded them (``estimate``,
        ``lower``, ``upper``: the relative change in the bad direction for a comparison,
        the value for a threshold) and the words shown."""
        numbers = dict(self.numbers or {})
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "with": numbers.get("with"),
            "without": numbers.get("without"),
            "estimate": numbers.get("estimate"),
            "lower": numbers.get("lower"),
            "upper": numbers.get("upper"),
            "line": self.line,
            "shown": {
                "with": self.with_feature,
                "without": self.without_feature,
                "change": self.change,
                "interval": self.interval,
                "verdict": self.verdict_words,
            },
        }


def describe(guardrail: Guardrail | None, judgement: Judgement, name: str = "") -> GuardrailLine:
    """``judgement`` of ``guardrail`` in words. ``guardrail`` is None for a check that
    is no guardrail (the sample-ratio check): its summary is kept."""
    name = guardrail.name if guardrail is not None else name or judgement.summary.split(":")[0]
    details = judgement.details
    if judgement.verdict is Verdict.ERROR:  # the summary says what was wrong
        guardrail = None
    if guardrail is not None and isinstance(guardrail.rule, Compare):
        if _numbers(details, "treatment_mean", "control_mean", "difference_halfwidth"):
            return _compared(guardrail, judgement, guardrail.rule.max_worse)
    elif guardrail is not None and _numbers(details, "value", "limit"):
        return _threshold(guardrail, judgement)
    if guardrail is not None and "limit" in details and _float(details.get("value")) is None:
        return _plain(name, judgement, f"{name}: no data yet.", "no data yet")
    if guardrail is not None and judgement.verdict is Verdict.INCONCLUSIVE:
        short = _too_few(guardrail, details)
        if short:
            return _plain(name, judgement, f"{name}: {short}.", short)
    # No numbers to show: the verdict's summary says what it found (and, for an error or
    # too little data, why); a bare verdict only adds which side it came down on.
    said = _BARE.get(judgement.verdict)
    ending = f": {said}." if said else "."
    return _plain(name, judgement, f"{_sentence(judgement.summary)}{ending}")


def judgement_from_dict(stored: Mapping[str, Any]) -> Judgement | None:
    """A judgement as the timeline keeps it (``asdict`` plus the verdict's value) back,
    or None when it is not one."""
    try:
        verdict = Verdict(str(stored.get("verdict")))
    except ValueError:
        return None
    details = stored.get("details")
    return Judgement(
        verdict,
        str(stored.get("summary") or ""),
        _float(stored.get("estimate")),
        _float(stored.get("lower")),
        _float(stored.get("upper")),
        dict(details) if isinstance(details, Mapping) else {},
    )


# --- comparisons: with the feature against without ---------------------------------------


def _sides(details: Mapping[str, Any]) -> tuple[str, str]:
    """How a comparison's arms read: with and without the feature, or (a comparison of
    deploys) after the deploy and before it."""
    sides = details.get("sides")
    if isinstance(sides, list | tuple) and list(sides) == ["after", "before"]:
        return "after the deploy", "before"
    return "with the feature", "without"


def _compared(guardrail: Guardrail, judgement: Judgement, max_worse: float) -> GuardrailLine:
    details = judgement.details
    show = _shower(details)
    with_it, without = float(details["treatment_mean"]), float(details["control_mean"])
    higher = guardrail.direction is Direction.HIGHER_IS_WORSE
    allowed = f"{'+' if higher else '-'}{words.allowed(float(details.get('max_worse', max_worse)))}"
    level = words.confidence(float(details.get("alpha", 0.05)))
    estimate, lower, upper = judgement.estimate, judgement.lower, judgement.upper
    if estimate is not None and lower is not None and upper is not None:
        # The verdict's numbers are in the bad direction; the words show the change as it
        # is (a drop in conversions is "-"), as the verdict's own summary does.
        shown = (estimate, lower, upper) if higher else (-estimate, -upper, -lower)
        change = words.relative(shown[0])
        interval = f"{level} interval {words.relative(shown[1])} to {words.relative(shown[2])}"
    else:  # nothing without the feature: the difference itself, not a share of zero
        half = float(details["difference_halfwidth"])
        change = ""
        interval = (
            f"{level} interval of the difference {show(with_it - without - half)} "
            f"to {show(with_it - without + half)}"
        )
    said = {
        Verdict.HEALTHY: f"no worse than allowed ({allowed})",
        Verdict.REGRESSED: f"worse than allowed ({allowed})",
        Verdict.INCONCLUSIVE: f"not sure yet it is within the allowed {allowed}",
    }.get(judgement.verdict, VERDICT_WORDS[judgement.verdict])
    inside = ", ".join(p for p in (change, interval) if p)
    after, before = _sides(details)
    line = (
        f"{guardrail.name}: {show(with_it)} {after}, {show(without)} {before} ({inside}): {said}."
    )
    return GuardrailLine(
        guardrail.name,
        judgement.verdict,
        line,
        said,
        show(with_it),
        show(without),
        change,
        interval,
        f"{allowed} at most",
        _record(judgement, with_it, without),
        (after, before),
    )


# --- thresholds: one number against a limit -----------------------------------------------


def _threshold(guardrail: Guardrail, judgement: Judgement) -> GuardrailLine:
    details = judgement.details
    show = _shower(details)
    value, limit = float(details["value"]), float(details["limit"])
    higher = guardrail.direction is Direction.HIGHER_IS_WORSE
    rule = f"{'at most' if higher else 'at least'} {show(limit)}"
    interval = ""
    lower, upper = judgement.lower, judgement.upper
    if "alpha" in details and lower is not None and upper is not None:
        level = words.confidence(float(details["alpha"]))
        interval = f"{level} interval {show(lower)} to {show(upper)}"
    said = {
        Verdict.HEALTHY: "fine",
        Verdict.REGRESSED: "over the limit" if higher else "under the limit",
        Verdict.INCONCLUSIVE: "not sure yet which side of the limit",
    }.get(judgement.verdict, VERDICT_WORDS[judgement.verdict])
    short = _too_few(guardrail, details) if judgement.verdict is Verdict.INCONCLUSIVE else None
    if short:
        said = short
    where = "with the feature " if "alpha" in details else ""
    inside = "; ".join(p for p in (rule, interval) if p)
    line = f"{guardrail.name} {show(value)} {where}({inside}): {said}."
    return GuardrailLine(
        guardrail.name,
        judgement.verdict,
        line,
        said,
        show(value),
        interval=interval,
        allowed=rule,
        numbers=_record(judgement, value, None),
    )


# --- judgements without numbers --------------------------------------------------------------


def _too_few(guardrail: Guardrail, details: Mapping[str, Any]) -> str | None:
    """Says "not enough users yet: 340 of 1,000 needed" when the verdict recorded how many
    units it had (the smaller arm, for a comparison) and they were too few."""
    if "limit" in details:  # a reading: its sample, when the source gave one
        value, sample = _float(details.get("value")), _float(details.get("sample"))
        if value is None or sample is None or sample >= guardrail.min_sample:
            return None
        found = [sample]
    else:
        keys = ("treatment_units", "control_units", "units")
        found = [x for key in keys if (x := _float(details.get(key))) is not None]
    if not found:
        return None
    have = min(found)
    # The verdict needs min_sample, and at least one unit (two for a mean's spread).
    needed = max(guardrail.min_sample, math.floor(have) + 1)
    return f"not enough users yet: {have:,.0f} of {needed:,} needed"


def _plain(name: str, judgement: Judgement, line: str, said: str = "") -> GuardrailLine:
    return GuardrailLine(
        name,
        judgement.verdict,
        line,
        said or VERDICT_WORDS[judgement.verdict],
        numbers=_record(judgement, None, None),
    )


def _sentence(summary: str) -> str:
    """A summary as the start of a sentence: one line, without a closing full stop."""
    return " ".join(summary.split()).rstrip(".") or "no judgement"


# --- numbers ----------------------------------------------------------------------------------


def _shower(details: Mapping[str, Any]) -> Callable[[float], str]:
    """How the verdict showed this metric's values: a rate as a percentage."""
    kind = details.get("kind")
    if kind in {"rate", "mean"}:
        poisson = details.get("model") == "poisson"
        return lambda x: words.value(str(kind), poisson, x)
    return words.number


def _numbers(details: Mapping[str, Any], *keys: str) -> bool:
    return all(_float(details.get(key)) is not None for key in keys)


def _float(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def _record(
    judgement: Judgement, with_it: float | None, without: float | None
) -> dict[str, float | None]:
    return {
        "with": with_it,
        "without": without,
        "estimate": _float(judgement.estimate),
        "lower": _float(judgement.lower),
        "upper": _float(judgement.upper),
    }
