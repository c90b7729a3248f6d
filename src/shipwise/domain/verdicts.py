"""Verdicts: one guardrail, one observation, one judgement a person can check.

``judge`` applies a guardrail's rule to what its metric source reported:

==================  =====================================================================
rule / observation  how it is judged
==================  =====================================================================
Threshold, Reading  the value against the limit, as the source reports it
Threshold, Compar.  the arm with the feature: an always-valid interval for its mean
                    against the limit (REGRESSED when all of it is beyond the limit,
                    HEALTHY when all of it is within)
Compare, Comparison the relative change in the bad direction, with an always-valid
                    interval: REGRESSED when surely worse *and* the estimate is beyond
                    ``max_worse``; HEALTHY when surely no more than ``max_worse`` worse
Compare, Reading    ERROR: a comparison needs a source that reports both arms
any, Unreadable     ERROR, with the source's problem
==================  =====================================================================

``sample_ratio`` checks that the split of exposures matches the rollout percentage.

The statistics (``sequential``) are always valid: checked every minute for weeks, a
feature that changes nothing is judged REGRESSED with probability at most ``alpha``.

Choices, each a judgement call written down:

* Rate metrics are Bernoulli per exposure (variance ``p(1-p)``), or Poisson (variance
  ``rate``) when either arm has more events than exposures. Mean metrics use each arm's
  sample variance. Each arm's variance is floored at the pooled one, so that an arm
  that by chance has no errors yet (variance 0) cannot make a difference look certain;
  and a rate comparison waits for about 5 expected events in the smaller arm (n*p >= 5),
  before which one error in one exposure would look like a certain regression.
* The relative interval is the difference interval divided by the control estimate:
  this treats the control mean as known. The control arm is the large one (90% of
  traffic at a 10% step), so its error is the small part; at 50% it is less so.
* ``tau2`` (the mixing variance) is the square of the effect the guardrail is about:
  ``max(max_worse, 5%) * |control mean|`` for ``Compare`` (the pooled mean of both arms
  when the control's is 0), half the limit for a ``Threshold``. The interval is then
  tightest when the data can just resolve an effect of that size, which is when the
  decision is made. E.g. errors at 1% and max_worse 50%: tau = 0.5%, tau2 = 2.5e-5.
* Odd numbers (NaN, infinities, negative counts) are ERROR, never an exception.
  ``alpha`` outside (0, 1) is the caller's bug and raises ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

from shipwise.domain import verdict_words as words
from shipwise.domain.guardrails import (
    DEPLOYS,
    ArmStats,
    Compare,
    Comparison,
    Direction,
    Guardrail,
    Judgement,
    Observation,
    Reading,
    Threshold,
    Unreadable,
    Verdict,
)
from shipwise.domain.sequential import (
    always_valid_halfwidth,
    bernoulli_variance,
    sample_ratio_log_bayes_factor,
    sample_variance,
)

__all__ = [
    "MIN_EXPECTED_EVENTS",
    "MIN_RELATIVE_EFFECT",
    "MIN_SAMPLE_RATIO_UNITS",
    "THRESHOLD_EFFECT",
    "compare_tau2",
    "judge",
    "sample_ratio",
]

MIN_RELATIVE_EFFECT = 0.05  # tau is tuned to at least a 5% change, whatever max_worse
THRESHOLD_EFFECT = 0.5  # tau for a threshold: half the limit
THRESHOLD_FALLBACK_UNITS = 1000.0  # limit 0: tau2 = the variance of a mean of 1,000 units
MIN_SAMPLE_RATIO_UNITS = 100.0  # fewer exposures in all: too few to judge the split
# A rate comparison waits until the smaller arm would hold this many events (and as many
# non-events) at the pooled rate: the textbook n*p >= 5 for a normal approximation.
MIN_EXPECTED_EVENTS = 5.0

_UNIT_WORDS = {"rate": "exposures", "mean": "values"}


def judge(guardrail: Guardrail, observation: Observation, *, alpha: float) -> Judgement:
    """The guardrail's verdict on one observation; never raises on the numbers."""
    _check_alpha(alpha)
    rule = guardrail.rule
    setting = rule.limit if isinstance(rule, Threshold) else rule.max_worse
    if not math.isfinite(setting):
        return Judgement(
            Verdict.ERROR, f"{guardrail.name}: the guardrail's rule is set to {setting}; fix it"
        )
    match guardrail.rule, observation:
        case _, Unreadable(problem=problem):
            problem = " ".join(problem.split())  # one line, whatever the source said
            return Judgement(Verdict.ERROR, f"{guardrail.name} could not be read: {problem}")
        case Threshold() as rule, Reading() as reading:
            return _threshold_reading(guardrail, rule, reading)
        case Threshold() as rule, Comparison() as comparison:
            return _threshold_comparison(guardrail, rule, comparison, alpha)
        case Compare() as rule, Comparison() as comparison:
            return _compare(guardrail, rule, comparison, alpha)
        case Compare(), Reading():
            return Judgement(
                Verdict.ERROR,
                f"{guardrail.name}: a comparison needs a metric that reports both arms, with "
                "and without the feature (an sdk source); this source reports one number",
            )
    return Judgement(  # pragma: no cover - the match above is exhaustive for the types
        Verdict.ERROR, f"{guardrail.name}: cannot judge {type(observation).__name__}"
    )


