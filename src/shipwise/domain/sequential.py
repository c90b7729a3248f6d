"""Statistics that stay valid when the numbers are looked at every minute.

A guardrail is checked again and again while data arrive. A fixed-horizon test (a
z-test with p < 0.05) looked at that often is all but certain to cry wolf sooner or
later; the tests here are *always valid*: the chance that they ever reject a true null,
at any of the checks, however many, is at most ``alpha``.

Mixture SPRT (Johari, Pekelis & Walsh, "Always valid inference", 2017; Robbins 1970).
An estimate ``d`` of a difference (or a mean) is taken as normal with variance ``V``
around the truth ``theta``. Averaging the likelihood ratio against ``theta0`` over a
normal mixing distribution ``theta ~ N(theta0, tau2)`` gives, since ``d`` is then
``N(theta0, V + tau2)``::

    Lambda = sqrt(V / (V + tau2)) * exp(tau2 * (d - theta0)**2 / (2 * V * (V + tau2)))

Under ``theta0``, Lambda is a non-negative martingale with mean 1 as data accrue (``V``
shrinking as ``sigma2 / n``), so by Ville's inequality ``P(ever Lambda >= 1/alpha) <=
alpha``. Solving ``Lambda < 1/alpha`` for ``theta0`` gives the always-valid interval::

    d +- sqrt(2 * V * (V + tau2) / tau2 * (log(1/alpha) + log((V + tau2) / V) / 2))

``tau2`` tunes where the interval is tightest: for a given ``alpha`` the half-width is
smallest when ``tau2`` is about 10-25 times ``V``, and the optimum is flat. The callers
(``verdicts``) choose ``tau2`` as the square of the effect they care about.

Sample-ratio mismatch (Lindon & Malek, "Anytime-valid inference for multinomial count
data", 2020): the Bayes factor of a beta-binomial mixture against the expected share,
again a martingale under the null, rejected at ``1/alpha``.

``two_proportion_z_test`` is the naive fixed-horizon test, here only so that the
benchmark can show what looking every minute does to it.

Only ``math``: the domain is importable without numpy or scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "SAMPLE_RATIO_CONCENTRATION",
    "Interval",
    "ZTest",
    "always_valid_halfwidth",
    "always_valid_interval",
    "bernoulli_variance",
    "difference_variance",
    "log_mixture_likelihood_ratio",
    "normal_sf",
    "sample_ratio_log_bayes_factor",
    "sample_variance",
    "two_proportion_z_test",
]

# The beta prior on the treatment share under "mismatch" is Beta(c*p0, c*(1-p0)): centred
# on the expected share p0, with a standard deviation of sqrt(p0*(1-p0)/(c+1)), about one
# percentage point at p0 = 10% for c = 1000. Shares off by about that much (the size of
# real assignment and logging bugs) are found fastest; grosser ones are found anyway.
SAMPLE_RATIO_CONCENTRATION = 1000.0


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class ZTest:
    z: float
    p_value: float  # two-sided


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:  # also rejects NaN
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")


def log_mixture_likelihood_ratio(
    estimate: float, variance: float, tau2: float, null: float = 0.0
) -> float:
    """``log Lambda`` of the normal-mixture SPRT of ``null`` (see the module docstring).

    ``variance`` and ``tau2`` must be positive."""
    if not (variance > 0.0 and tau2 > 0.0):
        raise ValueError(f"variance and tau2 must be positive, got {variance!r} and {tau2!r}")
    shift = estimate - null
    total = variance + tau2
    return 0.5 * math.log(variance / total) + tau2 * shift * shift / (2.0 * variance * total)


def always_valid_halfwidth(variance: float, tau2: float, alpha: float) -> float:
    """Half-width of the (1 - alpha) always-valid interval for an estimate with
    ``variance`` under mixing variance ``tau2``: the set of nulls with
    ``Lambda < 1/alpha``."""
    _check_alpha(alpha)
    if not (variance > 0.0 and tau2 > 0.0):
        raise ValueError(f"variance and tau2 must be positive, got {variance!r} and {tau2!r}")
    total = variance + tau2
    bound = math.log(1.0 / alpha) + 0.5 * math.log(total / variance)
    return math.sqrt(2.0 * variance * total / tau2 * bound)


def always_valid_interval(estimate: float, variance: float, tau2: float, alpha: float) -> Interval:
    half = always_valid_halfwidth(variance, tau2, alpha)
    return Interval(estimate, estimate - half, estimate + half)


def bernoulli_variance(p: float) -> float:
    """Variance of one 0/1 outcome with success probability ``p`` (clamped to [0, 1])."""
    p = min(max(p, 0.0), 1.0)
    return p * (1.0 - p)


def sample_variance(total: float, total_sq: float, units: float) -> float | None:
    """Unbiased variance of one value from its count, sum and sum of squares; None when
    it cannot be had (fewer than two values, or a sum of squares smaller than the sum
    allows beyond rounding)."""
    if units < 2.0:
        return None
    mean = total / units
    spread = total_sq - units * mean * mean
    if spread < 0.0:
        # Rounding in the source can leave a tiny negative; anything bigger is not a sum
        # of squares of these values.
        if -spread > 1e-9 * max(abs(total_sq), 1.0):
            return None
        spread = 0.0
    return spread / (units - 1.0)


def difference_variance(
    var_treatment: float, units_treatment: float, var_control: float, units_control: float
) -> float:
    """Variance of ``mean_T - mean_C`` from the per-unit variances: ``sT2/nT + sC2/nC``."""
    return var_treatment / units_treatment + var_control / units_control


def sample_ratio_log_bayes_factor(
    treatment: float,
    control: float,
    expected_share: float,
    concentration: float = SAMPLE_RATIO_CONCENTRATION,
) -> float:
    """log Bayes factor of "the treatment share is not ``expected_share``" (a
    Beta(c*p0, c*(1-p0)) mixture over the share) against "it is". Counts may be
    fractional (weighted exposures); the gamma function does not mind."""
    p0 = expected_share
    if not 0.0 < p0 < 1.0:
        raise ValueError(f"expected_share must be between 0 and 1, got {p0!r}")
    if treatment < 0.0 or control < 0.0:
        raise ValueError(f"counts must not be negative, got {treatment!r} and {control!r}")
    a = concentration * p0
    b = concentration * (1.0 - p0)
    log_marginal = (
        math.lgamma(concentration)
        - math.lgamma(a)
        - math.lgamma(b)
        + math.lgamma(a + treatment)
        + math.lgamma(b + control)
        - math.lgamma(concentration + treatment + control)
    )
    log_null = treatment * math.log(p0) + control * math.log(1.0 - p0)
    return log_marginal - log_null


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_proportion_z_test(
    count_treatment: float, units_treatment: float, count_control: float, units_control: float
) -> ZTest:
    """The textbook pooled two-proportion z-test, valid for ONE look at a sample size
    fixed in advance. z > 0 when the treatment proportion is higher."""
    if units_treatment <= 0.0 or units_control <= 0.0:
        return ZTest(0.0, 1.0)
    p_t = count_treatment / units_treatment
    p_c = count_control / units_control
    pooled = (count_treatment + count_control) / (units_treatment + units_control)
    se = math.sqrt(bernoulli_variance(pooled) * (1.0 / units_treatment + 1.0 / units_control))
    if se == 0.0:
        return ZTest(0.0, 1.0)
    z = (p_t - p_c) / se
    return ZTest(z, min(1.0, 2.0 * normal_sf(abs(z))))
