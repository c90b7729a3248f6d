"""``domain.durations``: one grammar wherever people write a duration (a rollout plan, the
policy's ``[sla]``), one parse whose errors name what was given, and one format that is
the shortest exact text and reads back to the same duration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipwise.domain.durations import (
    LONGEST,
    MAX_TEXT,
    DurationOutOfRange,
    describe_duration,
    format_duration,
    parse_duration,
)
from shipwise.domain.plan_format import PlanInvalid, parse_plan
from shipwise.domain.policy import PolicyError, parse_policy
from shipwise.domain.releases import Severity

ACCEPTED = [
    pytest.param("7d", timedelta(days=7), id="days"),
    pytest.param("1h30m", timedelta(minutes=90), id="compound"),
    pytest.param("1w2d", timedelta(days=9), id="weeks-and-days"),
    pytest.param("1.5d", timedelta(hours=36), id="decimal"),
    pytest.param("0.5h", timedelta(minutes=30), id="decimal-below-one"),
    pytest.param("1h 30m", timedelta(minutes=90), id="spaced"),
    pytest.param(" 2W ", timedelta(weeks=2), id="upper-case-and-padded"),
    pytest.param("30m1h", timedelta(minutes=90), id="any-order"),
    pytest.param("0s", timedelta(0), id="zero"),
    pytest.param("1.25s", timedelta(seconds=1.25), id="fraction-of-a-second"),
]

REFUSED = [
    pytest.param("", id="empty"),
    pytest.param("7", id="no-unit"),
    pytest.param("d7", id="unit-first"),
    pytest.param("a week", id="words"),
    pytest.param("1y", id="unknown-unit"),
    pytest.param("1e3s", id="exponent"),
    pytest.param("-1h", id="negative"),
    pytest.param("6000w", id="beyond-a-hundred-years"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_parse_duration__grammar__reads_each_form(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", REFUSED)
def test_parse_duration__not_in_the_grammar__names_the_text_and_shows_an_example(
    text: str,
) -> None:
    with pytest.raises(ValueError, match=r"7d|negative|at most") as raised:
        parse_duration(text)

    assert repr(text) in str(raised.value)


def test_parse_duration__a_huge_text__is_refused_by_its_length_not_read() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_TEXT}"):
        parse_duration("1" * 10_000 + "s")


def test_parse_duration__negative_or_too_long__is_out_of_range() -> None:
    with pytest.raises(DurationOutOfRange, match="negative"):
        parse_duration("-1h")
    with pytest.raises(DurationOutOfRange, match="at most a year"):
        parse_duration("400d", longest=timedelta(days=366))


@pytest.mark.parametrize(
    ("span", "text"),
    [
        pytest.param(timedelta(0), "0s", id="zero"),
        pytest.param(timedelta(hours=24), "1d", id="a-day-not-24h"),
        pytest.param(timedelta(hours=36), "36h", id="36h-not-1d12h"),
        pytest.param(timedelta(minutes=90), "90m", id="90m-not-1h30m"),
        pytest.param(timedelta(days=7), "7d", id="a-tie-goes-to-the-smaller-unit"),
        pytest.param(timedelta(days=14), "2w", id="weeks-when-shorter"),
        pytest.param(timedelta(days=8, seconds=1), "8d1s", id="compound"),
        pytest.param(timedelta(weeks=1, minutes=61), "7d61m", id="a-unit-left-out"),
        pytest.param(timedelta(milliseconds=1500), "1.5s", id="fraction-of-a-second"),
    ],
)
def test_format_duration__is_the_shortest_exact_text(span: timedelta, text: str) -> None:
    assert format_duration(span) == text


@given(span=st.timedeltas(min_value=timedelta(0), max_value=LONGEST))
def test_format_duration__any_duration__reads_back_exactly(span: timedelta) -> None:
    text = format_duration(span)

    assert parse_duration(text) == span
    assert len(text) <= len(f"{span // timedelta(microseconds=1)}us")  # never longer than µs


@given(
    parts=st.lists(st.tuples(st.integers(0, 500), st.sampled_from("wdhms")), min_size=1, max_size=4)
)
def test_format_duration__of_what_people_write__is_never_longer(
    parts: list[tuple[int, str]],
) -> None:
    written = "".join(f"{amount}{unit}" for amount, unit in parts)

    assert len(format_duration(parse_duration(written))) <= len(written)


def test_describe_duration__rounds_to_two_units_for_sentences() -> None:
    assert describe_duration(timedelta(days=3, hours=4, minutes=5)) == "3d 4h"
    assert describe_duration(timedelta(seconds=-5)) == "0s"


# -- one grammar in every place --------------------------------------------------------------


def _in_sla(text: str) -> timedelta | None:
    policy = parse_policy(f'[sla]\nhigh = "{text}"\n')
    return policy.fix_within[Severity.HIGH]


def _in_plan(text: str) -> timedelta:
    plan = parse_plan({"steps": [{"percentage": 10, "min_duration": text}, {"percentage": 100}]})
    return plan.steps[0].min_duration


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_a_duration__accepted_in_a_plan__is_accepted_in_sla_as_the_same_span(
    text: str, expected: timedelta
) -> None:
    assert _in_plan(text) == _in_sla(text) == expected


@pytest.mark.parametrize("text", REFUSED[:-1])  # 6000w: a plan's limit is a year, see below
def test_a_duration__refused_in_a_plan__is_refused_in_sla(text: str) -> None:
    with pytest.raises(PlanInvalid, match="min_duration"):
        _in_plan(text)
    with pytest.raises(PolicyError, match=r"sla\.high"):
        _in_sla(text)


def test_sla__one_and_a_half_days__is_36_hours() -> None:
    # Given the decimal a rollout plan has always accepted (refused in [sla] before)
    assert _in_sla("1.5d") == timedelta(hours=36)


def test_sla__a_duration_off_the_calendar__is_a_policy_error_not_a_crash() -> None:
    # Before: timedelta overflow escaped parse_policy as OverflowError (a 500 in the API).
    with pytest.raises(PolicyError, match="at most a hundred years") as raised:
        _in_sla("99999999999999w")

    assert (raised.value.line, raised.value.key) == (2, "sla.high")