# --- Threshold ---------------------------------------------------------------------------


def _threshold_reading(guardrail: Guardrail, rule: Threshold, reading: Reading) -> Judgement:
    name, limit, value, sample = guardrail.name, rule.limit, reading.value, reading.sample
    details: dict[str, Any] = {"value": value, "sample": sample, "limit": limit}
    if value is None or math.isnan(value):
        return Judgement(Verdict.INCONCLUSIVE, f"{name}: no data", details=details)
    if math.isinf(value):
        return Judgement(Verdict.ERROR, f"{name}: the source reported {value}", details=details)
    if sample is not None:
        if not math.isfinite(sample) or sample < 0:
            return Judgement(
                Verdict.ERROR, f"{name}: the source reported a sample of {sample}", details=details
            )
        if sample < guardrail.min_sample:
            return Judgement(
                Verdict.INCONCLUSIVE,
                f"{name} {words.number(value)} on {sample:,.0f} units, "
                f"fewer than the {guardrail.min_sample:,} needed",
                estimate=value,
                details=details,
            )
    bad = value > limit if guardrail.direction is Direction.HIGHER_IS_WORSE else value < limit
    on = f" on {sample:,.0f} units" if sample is not None else ""
    side = "above" if guardrail.direction is Direction.HIGHER_IS_WORSE else "below"
    if bad:
        summary = f"{name} {words.number(value)}{on}, {side} the limit of {words.number(limit)}"
        return Judgement(Verdict.REGRESSED, summary, value, value, value, details)
    summary = f"{name} {words.number(value)}{on}, within the limit of {words.number(limit)}"
    return Judgement(Verdict.HEALTHY, summary, value, value, value, details)


def _threshold_comparison(
    guardrail: Guardrail, rule: Threshold, comparison: Comparison, alpha: float
) -> Judgement:
    name, limit, arm = guardrail.name, rule.limit, comparison.treatment
    problem = _problem(comparison)
    if problem:
        return Judgement(Verdict.ERROR, f"{name}: {problem}")
    unit = _UNIT_WORDS[comparison.kind]
    if arm.units < max(guardrail.min_sample, 1) or (comparison.kind == "mean" and arm.units < 2):
        needed = max(guardrail.min_sample, 2 if comparison.kind == "mean" else 1)
        return Judgement(
            Verdict.INCONCLUSIVE,
            f"{name}: {arm.units:,.0f} {unit} with the feature, fewer than the {needed:,} needed",
            details={"units": arm.units},
        )
    poisson = comparison.kind == "rate" and arm.count > arm.units
    estimate = _mean(comparison.kind, arm)
    variance = _single_arm_variance(comparison.kind, arm, poisson)
    if variance is None or variance <= 0.0:
        return Judgement(
            Verdict.INCONCLUSIVE,
            f"{name}: {words.value(comparison.kind, poisson, estimate)} with the feature and no "
            "spread in the values yet; cannot judge",
            estimate=estimate,
        )
    tau = THRESHOLD_EFFECT * limit
    tau2 = tau * tau or variance / THRESHOLD_FALLBACK_UNITS
    spread = variance / arm.units
    if not (0.0 < tau2 < math.inf and 0.0 < spread < math.inf):
        return Judgement(Verdict.ERROR, f"{name}: numbers out of range to judge", estimate=estimate)
    half = always_valid_halfwidth(spread, tau2, alpha)
    if not math.isfinite(half + estimate):
        return Judgement(Verdict.ERROR, f"{name}: numbers out of range to judge", estimate=estimate)
    lower, upper = estimate - half, estimate + half
    if comparison.kind == "rate":  # a rate is never negative, a proportion never above 1
        lower, upper = max(lower, 0.0), upper if poisson else min(upper, 1.0)
    if guardrail.direction is Direction.HIGHER_IS_WORSE:
        regressed, within = lower > limit, upper <= limit
    else:
        regressed, within = upper < limit, lower >= limit
    verdict = (
        Verdict.REGRESSED if regressed else Verdict.HEALTHY if within else Verdict.INCONCLUSIVE
    )

    def show(x: float) -> str:
        return words.value(comparison.kind, poisson, x)

    why = {
        Verdict.REGRESSED: "beyond the limit",
        Verdict.HEALTHY: "within the limit",
        Verdict.INCONCLUSIVE: "not yet sure which side of the limit",
    }[verdict]
    summary = (
        f"{name} {show(estimate)} with the feature (always-valid {words.confidence(alpha)}: "
        f"{show(lower)}..{show(upper)}; {arm.units:,.0f} {unit}), limit {show(limit)}: {why}"
    )
    details: dict[str, Any] = {
        "kind": comparison.kind,
        "model": _model(comparison.kind, poisson),
        "units": arm.units,
        "value": estimate,
        "variance": variance,
        "limit": limit,
        "tau2": tau2,
        "alpha": alpha,
    }
    return Judgement(verdict, summary, estimate, lower, upper, details)


