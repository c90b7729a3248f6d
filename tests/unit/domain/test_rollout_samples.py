"""``rollout_samples``: which checks a plan's timeline keeps as chart points. About 30 a
step over its planned time, never closer than the plan's check cadence, always the
newest check, never a decision overwritten, and only logarithmically more when a step
overruns its plan."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from shipwise.domain import rollout
from shipwise.domain.rollout import DEFAULT_PLAN, PlanSpec, PlanState, PlanStatus, Step, Watch
from shipwise.domain.rollout_samples import POINTS_PER_STEP, Point, keeps_newest, sample_every

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
WEEK_STEP = rollout.start(DEFAULT_PLAN, T0)  # at 10% + beta testers, for 7 days
WEEK_EVERY = 7 * DAY / POINTS_PER_STEP


def kept(spec: PlanSpec, state: PlanState, checks: list[datetime]) -> list[datetime]:
    """What the timeline holds after ``checks`` (none deciding anything), as the runner
    stores them: the step's entry line first, then each check added or overwriting."""
    points = [Point(state.step_started_at, state.step, sampled=False)]
    for at in checks:
        if keeps_newest(spec, state, at, points):
            points.append(Point(at, state.step, sampled=True))
        else:
            points[-1] = Point(at, state.step, sampled=True)
    return [p.at for p in points]


def checks_every(start: datetime, until: datetime, spec: PlanSpec) -> list[datetime]:
    """The runner's own schedule (``rollout.next_check``) from ``start`` to ``until``."""
    state = replace(WEEK_STEP, step_started_at=start, started_at=start)
    times, at = [], start
    while (at := rollout.next_check(spec, state, at) or until) < until:
        times.append(at)
    return times


@pytest.mark.parametrize(
    ("spec", "state", "ran", "every"),
    [
        pytest.param(DEFAULT_PLAN, WEEK_STEP, 10 * MINUTE, WEEK_EVERY, id="week-step-early"),
        pytest.param(DEFAULT_PLAN, WEEK_STEP, 3 * DAY, WEEK_EVERY, id="week-step-mid"),
        pytest.param(DEFAULT_PLAN, WEEK_STEP, 14 * DAY, 2 * WEEK_EVERY, id="week-step-overrun"),
        pytest.param(
            replace(DEFAULT_PLAN, steps=(Step(10, min_duration=timedelta(0)), Step(100))),
            WEEK_STEP,
            10 * MINUTE,
            MINUTE,
            id="no-minimum-close-watch",
        ),
        pytest.param(
            replace(DEFAULT_PLAN, steps=(Step(10, min_duration=timedelta(0)), Step(100))),
            WEEK_STEP,
            2 * HOUR,
            5 * MINUTE,
            id="no-minimum-then-every",
        ),
        pytest.param(
            DEFAULT_PLAN,
            replace(WEEK_STEP, status=PlanStatus.BAKING, step=3, baking_since=T0),
            2 * HOUR,
            24 * HOUR / POINTS_PER_STEP,
            id="baking",
        ),
    ],
)
def test_sample_every__is_the_cadence_or_the_planned_or_run_time_over_30__whichever_is_longer(
    spec: PlanSpec, state: PlanState, ran: timedelta, every: timedelta
) -> None:
    assert sample_every(spec, state, T0 + ran) == every


def test_keeps_newest__the_first_point_of_a_step__is_kept() -> None:
    entered = [Point(T0, 0, sampled=False)]

    assert keeps_newest(DEFAULT_PLAN, WEEK_STEP, T0 + MINUTE, entered)
    # and the first sample after a line of the step before, too
    moved = replace(WEEK_STEP, step=1)
    before = [Point(T0, 0, sampled=True), Point(T0 + MINUTE, 0, sampled=True)]
    assert keeps_newest(DEFAULT_PLAN, moved, T0 + 2 * MINUTE, before)


def test_keeps_newest__a_sample_too_soon_after_its_predecessor__is_overwritten() -> None:
    points = [Point(T0, 0, sampled=False), Point(T0 + MINUTE, 0, sampled=True)]

    assert not keeps_newest(DEFAULT_PLAN, WEEK_STEP, T0 + 2 * MINUTE, points)


def test_keeps_newest__a_sample_far_enough_from_its_predecessor__stays() -> None:
    points = [Point(T0, 0, sampled=False), Point(T0 + WEEK_EVERY, 0, sampled=True)]

    assert keeps_newest(DEFAULT_PLAN, WEEK_STEP, T0 + WEEK_EVERY + MINUTE, points)


def test_keeps_newest__a_decision_or_verdict_change__is_never_overwritten() -> None:
    points = [Point(T0, 0, sampled=True), Point(T0 + MINUTE, 0, sampled=False)]

    assert keeps_newest(DEFAULT_PLAN, WEEK_STEP, T0 + 2 * MINUTE, points)


def test_a_week_long_step_checked_on_schedule__keeps_about_30_points_evenly_and_the_last() -> None:
    checks = checks_every(T0, T0 + 7 * DAY, DEFAULT_PLAN)
    assert len(checks) > 700  # every minute for an hour, then every quarter-hour

    points = kept(DEFAULT_PLAN, WEEK_STEP, checks)

    assert POINTS_PER_STEP - 5 <= len(points) - 1 <= POINTS_PER_STEP + 1
    assert points[-1] == checks[-1]  # the chart ends at the last check
    every = 7 * DAY / POINTS_PER_STEP
    gaps = [b - a for a, b in pairwise(points[:-1])]
    assert all(every <= gap < every + 15 * MINUTE for gap in gaps)


def test_a_week_long_step_woken_every_minute_by_new_data__keeps_no_more_points() -> None:
    checks = [T0 + MINUTE * m for m in range(1, 7 * 24 * 60)]

    points = kept(DEFAULT_PLAN, WEEK_STEP, checks)

    assert len(points) - 1 <= POINTS_PER_STEP + 1
    assert points[-1] == checks[-1]


def test_a_step_held_a_year_past_its_week__adds_points_only_logarithmically() -> None:
    watch = Watch(then_every=timedelta(hours=1))
    spec = replace(DEFAULT_PLAN, watch=watch)
    year = 365 * DAY
    checks = [T0 + HOUR * h for h in range(1, int((7 * DAY + year) / HOUR))]

    points = kept(spec, WEEK_STEP, checks)

    bound = POINTS_PER_STEP * (1 + math.log((7 * DAY + year) / (7 * DAY))) + 2
    assert len(points) - 1 <= bound  # ~150, where every hourly check would be ~8,900
