"""A guardrail's judgement as a line a person can check: the verdict's own numbers
(both arms, the change, its interval, the limit) in words, and the verdict in words;
too little data and an unreadable metric said as such. Judgements come from
``verdicts.judge`` on observations, as the runner makes them."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from shipwise.domain import verdicts
from shipwise.domain.guardrail_lines import describe, judgement_from_dict
from shipwise.domain.guardrails import (
    DEPLOYS,
    ArmStats,
    Compare,
    Comparison,
    Direction,
    Guardrail,
    Observation,
    Reading,
    Threshold,
    Unreadable,
    Verdict,
)

HIGHER = Direction.HIGHER_IS_WORSE
ERRORS = Guardrail("errors", HIGHER, Compare(0.1))
LATENCY = Guardrail("p95-latency", HIGHER, Threshold(250))


def line(guardrail: Guardrail, observation: Observation) -> str:
    return describe(guardrail, verdicts.judge(guardrail, observation, alpha=0.05)).line


def rate(with_errors: int, without_errors: int, units: int = 100_000) -> Comparison:
    return Comparison("rate", ArmStats(units, with_errors), ArmStats(units, without_errors))


def mean(arm_mean: float, units: int) -> ArmStats:
    """``units`` values around ``arm_mean`` with a standard deviation of 10."""
    return ArmStats(units, total=arm_mean * units, total_sq=(arm_mean**2 + 100) * units)


def test_describe__a_healthy_rate_comparison__shows_both_arms_the_change_and_its_interval() -> None:
    assert line(ERRORS, rate(10_000, 10_000, 1_000_000)) == (
        "errors: 1.00% with the feature, 1.00% without (+0.0%, 95% interval -4.5% to +4.5%): "
        "no worse than allowed (+10%)."
    )


def test_describe__a_regressed_rate__says_worse_than_allowed_with_its_numbers() -> None:
    assert line(ERRORS, rate(3000, 1000)) == (
        "errors: 3.00% with the feature, 1.00% without (+200%, 95% interval +177% to +223%): "
        "worse than allowed (+10%)."
    )


def test_describe__a_change_not_yet_sure__says_so_with_the_interval() -> None:
    assert line(ERRORS, rate(2100, 2000)) == (
        "errors: 2.10% with the feature, 2.00% without (+5.0%, 95% interval -4.7% to +15%): "
        "not sure yet it is within the allowed +10%."
    )


def test_describe__a_drop_where_lower_is_worse__shows_the_change_as_a_drop() -> None:
    conversion = Guardrail("conversion", Direction.LOWER_IS_WORSE, Compare(0.05))

    assert line(conversion, rate(9000, 10000)) == (
        "conversion: 9.00% with the feature, 10.00% without (-10%, 95% interval -14% to -5.9%): "
        "worse than allowed (-5%)."
    )


def test_describe__a_mean_comparison__shows_the_means_in_the_metrics_units() -> None:
    latency = Guardrail("latency", HIGHER, Compare(0.1))
    judged = Comparison("mean", mean(190, 4000), mean(180, 4000))

    assert line(latency, judged) == (
        "latency: 190 with the feature, 180 without (+5.6%, 95% interval +5.1% to +6.0%): "
        "no worse than allowed (+10%)."
    )


def test_describe__a_threshold_reading__says_the_value_the_limit_and_fine() -> None:
    assert line(LATENCY, Reading(180)) == "p95-latency 180 (at most 250): fine."


def test_describe__a_threshold_reading_over_the_limit__says_over_the_limit() -> None:
    assert line(LATENCY, Reading(320, 5000)) == "p95-latency 320 (at most 250): over the limit."


def test_describe__a_threshold_on_the_feature_arm__shows_its_interval() -> None:
    errors = Guardrail("errors", HIGHER, Threshold(0.02))
    judged = Comparison("rate", ArmStats(10_000, 120), ArmStats(0))

    assert line(errors, judged) == (
        "errors 1.20% with the feature (at most 2.00%; 95% interval 0.84% to 1.56%): fine."
    )


@pytest.mark.parametrize(
    ("guardrail", "observation", "expected"),
    [
        pytest.param(
            Guardrail("errors", HIGHER, Compare(0.1), min_sample=1000),
            Comparison("rate", ArmStats(340, 3), ArmStats(3000, 30)),
            "errors: not enough users yet: 340 of 1,000 needed.",
            id="comparison-smaller-arm",
        ),
        pytest.param(
            Guardrail("p95-latency", HIGHER, Threshold(250), min_sample=1000),
            Reading(180, 340),
            "p95-latency 180 (at most 250): not enough users yet: 340 of 1,000 needed.",
            id="reading-with-its-sample",
        ),
        pytest.param(
            Guardrail("errors", HIGHER, Threshold(0.02), min_sample=100),
            Comparison("rate", ArmStats(3, 0), ArmStats(0)),
            "errors: not enough users yet: 3 of 100 needed.",
            id="threshold-on-the-feature-arm",
        ),
        pytest.param(
            LATENCY,
            Reading(None),
            "p95-latency: no data yet.",
            id="no-data",
        ),
    ],
)
def test_describe__too_little_data__says_how_much_there_is_and_how_much_is_needed(
    guardrail: Guardrail, observation: Observation, expected: str
) -> None:
    judgement = verdicts.judge(guardrail, observation, alpha=0.05)

    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert describe(guardrail, judgement).line == expected


def test_describe__an_unreadable_metric__says_it_could_not_be_read_and_why() -> None:
    described = describe(
        ERRORS,
        verdicts.judge(ERRORS, Unreadable("prometheus: connection\nrefused."), alpha=0.05),
    )

    assert described.line == "errors could not be read: prometheus: connection refused."
    assert described.verdict_words == "could not be read"
    assert described.with_feature == ""


def test_describe__a_reading_the_source_got_wrong__says_what_was_wrong() -> None:
    judgement = verdicts.judge(LATENCY, Reading(180, -5), alpha=0.05)

    described = describe(LATENCY, judgement)

    assert described.line == "p95-latency: the source reported a sample of -5."
    assert described.verdict_words == "could not be read"


def test_describe__a_regression__gives_the_table_its_cells_and_the_rollback_its_phrases() -> None:
    described = describe(ERRORS, verdicts.judge(ERRORS, rate(3000, 1000), alpha=0.05))

    assert (described.with_feature, described.without_feature, described.change) == (
        "3.00%",
        "1.00%",
        "+200%",
    )
    assert described.interval == "95% interval +177% to +223%"
    assert described.observed() == "3.00% with the feature, 1.00% without (+200%)"
    assert described.allowed == "+10% at most"
    numbers = described.to_dict()
    assert numbers["verdict"] == "regressed"
    assert (numbers["with"], numbers["without"]) == (pytest.approx(0.03), pytest.approx(0.01))
    assert numbers["estimate"] == pytest.approx(2.0)
    assert numbers["lower"] < numbers["estimate"] < numbers["upper"]


def test_describe__the_sample_ratio_check__keeps_its_summary_and_says_which_side() -> None:
    judgement = verdicts.sample_ratio(900, 9100, 0.5, alpha=0.05)

    described = describe(None, judgement, "sample-ratio")

    assert described.name == "sample-ratio"
    assert described.line == (
        "sample ratio: 9% of 10,000 exposures with the feature, expected 50% "
        "(Bayes factor 1.01e+304, mismatch at 20): not as expected."
    )


def test_judgement_from_dict__as_the_timeline_keeps_it__describes_the_same() -> None:
    judgement = verdicts.judge(ERRORS, rate(3000, 1000), alpha=0.05)
    stored = {**asdict(judgement), "verdict": judgement.verdict.value}

    back = judgement_from_dict(stored)

    assert back is not None
    assert describe(ERRORS, back).line == describe(ERRORS, judgement).line
    assert judgement_from_dict({"verdict": "splendid"}) is None


def test_a_comparison_of_deploys__reads_after_the_deploy_and_before() -> None:
    guardrail = Guardrail("lcp", Direction.HIGHER_IS_WORSE, Compare(0.1))
    slower = Comparison(
        "mean",
        ArmStats(400, 400, 400 * 3400.0, 400 * 3400.0**2 + 400 * 250.0**2),
        ArmStats(400, 400, 400 * 2000.0, 400 * 2000.0**2 + 400 * 250.0**2),
        basis=DEPLOYS,
    )

    line = describe(guardrail, verdicts.judge(guardrail, slower, alpha=0.01))

    assert line.line.startswith("lcp: 3,400 after the deploy, 2,000 before (+70%")
    assert line.observed().startswith("3,400 after the deploy, 2,000 before (+70%")