# --- Compare -----------------------------------------------------------------------------


def compare_tau2(max_worse: float, baseline: float) -> float:
    """The mixing variance for a comparison: the square of the change the guardrail is
    about, ``max(|max_worse|, 5%)`` of the baseline, in the metric's units."""
    tau = max(abs(max_worse), MIN_RELATIVE_EFFECT) * abs(baseline)
    return tau * tau


def _compare(
    guardrail: Guardrail, rule: Compare, comparison: Comparison, alpha: float
) -> Judgement:
    name, kind = guardrail.name, comparison.kind
    treatment, control = comparison.treatment, comparison.control
    problem = _problem(comparison)
    if problem:
        return Judgement(Verdict.ERROR, f"{name}: {problem}")
    unit = _UNIT_WORDS[kind]
    counts = f"{treatment.units:,.0f} vs {control.units:,.0f} {unit}"
    after, before = comparison.sides
    if control.units == 0 and comparison.basis == DEPLOYS:  # not drained, or pruned: unsure
        return Judgement(
            Verdict.INCONCLUSIVE, f"{name}: nothing from the deploy before yet ({counts})"
        )
    if control.units == 0:
        return Judgement(
            Verdict.NOT_APPLICABLE, f"{name}: nobody is left without the feature ({counts})"
        )
    needed = max(guardrail.min_sample, 2 if kind == "mean" else 1)
    if min(treatment.units, control.units) < needed:
        return Judgement(
            Verdict.INCONCLUSIVE,
            f"{name}: {counts}, fewer than the {needed:,} needed in each",
            details={"treatment_units": treatment.units, "control_units": control.units},
        )
    poisson = kind == "rate" and (
        treatment.count > treatment.units or control.count > control.units
    )
    mean_t, var_t, mean_c, var_c = _pooled_arms(kind, treatment, control, poisson)
    sides = (
        f"{words.value(kind, poisson, mean_t)} {after} vs "
        f"{words.value(kind, poisson, mean_c)} {before}"
    )
    if mean_t == 0.0 and mean_c == 0.0:
        return Judgement(Verdict.INCONCLUSIVE, f"{name} {sides} ({counts}): nothing to compare yet")
    if kind == "rate":
        pooled = (treatment.count + control.count) / (treatment.units + control.units)
        events = min(treatment.units, control.units) * (
            pooled if poisson else min(pooled, 1.0 - pooled)
        )
        if events < MIN_EXPECTED_EVENTS:
            return Judgement(
                Verdict.INCONCLUSIVE,
                f"{name} {sides} ({counts}): too few events to compare yet (about "
                f"{events:.1f} expected in the smaller arm, {MIN_EXPECTED_EVENTS:g} needed)",
            )
    variance = var_t / treatment.units + var_c / control.units
    if not variance > 0.0:
        return Judgement(
            Verdict.INCONCLUSIVE,
            f"{name} {sides} ({counts}): no spread in the values; cannot judge",
        )
    sign = 1.0 if guardrail.direction is Direction.HIGHER_IS_WORSE else -1.0
    worse = sign * (mean_t - mean_c)  # the difference in the bad direction
    baseline = abs(mean_c)
    # With nothing at all without the feature, the level of both arms together is the scale.
    pooled_mean = (mean_t * treatment.units + mean_c * control.units) / (
        treatment.units + control.units
    )
    tau2 = compare_tau2(rule.max_worse, baseline or pooled_mean)
    in_range = 0.0 < tau2 < math.inf and variance < math.inf
    half = always_valid_halfwidth(variance, tau2, alpha) if in_range else math.inf
    if not math.isfinite(half + worse):
        return Judgement(Verdict.ERROR, f"{name} {sides} ({counts}): numbers out of range to judge")
    details: dict[str, Any] = {
        "kind": kind,
        "model": _model(kind, poisson),
        "treatment_units": treatment.units,
        "treatment_mean": mean_t,
        "treatment_variance": var_t,
        "control_units": control.units,
        "control_mean": mean_c,
        "control_variance": var_c,
        "difference": mean_t - mean_c,
        "difference_halfwidth": half,
        "tau2": tau2,
        "alpha": alpha,
        "max_worse": rule.max_worse,
        "sides": [after, before],  # how the two arms read in words
    }
    level = words.confidence(alpha)
    allowed = words.allowed(rule.max_worse)
    if baseline == 0.0:
        # Nothing without the feature: any sure change is infinitely large, relatively.
        low, high = mean_t - mean_c - half, mean_t - mean_c + half
        interval = (
            f"always-valid {level} difference: "
            f"{words.value(kind, poisson, low)}..{words.value(kind, poisson, high)}"
        )
        if worse - half > 0.0:
            verdict, why = Verdict.REGRESSED, f"worse, where {before} there is none"
        elif worse + half < 0.0:
            verdict, why = Verdict.HEALTHY, f"better than {before}"
        else:
            verdict, why = Verdict.INCONCLUSIVE, "not yet sure, and no baseline to compare to"
        return Judgement(verdict, f"{name} {sides} ({interval}; {counts}): {why}", details=details)
    relative, lower, upper = worse / baseline, (worse - half) / baseline, (worse + half) / baseline
    if lower > 0.0 and relative > rule.max_worse:
        verdict, why = Verdict.REGRESSED, f"worse, by more than the {allowed} allowed"
    elif upper < rule.max_worse:
        verdict, why = Verdict.HEALTHY, f"no more than {allowed} worse"
    else:
        verdict, why = Verdict.INCONCLUSIVE, f"not yet sure it is within {allowed} worse"
    # The words show the change as it is (a drop in conversions is "-"); the judgement's
    # numbers are in the bad direction (positive = worse), as the rule reads them.
    shown = (relative, lower, upper) if sign > 0 else (-relative, -upper, -lower)
    summary = (
        f"{name} {sides} ({words.relative(shown[0])}, always-valid {level}: "
        f"{words.relative(shown[1])}..{words.relative(shown[2])}; {counts}): {why}"
    )
    return Judgement(verdict, summary, relative, lower, upper, details)


