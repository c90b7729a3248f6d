"""Which of a plan's checks its timeline keeps as points of the guardrail charts.

The runner checks a plan every minute or quarter-hour, and more often when new data
wakes it; most checks decide nothing. Keeping every one would grow a week-long step
to ~700 lines a plan (and a woken plan to thousands); keeping only the ones that decided
something leaves a healthy guardrail's chart with two or three dots. So, per step:

- a check is kept as a point when it comes at least ``sample_every`` after the step's
  previous point (decisions and verdict changes are always kept: the runner records them
  as the timeline's lines, and they count as points);
- the newest check is always kept, overwriting the previous newest when that one came
  too soon after its predecessor to be kept for its own sake. So the chart ends at the
  last check (as the page's "at the last check" does), and every step keeps its last
  point even when a person, not a check, ends it.

``sample_every`` is ``max(cadence, max(planned, ran) / POINTS_PER_STEP)``: about 30
points over the step's planned time (its minimum duration, or the bake at 100%; a week's
step keeps one every 5.6 hours), never more often than the plan's own check cadence,
and thinning as a step overruns its plan (held inconclusive, waiting for a person): from
``planned`` to ``ran`` at most 30 * ln(ran / planned) more points, so a step held for a
year past its week adds ~120 lines, not 35,000. Why 30 and not more: a finished
four-step plan then draws ~125 points across the 552-pixel plot, about as far apart as
its 6-pixel dots are wide (60 a step would blur them into a band), and the page's
table and SVG cost server time per point (measured: ~0.04 ms a point and guardrail).

Pure: times in, a yes or no out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shipwise.domain.rollout import PlanSpec, PlanState, PlanStatus

__all__ = ["POINTS_PER_STEP", "SAMPLE", "Point", "keeps_newest", "sample_every"]

POINTS_PER_STEP = 30
SAMPLE = "sample"  # the decision of a timeline line kept only as a point of the charts


@dataclass(frozen=True, slots=True)
class Point:
    """A line of a plan's timeline as sampling sees it: when, at which step, and whether
    it is a sample (only a sample may be overwritten; a decision stays)."""

    at: datetime
    step: int
    sampled: bool


def _planned(spec: PlanSpec, state: PlanState) -> timedelta:
    if state.status is PlanStatus.BAKING:
        return spec.watch.bake
    return spec.steps[state.step].min_duration


def sample_every(spec: PlanSpec, state: PlanState, now: datetime) -> timedelta:
    """How far apart the kept points of the current step are, at least."""
    watch = spec.watch
    ran = max(now - state.step_started_at, timedelta(0))
    cadence = watch.close_every if ran < watch.close_for else watch.then_every
    return max(cadence, max(_planned(spec, state), ran) / POINTS_PER_STEP)


def keeps_newest(spec: PlanSpec, state: PlanState, now: datetime, points: Sequence[Point]) -> bool:
    """Whether a check at ``now`` is added after ``points`` (the timeline's newest lines,
    oldest first), or overwrites the newest one instead (False)."""
    if len(points) < 2:
        return True
    before, newest = points[-2], points[-1]
    if not newest.sampled or newest.step != state.step or before.step != state.step:
        return True  # a decision stays; the first point of a step stays
    return newest.at - before.at >= sample_every(spec, state, now)
