"""A rollout's monitoring schedule: estimated from a start (a week a step in the default
plan, a 24-hour bake), then, once the plan runs, the times it recorded in place of the
estimates, the steps ahead never before now, and what a stopped plan will not reach
cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shipwise.domain import rollout
from shipwise.domain.monitoring_schedule import (
    MonitoringSchedule,
    Progress,
    WindowKind,
    WindowState,
    schedule,
    schedule_lines,
)
from shipwise.domain.rollout import DEFAULT_PLAN, PlanState, PlanStatus, Step, Watch

START = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)


def _spans(sched: MonitoringSchedule, kind: WindowKind) -> list[tuple[int, datetime, datetime]]:
    return [(w.step + 1, w.starts, w.ends) for w in sched.windows if w.kind is kind]


def test_schedule__of_the_default_plan__is_a_week_a_step_then_a_day_of_bake() -> None:
    sched = schedule(DEFAULT_PLAN, START, ("alice", "bob"))

    day = timedelta(days=1)
    assert _spans(sched, WindowKind.STEP) == [
        (1, START, START + 7 * day),
        (2, START + 7 * day, START + 14 * day),
        (3, START + 14 * day, START + 21 * day),
    ]
    assert _spans(sched, WindowKind.BAKE) == [(4, START + 21 * day, START + 22 * day)]
    hour = timedelta(hours=1)
    assert [s for s, _, _ in _spans(sched, WindowKind.CLOSE_WATCH)] == [1, 2, 3, 4]
    assert _spans(sched, WindowKind.CLOSE_WATCH)[0] == (1, START, START + hour)
    assert (sched.starts, sched.ends, sched.estimated) == (START, START + 22 * day, True)
    assert all(w.estimated and w.state is WindowState.AHEAD for w in sched.windows)
    assert sched.watchers == ("alice", "bob")
    assert sched.cadence == (
        "guardrails checked every 1m for the first 1h of each step, then every 5m; "
        "a 1d bake at 100% before it is released"
    )


def test_schedule__of_a_plan_with_its_own_watch__uses_its_durations() -> None:
    spec = rollout.PlanSpec(
        steps=(Step(5, min_duration=timedelta(hours=12)), Step(100)),
        watch=Watch(close_for=timedelta(minutes=30), bake=timedelta(hours=6)),
    )

    sched = schedule(spec, START)

    assert _spans(sched, WindowKind.STEP) == [(1, START, START + timedelta(hours=12))]
    assert _spans(sched, WindowKind.BAKE) == [
        (2, START + timedelta(hours=12), START + timedelta(hours=18))
    ]
    assert _spans(sched, WindowKind.CLOSE_WATCH)[1] == (
        2,
        START + timedelta(hours=12),
        START + timedelta(hours=12, minutes=30),
    )


def test_schedule__of_a_running_plan__takes_the_recorded_entries_and_dates_the_rest_from_now() -> (
    None
):
    # Given a plan that entered step 2 after 9 days (not 7) and has run it for 10 days
    entered = START + timedelta(days=9)
    now = START + timedelta(days=19)
    state = PlanState(PlanStatus.RUNNING, 1, START, entered)

    sched = schedule(DEFAULT_PLAN, START, progress=Progress(state, {1: entered}, now))

    steps = [
        (w.step + 1, w.starts, w.ends, w.estimated, w.state)
        for w in sched.windows
        if w.kind is WindowKind.STEP
    ]
    assert steps == [
        (1, START, entered, False, WindowState.DONE),
        (2, entered, entered + timedelta(days=7), False, WindowState.NOW),
        # step 2 runs late: step 3 starts no earlier than now
        (3, now, now + timedelta(days=7), True, WindowState.AHEAD),
    ]
    assert _spans(sched, WindowKind.BAKE) == [(4, now + timedelta(days=7), now + timedelta(days=8))]
    assert sched.estimated is False


def test_schedule__of_a_rolled_back_plan__cancels_what_it_will_not_reach() -> None:
    stopped = START + timedelta(days=2)
    state = rollout.rolled_back(PlanState(PlanStatus.RUNNING, 0, START, START), stopped, "errors")

    sched = schedule(DEFAULT_PLAN, START, progress=Progress(state, {}, stopped))

    first = next(w for w in sched.windows if w.kind is WindowKind.STEP)
    assert (first.ends, first.state) == (stopped, WindowState.DONE)
    later = [w for w in sched.windows if w.step > 0]
    assert later
    assert all(w.state is WindowState.CANCELLED for w in later)
    assert sched.ends == stopped


def test_schedule_lines__say_the_dates_in_the_policy_zone_and_who_watches() -> None:
    sched = schedule(DEFAULT_PLAN, START, ("alice",))

    lines = schedule_lines(sched, ZoneInfo("Europe/Oslo"))

    assert lines[0] == (
        "- Step 1: 10% + beta-testers: Wed 2025-03-05 15:30 Europe/Oslo → "
        "Wed 2025-03-12 15:30 Europe/Oslo at the earliest"
    )
    assert lines[-1] == "Watching: alice."


def test_schedule__of_a_naive_start__is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule(DEFAULT_PLAN, datetime(2025, 3, 5, 14, 30))