def _pooled_arms(
    kind: str, treatment: ArmStats, control: ArmStats, poisson: bool
) -> tuple[float, float, float, float]:
    """Each arm's mean and per-unit variance (mean_t, var_t, mean_c, var_c), the
    variances floored at the pooled one."""
    n_t, n_c = treatment.units, control.units
    if kind == "rate":
        p_t, p_c = treatment.count / n_t, control.count / n_c
        pooled = (treatment.count + control.count) / (n_t + n_c)
        if poisson:
            return p_t, max(p_t, pooled), p_c, max(p_c, pooled)
        floor = bernoulli_variance(pooled)
        return p_t, max(bernoulli_variance(p_t), floor), p_c, max(bernoulli_variance(p_c), floor)
    v_t = sample_variance(treatment.total, treatment.total_sq, n_t) or 0.0
    v_c = sample_variance(control.total, control.total_sq, n_c) or 0.0
    within = (v_t * (n_t - 1) + v_c * (n_c - 1)) / (n_t + n_c - 2)
    return treatment.total / n_t, max(v_t, within), control.total / n_c, max(v_c, within)


# --- sample ratio ------------------------------------------------------------------------


def sample_ratio(
    treatment_units: float, control_units: float, expected_share: float, *, alpha: float
) -> Judgement:
    """Is the split of exposures what the rollout percentage says? A sequential test
    (beta-binomial Bayes factor against ``expected_share``), valid checked every minute:
    REGRESSED when the Bayes factor reaches ``1/alpha``."""
    _check_alpha(alpha)
    name = "sample ratio"
    if not (
        math.isfinite(treatment_units + control_units) and min(treatment_units, control_units) >= 0
    ):
        return Judgement(
            Verdict.ERROR,
            f"{name}: the source reported {treatment_units} with and {control_units} without",
        )
    if not 0.0 < expected_share < 1.0:
        return Judgement(
            Verdict.ERROR, f"{name}: an expected share of {expected_share} cannot be checked"
        )
    total = treatment_units + control_units
    expected = f"expected {words.share(expected_share)}"
    if total < MIN_SAMPLE_RATIO_UNITS:
        return Judgement(
            Verdict.INCONCLUSIVE,
            f"{name}: {total:,.0f} exposures, fewer than the "
            f"{MIN_SAMPLE_RATIO_UNITS:,.0f} needed ({expected} with the feature)",
        )
    log_bf = sample_ratio_log_bayes_factor(treatment_units, control_units, expected_share)
    if not math.isfinite(log_bf):
        return Judgement(Verdict.ERROR, f"{name}: {total:g} exposures, too many to judge")
    share = treatment_units / total
    mismatch = log_bf >= math.log(1.0 / alpha)
    bayes = f"Bayes factor {math.exp(min(log_bf, 700.0)):.3g}, mismatch at {words.one_in(alpha)}"
    summary = (
        f"{name}: {words.share(share)} of {total:,.0f} exposures with the feature, "
        f"{expected} ({bayes})"
    )
    details = {
        "treatment_units": treatment_units,
        "control_units": control_units,
        "expected_share": expected_share,
        "log_bayes_factor": log_bf,
        "alpha": alpha,
    }
    verdict = Verdict.REGRESSED if mismatch else Verdict.HEALTHY
    return Judgement(verdict, summary, estimate=share, details=details)


