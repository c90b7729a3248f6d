"""Which watch window a plan is in, and its sentence: the close watch at the start of a
step, the watch after it, the bake at 100%, none while paused or finished; the
boundaries fall where ``rollout.next_check`` changes its cadence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shipwise.domain import rollout
from shipwise.domain.rollout import PlanSpec, PlanStatus, Step, Watch
from shipwise.domain.watch_window import (
    WatchKind,
    unreadable_of,
    watch_window,
    window_words,
)

T0 = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
PLAN = PlanSpec(
    steps=(Step(10, min_duration=timedelta(days=1)), Step(25, min_duration=3 * HOUR), Step(100))
)


def at_step_two(now: datetime = T0) -> rollout.PlanState:
    return replace(rollout.start(PLAN, T0 - timedelta(days=1)), step=1, step_started_at=now)


def test_window__in_the_first_hour_of_a_step__is_the_close_watch_every_minute() -> None:
    state = at_step_two()
    now = T0 + 25 * MINUTE
    window = watch_window(PLAN, state, now, T0 + 26 * MINUTE)
    assert (window.kind, window.step, window.every) == (WatchKind.CLOSE_WATCH, 2, MINUTE)
    assert (window.until, window.next_reading_at) == (T0 + HOUR, T0 + 26 * MINUTE)
    assert window_words(window, now) == (
        "Watching closely: first hour of step 2 (25% for 3h), a reading every minute "
        "until 14:00 UTC; next reading 13:26 UTC"
    )


def test_window__at_the_hour__is_the_watch_every_five_minutes_until_the_step_ends() -> None:
    state = at_step_two()
    before = watch_window(PLAN, state, T0 + HOUR - timedelta(seconds=1))
    window = watch_window(PLAN, state, T0 + HOUR)
    assert before.kind is WatchKind.CLOSE_WATCH
    assert (window.kind, window.every, window.until) == (
        WatchKind.WATCH,
        5 * MINUTE,
        T0 + 3 * HOUR,
    )
    # Without the record's next check, the cadence's own next moment.
    assert window.next_reading_at == T0 + HOUR + 5 * MINUTE
    assert window_words(window, T0 + HOUR) == (
        "Watching step 2 (25% for 3h): a reading every 5 minutes until 16:00 UTC; "
        "next reading 14:05 UTC"
    )


def test_window__past_the_steps_duration__watches_on_while_the_step_holds() -> None:
    window = watch_window(PLAN, at_step_two(), T0 + 4 * HOUR, T0 + 3 * HOUR + 55 * MINUTE)
    assert (window.kind, window.until) == (WatchKind.WATCH, None)
    assert window_words(window, T0 + 4 * HOUR) == (
        "Watching step 2 (25% for 3h): a reading every 5 minutes while the step's "
        "conditions are not yet met; next reading due now (since 16:55 UTC)"
    )


def test_window__at_100_percent__is_the_bake_until_24_hours_after_the_last_step() -> None:
    state = replace(at_step_two(), status=PlanStatus.BAKING, step=2, baking_since=T0)
    close = watch_window(PLAN, state, T0 + 10 * MINUTE)
    assert (close.kind, close.every, close.closely_until) == (WatchKind.BAKE, MINUTE, T0 + HOUR)
    assert close.until == T0 + 24 * HOUR
    assert window_words(close, T0 + 10 * MINUTE) == (
        "Baking at 100% until 2026-11-03 13:00 UTC: a reading every minute until "
        "14:00 UTC, then every 5 minutes; next reading 13:11 UTC"
    )
    later = watch_window(PLAN, state, T0 + 2 * HOUR)
    assert (later.every, later.closely_until) == (5 * MINUTE, None)
    done = watch_window(PLAN, state, T0 + 25 * HOUR, T0 + 25 * HOUR + 5 * MINUTE)
    assert window_words(done, T0 + 25 * HOUR) == (
        "Bake done at 13:00 UTC, not yet released: a reading every 5 minutes; "
        "next reading 14:05 UTC"
    )


def test_window__of_a_paused_or_finished_plan__says_why_there_are_no_readings() -> None:
    paused = rollout.pause(at_step_two(), "checkout looks odd")
    window = watch_window(PLAN, paused, T0 + MINUTE, None)
    assert (window.kind, window.every, window.next_reading_at) == (WatchKind.NONE, None, None)
    assert window_words(window, T0) == (
        "Not watching: paused (checkout looks odd): no readings until a person resumes it"
    )
    released = replace(at_step_two(), status=PlanStatus.RELEASED, step=2, finished_at=T0)
    assert window_words(watch_window(PLAN, released, T0), T0) == (
        "Not watching: released: the watch is over"
    )


def test_window__follows_the_plans_own_watch() -> None:
    spec = replace(PLAN, watch=Watch(close_for=30 * MINUTE, close_every=2 * MINUTE))
    window = watch_window(spec, at_step_two(), T0)
    assert (window.every, window.until) == (2 * MINUTE, T0 + 30 * MINUTE)
    assert "first 30 minutes of step 2" in window_words(window, T0)


def test_window__names_the_guardrails_that_could_not_be_read_and_why() -> None:
    judgements = {
        "errors": {"verdict": "error", "summary": "errors could not be read: HTTP 503"},
        "latency": {"verdict": "healthy", "summary": "latency fine"},
    }
    unread = unreadable_of(judgements)
    assert unread == (("errors", "errors could not be read: HTTP 503"),)
    window = watch_window(PLAN, at_step_two(), T0 + 2 * HOUR, None, unread)
    assert window.held
    assert window_words(window, T0 + 2 * HOUR).endswith(
        ". Held, as an unread guardrail never counts as healthy: errors could not be read: HTTP 503"
    )
