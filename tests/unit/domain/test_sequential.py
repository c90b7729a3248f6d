"""``sequential``: the always-valid statistics, checked against independent computations
(numerical integration, the standard library's ``NormalDist`` and ``variance``, values
worked by hand) and by simulation with fixed seeds, under continuous monitoring."""

from __future__ import annotations

import math
import random
import statistics
from statistics import NormalDist

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipwise.domain import sequential
from shipwise.domain.sequential import (
    always_valid_halfwidth,
    always_valid_interval,
    log_mixture_likelihood_ratio,
    sample_ratio_log_bayes_factor,
    sample_variance,
    two_proportion_z_test,
)

positive = st.floats(min_value=1e-8, max_value=1e4, allow_nan=False, allow_infinity=False)
alphas = st.floats(min_value=1e-6, max_value=0.5)


def _normal_pdf(x: float, mean: float, var: float) -> float:
    return math.exp(-((x - mean) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)


def _mixture_ratio_by_integration(estimate: float, var: float, tau2: float, null: float) -> float:
    """∫ N(d; θ, V) N(θ; θ0, τ²) dθ / N(d; θ0, V), by Simpson's rule over ±12 sd of
    whichever of the two factors is wider."""
    width = 12 * math.sqrt(max(var, tau2))
    lo, hi = min(null, estimate) - width, max(null, estimate) + width
    steps = 20_000
    h = (hi - lo) / steps
    total = 0.0
    for i in range(steps + 1):
        theta = lo + i * h
        weight = 1 if i in (0, steps) else (4 if i % 2 else 2)
        total += weight * _normal_pdf(estimate, theta, var) * _normal_pdf(theta, null, tau2)
    return total * h / 3 / _normal_pdf(estimate, null, var)


# --- the mixture likelihood ratio and its interval --------------------------------------


@pytest.mark.parametrize(
    ("estimate", "var", "tau2", "null"),
    [
        pytest.param(0.0, 1.0, 1.0, 0.0, id="at-the-null"),
        pytest.param(2.5, 1.0, 1.0, 0.0, id="two-and-a-half-sd-off"),
        pytest.param(0.011, 1e-5, 2.5e-5, 0.0, id="error-rate-scale"),
        pytest.param(-3.0, 4.0, 0.25, 1.0, id="narrow-mixture-null-not-zero"),
    ],
)
def test_log_mixture_likelihood_ratio__equals_the_integrated_mixture(
    estimate: float, var: float, tau2: float, null: float
) -> None:
    expected = _mixture_ratio_by_integration(estimate, var, tau2, null)

    got = math.exp(log_mixture_likelihood_ratio(estimate, var, tau2, null))

    assert got == pytest.approx(expected, rel=1e-6)


def test_always_valid_halfwidth__matches_a_value_worked_by_hand() -> None:
    # V = tau2 = 1, alpha = 5%: sqrt(2*1*2/1 * (ln 20 + ln(2)/2)) = sqrt(4 * 3.342306) = 3.656395
    assert always_valid_halfwidth(1.0, 1.0, 0.05) == pytest.approx(3.656395, abs=1e-6)


@given(estimate=st.floats(-1e3, 1e3), var=positive, tau2=positive, alpha=alphas)
def test_always_valid_interval__ends_exactly_where_the_ratio_reaches_one_over_alpha(
    estimate: float, var: float, tau2: float, alpha: float
) -> None:
    interval = always_valid_interval(estimate, var, tau2, alpha)

    for end in (interval.lower, interval.upper):
        log_ratio = log_mixture_likelihood_ratio(estimate, var, tau2, null=end)
        assert log_ratio == pytest.approx(math.log(1 / alpha), rel=1e-6, abs=1e-6)
    assert interval.lower < estimate < interval.upper


@given(var=positive, tau2=positive, alpha=alphas)
def test_always_valid_halfwidth__is_wider_than_the_fixed_horizon_interval(
    var: float, tau2: float, alpha: float
) -> None:
    fixed = NormalDist().inv_cdf(1 - alpha / 2) * math.sqrt(var)

    assert always_valid_halfwidth(var, tau2, alpha) > fixed


@given(var=positive, tau2=positive, alpha=alphas, factor=st.floats(1.01, 100))
def test_always_valid_halfwidth__grows_with_variance_and_with_confidence(
    var: float, tau2: float, alpha: float, factor: float
) -> None:
    width = always_valid_halfwidth(var, tau2, alpha)

    assert always_valid_halfwidth(var * factor, tau2, alpha) > width
    assert always_valid_halfwidth(var, tau2, alpha / factor) > width


def test_always_valid_halfwidth__is_tightest_with_tau2_near_ten_to_twenty_five_variances() -> None:
    # The documented tuning rule: at alpha = 0.33%, the best tau2 is 10-25x the variance.
    ratios = [r / 2 for r in range(2, 200)]
    best = min(ratios, key=lambda r: always_valid_halfwidth(1.0, r, 0.01 / 3))

    assert 10 <= best <= 25


@pytest.mark.parametrize(
    ("var", "tau2", "alpha"),
    [
        pytest.param(0.0, 1.0, 0.05, id="zero-variance"),
        pytest.param(1.0, 0.0, 0.05, id="zero-tau2"),
        pytest.param(1.0, 1.0, 0.0, id="alpha-zero"),
        pytest.param(1.0, 1.0, 1.0, id="alpha-one"),
        pytest.param(1.0, 1.0, math.nan, id="alpha-nan"),
    ],
)
def test_always_valid_halfwidth__refuses_degenerate_arguments(
    var: float, tau2: float, alpha: float
) -> None:
    with pytest.raises(ValueError, match="must be"):
        always_valid_halfwidth(var, tau2, alpha)


def _ever_misses(
    *, runs: int, steps: int, mean: float, tau2: float, alpha: float, seed: int, fixed: bool
) -> float:
    """Fraction of runs in which the interval, recomputed after every observation of a
    N(mean, 1) stream, at some point excluded the true mean."""
    rng = random.Random(seed)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    missed = 0
    for _ in range(runs):
        total = 0.0
        for n in range(1, steps + 1):
            total += rng.gauss(mean, 1.0)
            half = z / math.sqrt(n) if fixed else always_valid_halfwidth(1.0 / n, tau2, alpha)
            if abs(total / n - mean) > half:
                missed += 1
                break
    return missed / runs


@pytest.mark.parametrize("mean", [0.0, 0.3], ids=["null-true", "effect-0.3"])
def test_always_valid_interval__covers_the_truth_at_every_look__in_simulation(mean: float) -> None:
    # Given 300 streams, looked at after each of 1,000 observations
    # When the always-valid 90% interval is recomputed at every look
    missed = _ever_misses(
        runs=300, steps=1000, mean=mean, tau2=0.01, alpha=0.1, seed=1, fixed=False
    )

    # Then it ever excludes the truth in no more than 10% of the streams
    assert missed <= 0.1


def test_fixed_horizon_interval__misses_the_truth_often_when_peeked_at__in_simulation() -> None:
    # The same simulation fails the fixed-horizon interval: it is able to fail.
    missed = _ever_misses(runs=300, steps=1000, mean=0.0, tau2=0.01, alpha=0.1, seed=1, fixed=True)

    assert missed > 0.4


# --- sample-ratio Bayes factor ----------------------------------------------------------


def test_sample_ratio_bayes_factor__is_one_before_and_after_the_first_unit() -> None:
    # The prior's mean is the expected share: one unit cannot tell anything.
    for x, y in ((0, 0), (1, 0), (0, 1)):
        assert sample_ratio_log_bayes_factor(x, y, 0.1) == pytest.approx(0.0, abs=1e-9)


def test_sample_ratio_bayes_factor__two_units_with_the_feature__worked_by_hand() -> None:
    # BF = E[p^2] / p0^2 under Beta(c p0, c (1 - p0)) = (c p0 + 1) / ((c + 1) p0)
    c, p0 = 1000.0, 0.1
    expected = (c * p0 + 1) / ((c + 1) * p0)

    assert math.exp(sample_ratio_log_bayes_factor(2, 0, p0, c)) == pytest.approx(expected)


@given(
    x=st.integers(0, 100_000),
    y=st.integers(0, 100_000),
    p0=st.floats(0.01, 0.99),
    c=st.floats(1.0, 10_000.0),
)
def test_sample_ratio_bayes_factor__is_a_martingale_under_the_expected_share(
    x: int, y: int, p0: float, c: float
) -> None:
    # E[BF after one more unit | now] = BF now, when units go to treatment with p0.
    now = sample_ratio_log_bayes_factor(x, y, p0, c)
    up = sample_ratio_log_bayes_factor(x + 1, y, p0, c)
    down = sample_ratio_log_bayes_factor(x, y + 1, p0, c)

    expected_next = p0 * math.exp(up - now) + (1 - p0) * math.exp(down - now)

    assert expected_next == pytest.approx(1.0, rel=1e-7)


def _srm_rejects(*, runs: int, units: int, share: float, alpha: float, seed: int) -> float:
    rng = random.Random(seed)
    bar = math.log(1 / alpha)
    rejected = 0
    for _ in range(runs):
        x = y = 0
        for _ in range(units):
            if rng.random() < share:
                x += 1
            else:
                y += 1
            if sample_ratio_log_bayes_factor(x, y, 0.1) >= bar:
                rejected += 1
                break
    return rejected / runs


def test_sample_ratio_bayes_factor__rarely_rejects_a_correct_split_checked_every_unit() -> None:
    assert _srm_rejects(runs=200, units=5000, share=0.1, alpha=0.1, seed=4) <= 0.1


def test_sample_ratio_bayes_factor__rejects_a_15_percent_split_expected_at_10() -> None:
    assert _srm_rejects(runs=100, units=5000, share=0.15, alpha=0.1, seed=5) >= 0.95


@pytest.mark.parametrize(
    ("x", "y", "p0"),
    [
        pytest.param(1, 1, 0.0, id="share-zero"),
        pytest.param(1, 1, 1.0, id="share-one"),
        pytest.param(-1, 1, 0.5, id="negative-count"),
    ],
)
def test_sample_ratio_bayes_factor__refuses_impossible_arguments(x: int, y: int, p0: float) -> None:
    with pytest.raises(ValueError, match="must"):
        sample_ratio_log_bayes_factor(x, y, p0)


# --- the naive test, and small helpers --------------------------------------------------


def test_two_proportion_z_test__matches_the_textbook_value() -> None:
    # 5.0% of 1,000 vs 3.0% of 1,000: pooled 4%, se = sqrt(.04 * .96 * 2/1000)
    se = math.sqrt(0.04 * 0.96 * 0.002)
    z = 0.02 / se

    result = two_proportion_z_test(50, 1000, 30, 1000)

    assert result.z == pytest.approx(z)
    assert result.z == pytest.approx(2.2822, abs=1e-4)
    assert result.p_value == pytest.approx(2 * (1 - NormalDist().cdf(z)))


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param((0, 0, 5, 100), id="no-treatment-units"),
        pytest.param((0, 100, 0, 100), id="no-events-anywhere"),
        pytest.param((3, 100, 3, 100), id="identical"),
    ],
)
def test_two_proportion_z_test__without_evidence__is_z_zero_p_one(
    counts: tuple[int, int, int, int],
) -> None:
    result = two_proportion_z_test(*counts)

    assert (result.z, result.p_value) == (0.0, 1.0)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=50))
def test_sample_variance__equals_the_standard_library_variance(values: list[float]) -> None:
    total = sum(values)
    total_sq = sum(v * v for v in values)

    got = sample_variance(total, total_sq, len(values))

    assert got is not None
    assert got == pytest.approx(statistics.variance(values), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(
    ("total", "total_sq", "units", "expected"),
    [
        pytest.param(5.0, 25.0, 1, None, id="one-value"),
        pytest.param(10.0, 10.0, 2, None, id="sum-of-squares-impossible"),
        pytest.param(6.0, 18.0 - 1e-12, 2, 0.0, id="rounding-below-zero-clamped"),
    ],
)
def test_sample_variance__when_it_cannot_be_had(
    total: float, total_sq: float, units: float, expected: float | None
) -> None:
    assert sample_variance(total, total_sq, units) == expected


@given(st.floats(-10, 10))
def test_normal_sf__equals_the_standard_library(z: float) -> None:
    assert sequential.normal_sf(z) == pytest.approx(1 - NormalDist().cdf(z), abs=1e-12)


def test_all__names_exactly_the_public_functions() -> None:
    public = {
        name
        for name, value in vars(sequential).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == sequential.__name__
    }
    assert public <= set(sequential.__all__)