# --- numbers (their words: verdict_words) ------------------------------------------------


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:  # also rejects NaN
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")


def _problem(comparison: Comparison) -> str | None:
    """What is impossible about these numbers, or None."""
    if comparison.kind not in _UNIT_WORDS:
        return f"unknown metric kind {comparison.kind!r} (expected 'rate' or 'mean')"
    t, c = comparison.treatment, comparison.control
    plausible = (
        math.isfinite(
            t.units + t.count + t.total + t.total_sq + c.units + c.count + c.total + c.total_sq
        )
        and min(t.units, t.count, t.total_sq, c.units, c.count, c.total_sq) >= 0
    )
    if plausible and comparison.kind == "rate":  # the common case, checked quickly
        return None
    for label, arm in (("with", comparison.treatment), ("without", comparison.control)):
        fields = {
            "units": arm.units,
            "count": arm.count,
            "total": arm.total,
            "total_sq": arm.total_sq,
        }
        for field, x in fields.items():
            if not math.isfinite(x) or (field != "total" and x < 0):
                return f"the source reported {field} = {x} for the arm {label} the feature"
        impossible = (
            comparison.kind == "mean"
            and arm.units >= 2
            and sample_variance(arm.total, arm.total_sq, arm.units) is None
        )
        if impossible:
            return (
                f"sum of squares {arm.total_sq} is impossible for {arm.units:,.0f} values "
                f"summing to {arm.total} (arm {label} the feature)"
            )
    return None


def _mean(kind: str, arm: ArmStats) -> float:
    return (arm.count if kind == "rate" else arm.total) / arm.units


def _single_arm_variance(kind: str, arm: ArmStats, poisson: bool) -> float | None:
    if kind == "mean":
        return sample_variance(arm.total, arm.total_sq, arm.units)
    if poisson:
        return arm.count / arm.units
    # Laplace's (count + 1) / (units + 2) keeps "no errors yet" from meaning "certain".
    smoothed = (arm.count + 1.0) / (arm.units + 2.0)
    return max(bernoulli_variance(arm.count / arm.units), bernoulli_variance(smoothed))


def _model(kind: str, poisson: bool) -> str:
    if kind == "mean":
        return "normal"
    return "poisson" if poisson else "bernoulli"
