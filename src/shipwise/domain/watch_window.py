"""Which watch window a rollout plan is in at ``now``, and when its next reading is due.

    watch_window(spec, state, now, next_check_at, unreadable) -> WatchWindow
    window_words(window, now) -> str          one sentence for ``rollout show`` and the page
    unreadable_of(judgements) -> ((metric, why), ...)   from a plan's last verdicts

The windows follow the plan's ``Watch`` (``domain.rollout.next_check`` reads at the same
cadence): the close watch (the first ``close_for`` of each step, a reading every
``close_every``), the watch (the rest of the step, every ``then_every``, until the step's
duration ends; later still while something holds it), and the bake (at 100%, for
``bake`` after the last step, before the plan is released). A paused or finished plan
has no window: the sentence says why there are no readings. A guardrail that could not
be read holds the plan and is named with the source's words. Pure: time comes in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shipwise.domain.rollout import (
    WATCHED,
    PlanSpec,
    PlanState,
    PlanStatus,
    next_check,
    step_label,
)

__all__ = [
    "WatchKind",
    "WatchWindow",
    "every_words",
    "unreadable_of",
    "watch_window",
    "window_words",
]


class WatchKind(StrEnum):
    CLOSE_WATCH = "close-watch"  # the first ``close_for`` of a step
    WATCH = "watch"  # the rest of a step below 100%
    BAKE = "bake"  # at 100%, before "released"
    NONE = "none"  # paused or finished: no readings


@dataclass(frozen=True, slots=True)
class WatchWindow:
    kind: WatchKind
    step: int  # counted from 1
    label: str  # the step in words: "25%", "10% + beta-testers for 7d"
    every: timedelta | None  # how often the guardrails are read now; None: not at all
    until: datetime | None  # when this window ends; None: open-ended or no window
    next_reading_at: datetime | None
    # The bake: it ends at ``until``; its first ``close_for`` is read closely until this.
    closely_until: datetime | None = None
    then_every: timedelta | None = None  # the cadence after the close watch
    close_for: timedelta | None = None  # how long the close watch lasts
    why_none: str | None = None  # no readings: why
    unreadable: tuple[tuple[str, str], ...] = ()  # (metric, why) holding the plan

    @property
    def held(self) -> bool:
        return bool(self.unreadable)


def unreadable_of(judgements: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The guardrails whose last reading failed, with the source's words, from a plan's
    stored verdicts (``{"verdict": "error", "summary": "… could not be read: …"}``)."""
    found = []
    for name, judgement in judgements.items():
        if isinstance(judgement, Mapping) and judgement.get("verdict") == "error":
            found.append((str(name), str(judgement.get("summary") or "could not be read")))
    return tuple(found)


def watch_window(
    spec: PlanSpec,
    state: PlanState,
    now: datetime,
    next_check_at: datetime | None = None,
    unreadable: Sequence[tuple[str, str]] = (),
) -> WatchWindow:
    """Where ``state`` stands in its watch at ``now``. ``next_check_at`` is the plan
    record's (when the runner will read next); without one, the cadence's next moment."""
    watch, step = spec.watch, spec.steps[state.step]
    number, label = state.step + 1, step_label(step)
    held = tuple(unreadable) if state.status in WATCHED else ()
    if state.status not in WATCHED:
        return WatchWindow(
            WatchKind.NONE,
            number,
            label,
            None,
            None,
            None,
            why_none=_why_none(state),
            unreadable=held,
        )
    due = next_check_at or next_check(spec, state, now)
    started = state.step_started_at
    if state.status is PlanStatus.BAKING:
        since = state.baking_since or started
        close = started + watch.close_for
        closely = now < close
        return WatchWindow(
            WatchKind.BAKE,
            number,
            label,
            watch.close_every if closely else watch.then_every,
            since + watch.bake,
            due,
            closely_until=close if closely else None,
            then_every=watch.then_every,
            close_for=watch.close_for,
            unreadable=held,
        )
    if now - started < watch.close_for:
        return WatchWindow(
            WatchKind.CLOSE_WATCH,
            number,
            label,
            watch.close_every,
            started + watch.close_for,
            due,
            then_every=watch.then_every,
            close_for=watch.close_for,
            unreadable=held,
        )
    ends = started + step.min_duration
    return WatchWindow(
        WatchKind.WATCH,
        number,
        label,
        watch.then_every,
        ends if ends > now else None,
        due,
        then_every=watch.then_every,
        unreadable=held,
    )


def _why_none(state: PlanState) -> str:
    if state.status is PlanStatus.PAUSED:
        why = f" ({state.reason})" if state.reason else ""
        return f"paused{why}: no readings until a person resumes it"
    if state.status is PlanStatus.RELEASED:
        return "released: the watch is over"
    return f"{state.status.value}: no more readings"


# --- words -------------------------------------------------------------------------------

_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def _span(span: timedelta) -> str:
    """``hour``, ``5 minutes``, ``90 seconds``: the largest unit that divides it."""
    seconds = int(span.total_seconds())
    for size, unit in _UNITS:
        if seconds and seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{span.total_seconds():g} seconds"


def every_words(span: timedelta) -> str:
    """``every minute``, ``every 5 minutes``."""
    return f"every {_span(span)}"


def _at(moment: datetime, now: datetime) -> str:
    """``14:05 UTC`` today, ``2026-03-03 14:05 UTC`` another day (the API's UTC)."""
    if moment.date() == now.date():
        return f"{moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _next(window: WatchWindow, now: datetime) -> str:
    due = window.next_reading_at
    if due is None:
        return ""
    if due <= now:
        return f"; next reading due now (since {_at(due, now)})"
    return f"; next reading {_at(due, now)}"


def window_words(window: WatchWindow, now: datetime) -> str:
    """The window in one sentence, e.g. ``Watching closely: first hour of step 2 (25%), a
    reading every minute until 14:05 UTC; next reading 14:01 UTC``."""
    where = f"step {window.step} ({window.label})"
    if window.kind is WatchKind.NONE:
        words = f"Not watching: {window.why_none}"
    elif window.kind is WatchKind.CLOSE_WATCH:
        assert window.every is not None
        assert window.until is not None
        first = _span(window.close_for) if window.close_for else "part"
        words = (
            f"Watching closely: first {first} of {where}, a reading "
            f"{every_words(window.every)} until {_at(window.until, now)}"
        )
    elif window.kind is WatchKind.WATCH:
        assert window.every is not None
        until = (
            f" until {_at(window.until, now)}"
            if window.until
            else " while the step's conditions are not yet met"
        )
        words = f"Watching {where}: a reading {every_words(window.every)}{until}"
    else:
        assert window.until is not None
        assert window.every is not None
        words = f"Baking at 100% until {_at(window.until, now)}"
        if window.closely_until is not None and window.then_every is not None:
            words += (
                f": a reading {every_words(window.every)} until "
                f"{_at(window.closely_until, now)}, then {every_words(window.then_every)}"
            )
        else:
            words += f": a reading {every_words(window.every)}"
        if window.until <= now:
            words = f"Bake done at {_at(window.until, now)}, not yet released: a reading "
            words += every_words(window.every)
    words += _next(window, now)
    if window.unreadable:
        why = "; ".join(summary for _, summary in window.unreadable)
        words += f". Held, as an unread guardrail never counts as healthy: {why}"
    return words
