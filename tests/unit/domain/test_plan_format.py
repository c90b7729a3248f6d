"""``plan_format``: plans read from JSON shapes, every mistake named by step and field,
and written back so that reading them again gives the same plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shipwise.domain.guardrails import Compare, Direction, GuardrailAction, Threshold
from shipwise.domain.plan_format import PlanInvalid, parse_duration, parse_plan, plan_to_dict
from shipwise.domain.rollout import DEFAULT_PLAN, WhenInconclusive

METRICS = {"errors", "latency", "tickets"}


def problems(data: Any, metrics: set[str] | None = METRICS) -> list[tuple[str, str]]:
    with pytest.raises(PlanInvalid) as raised:
        parse_plan(data, metrics)
    return raised.value.problems


def test_a_full_plan_is_read_with_its_guardrails() -> None:
    spec = parse_plan(
        {
            "steps": [
                {"percentage": 5, "audiences": ["beta-testers"], "min_duration": "2d"},
                {"percentage": 50, "min_sample": 10_000, "approval": True},
                {"percentage": 100},
            ],
            "guardrails": [
                {"metric": "errors", "max_worse": 0.1},
                {"metric": "tickets", "threshold": 20, "action": "pause"},
                {
                    "metric": "latency",
                    "direction": "higher-is-worse",
                    "max_worse": 0.05,
                    "action": "notify",
                    "min_sample": 500,
                },
            ],
            "watch": {"close_for": "30m", "then_every": "5m", "bake": "12h"},
            "when_inconclusive": "advance",
            "alpha": 0.02,
        },
        METRICS,
    )
    assert [s.percentage for s in spec.steps] == [5, 50, 100]
    assert spec.steps[0].min_duration == timedelta(days=2)
    assert spec.steps[1].min_duration == timedelta(days=7)  # the process's week by default
    assert spec.steps[2].min_duration == timedelta(0)
    assert spec.steps[1].approval
    assert spec.steps[1].min_sample == 10_000
    errors, tickets, latency = spec.guardrails
    assert errors.rule == Compare(0.1)
    assert errors.action is GuardrailAction.ROLLBACK
    assert errors.direction is Direction.HIGHER_IS_WORSE
    assert tickets.rule == Threshold(20)
    assert tickets.action is GuardrailAction.PAUSE
    assert latency.min_sample == 500
    assert spec.watch.close_for == timedelta(minutes=30)
    assert spec.watch.bake == timedelta(hours=12)
    assert spec.when_inconclusive is WhenInconclusive.ADVANCE
    assert parse_plan(plan_to_dict(spec), METRICS) == spec


def test_the_default_plan_survives_a_round_trip() -> None:
    assert parse_plan(plan_to_dict(DEFAULT_PLAN)) == DEFAULT_PLAN


def test_percentages_that_go_down_are_named_by_step() -> None:
    found = problems({"steps": [{"percentage": 25}, {"percentage": 10}, {"percentage": 100}]})
    assert found == [("steps[1].percentage", "10 is not above step 1's 25; percentages only go up")]


def test_percentages_over_100_or_under_1_are_refused() -> None:
    found = problems({"steps": [{"percentage": 10}, {"percentage": 150}]})
    assert found[0] == ("steps[1].percentage", "must be between 1 and 100, got 150")
    assert problems({"steps": [{"percentage": 0}, {"percentage": 100}]})[0][0] == (
        "steps[0].percentage"
    )
    assert "whole number" in problems({"steps": [{"percentage": "10"}]})[0][1]


def test_a_plan_must_end_with_everyone() -> None:
    found = problems({"steps": [{"percentage": 10}, {"percentage": 50}]})
    assert found == [
        ("steps[1].percentage", "the last step must be 100 (got 50); a plan ends with everyone")
    ]


def test_negative_or_nonsense_durations_name_the_step_and_field() -> None:
    found = problems({"steps": [{"percentage": 10, "min_duration": "-1d"}, {"percentage": 100}]})
    assert found == [("steps[0].min_duration", "must not be negative, got '-1d'")]
    found = problems({"steps": [{"percentage": 10, "min_duration": "a week"}, {"percentage": 100}]})
    assert found[0][0] == "steps[0].min_duration"
    assert "like '7d'" in found[0][1]
    assert problems({"steps": [{"percentage": 100}], "watch": {"bake": -5}})[0] == (
        "watch.bake",
        "must not be negative, got -5",
    )


def test_a_guardrail_on_an_unknown_metric_is_refused_with_what_exists() -> None:
    found = problems(
        {"steps": [{"percentage": 100}], "guardrails": [{"metric": "crashes", "max_worse": 0.1}]}
    )
    where, message = found[0]
    assert where == "guardrails[0].metric"
    assert "unknown metric 'crashes'" in message
    assert "errors, latency, tickets" in message
    assert "shipwise metric define" in message


def test_guardrail_mistakes_are_each_named() -> None:
    found = problems(
        {
            "steps": [{"percentage": 100}],
            "guardrails": [
                {"metric": "errors"},
                {"metric": "latency", "threshold": 1, "max_worse": 0.1},
                {"metric": "tickets", "threshold": 5, "action": "panic"},
                {"metric": "errors", "max_worse": 0.1, "colour": "red"},
            ],
        }
    )
    wheres = [where for where, _ in found]
    assert wheres == [
        "guardrails[0]",
        "guardrails[1]",
        "guardrails[2].action",
        "guardrails[3].colour",
        "guardrails[3].metric",  # errors is watched twice
    ]


def test_unknown_fields_and_all_problems_are_reported_together() -> None:
    found = problems(
        {
            "steps": [{"percentage": 10, "min_duration": "-2h", "wait": 3}, {"percentage": 5}],
            "speed": "fast",
        }
    )
    wheres = {where for where, _ in found}
    assert wheres == {"speed", "steps[0].wait", "steps[0].min_duration", "steps[1].percentage"}
    with pytest.raises(PlanInvalid) as raised:
        parse_plan({"steps": []})
    assert raised.value.field == "steps"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(minutes=90)),
        ("2w", timedelta(days=14)),
        (90, timedelta(seconds=90)),
        ("0s", timedelta(0)),
    ],
)
def test_durations(text: Any, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "7", "d7", "-3h", True, None, "400d"])
def test_bad_durations(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"duration|negative|year"):
        parse_duration(bad)


def test_an_unknown_field_close_to_a_known_one__suggests_it() -> None:
    found = problems({"steps": [{"percentage": 100, "min_duraton": "1d"}]})

    assert found == [
        (
            "steps[0].min_duraton",
            'unknown field; did you mean "min_duration"? expected one of approval, audiences, '
            "min_duration, min_sample, percentage",
        )
    ]


def test_durations_in_a_plan__are_written_back_in_their_shortest_exact_form() -> None:
    spec = parse_plan(
        {
            "steps": [{"percentage": 10, "min_duration": "1.5d"}, {"percentage": 100}],
            "watch": {"close_for": "90m", "then_every": 90.5, "bake": "24h"},
        }
    )

    written = plan_to_dict(spec)

    assert written["steps"][0]["min_duration"] == "36h"
    assert written["watch"]["close_for"] == "90m"
    assert written["watch"]["then_every"] == "90.5s"  # was "1m30s": half a second lost
    assert written["watch"]["bake"] == "1d"
    assert parse_plan(written) == spec
