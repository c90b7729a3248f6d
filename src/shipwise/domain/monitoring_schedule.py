"""A rollout's monitoring schedule: when each step is expected to start and end, when the
guardrails are watched closely, when the bake at 100% runs, how often they are checked,
and who watches.

    schedule(spec, start, watchers)                      a plan not started: estimated
    schedule(spec, start, watchers, progress=Progress(…)) a plan running: what happened
                                                         replaces the estimates
    schedule_lines(sched, zone)                          the schedule in words, a line each

A step lasts at least its ``min_duration``; it may hold longer (a sample not reached, an
unsure guardrail, a person to approve), so the times after the current step are the
earliest each can happen, counted from ``now`` when a step already runs late. At 100%
the plan bakes for ``watch.bake``. Each step starts with ``watch.close_for`` of close
watching (a check every ``close_every``), then a check every ``then_every``. Pure: time
comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from shipwise.domain import wording
from shipwise.domain.durations import describe_duration
from shipwise.domain.rollout import PlanSpec, PlanState, PlanStatus, Step

__all__ = [
    "MonitoringSchedule",
    "Progress",
    "Window",
    "WindowKind",
    "WindowState",
    "cadence_words",
    "schedule",
    "schedule_lines",
]


class WindowKind(StrEnum):
    STEP = "step"  # a step below 100%, from its start to its earliest end
    CLOSE_WATCH = "close-watch"  # the first ``close_for`` of a step, checked closely
    BAKE = "bake"  # the step at 100%, watched for the bake before "released"


class WindowState(StrEnum):
    DONE = "done"
    NOW = "now"
    AHEAD = "ahead"
    CANCELLED = "cancelled"  # the plan stopped (rolled back, aborted) before it came


@dataclass(frozen=True, slots=True)
class Window:
    kind: WindowKind
    step: int  # index into the plan's steps
    title: str
    starts: datetime
    ends: datetime
    estimated: bool  # the start is a forecast, not what the plan recorded
    state: WindowState
    description: str


@dataclass(frozen=True, slots=True)
class Progress:
    """A plan that already runs: its state, and when it entered each step (its
    timeline's advance and bake lines); ``now`` dates the steps still ahead."""

    state: PlanState
    entered: Mapping[int, datetime]
    now: datetime


@dataclass(frozen=True, slots=True)
class MonitoringSchedule:
    windows: tuple[Window, ...]  # in time order: each step, its close watch, the bake
    cadence: str  # the check cadence in words
    watchers: tuple[str, ...]
    starts: datetime
    ends: datetime  # the earliest the plan can be released
    estimated: bool  # no plan runs yet: every time is a forecast
    status: PlanStatus | None  # the running plan's, None when estimated


def cadence_words(spec: PlanSpec) -> str:
    """``every 1 min for the first 1h of each step, then every 15 min; 24h bake at 100%``."""
    watch = spec.watch
    close = f"every {describe_duration(watch.close_every)}"
    then = f"every {describe_duration(watch.then_every)}"
    words = f"guardrails checked {close} for the first {describe_duration(watch.close_for)}"
    words += f" of each step, then {then}"
    if any(step.percentage == 100 for step in spec.steps):
        words += f"; a {describe_duration(watch.bake)} bake at 100% before it is released"
    return words


def _label(step: Step) -> str:
    audiences = f" + {', '.join(step.audiences)}" if step.audiences else ""
    return f"{step.percentage}%{audiences}"


def _step_end(spec: PlanSpec, index: int, starts: datetime) -> datetime:
    step = spec.steps[index]
    return starts + (spec.watch.bake if step.percentage == 100 else step.min_duration)


def _starts(
    spec: PlanSpec, start: datetime, progress: Progress | None
) -> tuple[list[datetime], list[bool]]:
    """Each step's start, and whether it is a forecast."""
    if progress is None:
        starts, at = [], start
        for index in range(len(spec.steps)):
            starts.append(at)
            at = _step_end(spec, index, at)
        return starts, [True] * len(spec.steps)
    state, now = progress.state, progress.now
    known = dict(progress.entered)
    known[0] = known.get(0, state.started_at)
    # A resume restarts the current step's clock: that is what its end counts from.
    known[state.step] = (
        state.baking_since if state.status is PlanStatus.BAKING and state.baking_since else None
    ) or state.step_started_at
    starts, forecast = [], []
    at = start
    for index in range(len(spec.steps)):
        if index <= state.step:
            at = known.get(index, at)
            starts.append(at)
            forecast.append(False)
        else:
            starts.append(at)
            forecast.append(True)
        end = _step_end(spec, index, at)
        # A step that runs late (holding, paused) moves the ones after it: none starts
        # before now.
        at = max(end, now) if index >= state.step and state.active else end
    return starts, forecast


def _state(index: int, progress: Progress | None) -> WindowState:
    if progress is None:
        return WindowState.AHEAD
    state = progress.state
    if state.status is PlanStatus.RELEASED:
        return WindowState.DONE
    if index < state.step:
        return WindowState.DONE
    if index == state.step:
        return WindowState.NOW if state.active else WindowState.DONE
    return WindowState.AHEAD if state.active else WindowState.CANCELLED


def schedule(
    spec: PlanSpec,
    start: datetime,
    watchers: Sequence[str] = (),
    *,
    progress: Progress | None = None,
) -> MonitoringSchedule:
    """The schedule of ``spec`` started at ``start`` (timezone-aware); with ``progress``,
    the running plan's real times replace the estimates up to its current step."""
    if start.tzinfo is None:
        raise ValueError(f"start must be timezone-aware, got {start.isoformat()}")
    starts, forecast = _starts(spec, start, progress)
    close_for = spec.watch.close_for
    close_every = describe_duration(spec.watch.close_every)
    windows: list[Window] = []
    for index, step in enumerate(spec.steps):
        at, ends = starts[index], _step_end(spec, index, starts[index])
        if progress is not None and index + 1 < len(starts) and not forecast[index + 1]:
            ends = starts[index + 1]  # it ended when the plan moved on
        if progress is not None and progress.state.finished_at and index == progress.state.step:
            ends = progress.state.finished_at  # released, rolled back or aborted then
        number, state, label = index + 1, _state(index, progress), _label(step)
        watch_ends = min(at + close_for, ends) if ends > at else at + close_for
        windows.append(
            Window(
                WindowKind.CLOSE_WATCH,
                index,
                f"Close watch: first {describe_duration(close_for)} at {label}",
                at,
                watch_ends,
                forecast[index],
                state,
                f"Step {number} ({label}) begins: guardrails are checked every "
                f"{close_every} for its first {describe_duration(close_for)}.",
            )
        )
        if step.percentage == 100:
            bake = describe_duration(spec.watch.bake)
            windows.append(
                Window(
                    WindowKind.BAKE,
                    index,
                    f"Bake: {bake} at 100%",
                    at,
                    ends,
                    forecast[index],
                    state,
                    f"Step {number}: everyone has the feature; the guardrails are watched "
                    f"for {bake} before the plan is released.",
                )
            )
            continue
        length = describe_duration(step.min_duration)
        windows.append(
            Window(
                WindowKind.STEP,
                index,
                f"Step {number}: {label}",
                at,
                ends,
                forecast[index],
                state,
                f"Step {number} of {len(spec.steps)}: {label} of users for at least {length}"
                "; it holds longer while a guardrail is unsure"
                + ("; a person must approve going on." if step.approval else "."),
            )
        )
    windows.sort(key=lambda w: (w.starts, w.step, w.kind != WindowKind.CLOSE_WATCH))
    last = max(w.ends for w in windows)
    status = None if progress is None else progress.state.status
    if progress is not None and progress.state.finished_at is not None:
        last = progress.state.finished_at
    return MonitoringSchedule(
        tuple(windows),
        cadence_words(spec),
        tuple(watchers),
        starts[0],
        last,
        progress is None,
        status,
    )


def _when(window: Window, zone: ZoneInfo) -> str:
    return f"{wording.moment(window.starts, zone)} → {wording.moment(window.ends, zone)}"


_STATE_WORDS = {
    WindowState.DONE: " (done)",
    WindowState.NOW: " (now)",
    WindowState.AHEAD: "",
    WindowState.CANCELLED: " (cancelled: the plan stopped)",
}


def schedule_lines(sched: MonitoringSchedule, zone: ZoneInfo) -> list[str]:
    """The schedule for a message: one line per step or bake (close watches are folded
    into the cadence line), the cadence, and who watches."""
    lines = []
    for window in sched.windows:
        if window.kind is WindowKind.CLOSE_WATCH:
            continue
        early = " at the earliest" if window.estimated and window.kind is WindowKind.STEP else ""
        lines.append(f"- {window.title}: {_when(window, zone)}{early}{_STATE_WORDS[window.state]}")
    lines.append(f"Checks: {sched.cadence}.")
    if sched.watchers:
        lines.append(f"Watching: {', '.join(sched.watchers)}.")
    return lines
