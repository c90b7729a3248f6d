"""Rollout plans: the steps a feature takes to 100%, and what happens at each check.

A plan is ordered steps (a percentage, extra audiences such as beta testers, a minimum
duration and sample, optionally a person's approval to go on) and guardrails. ``assess``
is the whole decision of one check: given the plan, where it stands, what the metrics
say and the time, it returns the new state and what to do (hold, advance, pause, roll
back, release). The runner calls it on a schedule (``next_check_at``); the benchmark
calls it a million times. Pure: no I/O, time comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from shipwise.domain import verdicts
from shipwise.domain.durations import describe_duration
from shipwise.domain.guardrails import (
    DEPLOYS,
    Compare,
    Comparison,
    Guardrail,
    GuardrailAction,
    Judgement,
    Observation,
    Unreadable,
    Verdict,
)

SAMPLE_RATIO = "sample-ratio"  # the judgement key of the sample-ratio-mismatch check


class PlanStatus(StrEnum):
    RUNNING = "running"  # at a step, watching, advancing when the step's conditions hold
    WAITING_APPROVAL = "waiting-approval"  # the step is done; a person must say go on
    PAUSED = "paused"  # held by a person or a guardrail until someone resumes it
    BAKING = "baking"  # at 100%, watched for the bake period before "released"
    RELEASED = "released"
    ROLLED_BACK = "rolled-back"
    ABORTED = "aborted"


ACTIVE = frozenset(
    {PlanStatus.RUNNING, PlanStatus.WAITING_APPROVAL, PlanStatus.PAUSED, PlanStatus.BAKING}
)
WATCHED = frozenset({PlanStatus.RUNNING, PlanStatus.WAITING_APPROVAL, PlanStatus.BAKING})


class WhenInconclusive(StrEnum):
    HOLD = "hold"  # stay at the step until the numbers say healthy (the safe default)
    ADVANCE = "advance"  # go on once duration and sample are met, unless regressed


@dataclass(frozen=True, slots=True)
class Step:
    percentage: int
    audiences: tuple[str, ...] = ()  # segments that get the feature on top of the percentage
    min_duration: timedelta = timedelta(days=7)
    min_sample: int = 0  # exposures with the feature before the step may end
    approval: bool = False  # a person must approve going on from this step


@dataclass(frozen=True, slots=True)
class Watch:
    """How often the guardrails are checked: closely for the first ``close_for`` of each
    step, then every ``then_every``; at 100% the plan bakes for ``bake``."""

    close_for: timedelta = timedelta(hours=1)
    close_every: timedelta = timedelta(minutes=1)
    then_every: timedelta = timedelta(minutes=5)
    bake: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PlanSpec:
    steps: tuple[Step, ...]
    guardrails: tuple[Guardrail, ...] = ()
    watch: Watch = Watch()
    # The chance, over the whole plan, that a guardrail rolls back a feature that changes
    # nothing. Split evenly over the steps that compare (each step is a new population).
    alpha: float = 0.01
    when_inconclusive: WhenInconclusive = WhenInconclusive.HOLD
    sample_ratio_check: bool = True

    @property
    def comparing_steps(self) -> int:
        return sum(1 for s in self.steps if s.percentage < 100) or 1

    @property
    def step_alpha(self) -> float:
        return self.alpha / self.comparing_steps


DEFAULT_PLAN = PlanSpec(
    steps=(
        Step(10, audiences=("beta-testers",)),
        Step(25),
        Step(50),
        Step(100, min_duration=timedelta(0)),
    )
)


@dataclass(frozen=True, slots=True)
class PlanState:
    status: PlanStatus
    step: int  # index into the plan's steps
    started_at: datetime
    step_started_at: datetime
    reason: str | None = None  # why paused, rolled back, aborted, or waiting
    approved_step: int | None = None  # a person approved leaving this step
    baking_since: datetime | None = None
    finished_at: datetime | None = None
    notified: frozenset[str] = frozenset()  # guardrails already reported at this step

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class DecisionKind(StrEnum):
    HOLD = "hold"
    ADVANCE = "advance"  # go to the next step's percentage
    WAIT_FOR_APPROVAL = "wait-for-approval"
    PAUSE = "pause"
    ROLLBACK = "rollback"
    NOTIFY = "notify"  # something to tell people; the plan carries on
    BAKE = "bake"  # reached 100%: start the bake
    RELEASE = "release"


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    reason: str
    step: int | None = None  # the step the decision moves to (advance/bake)

    @property
    def changes_flag(self) -> bool:
        return self.kind in (DecisionKind.ADVANCE, DecisionKind.BAKE, DecisionKind.ROLLBACK)


@dataclass(frozen=True, slots=True)
class Assessment:
    state: PlanState
    decision: Decision
    judgements: dict[str, Judgement]
    next_check_at: datetime | None  # None: the plan needs no more checks
    notify: tuple[str, ...] = ()  # guardrails to report (action "notify", or errors)


class PlanActionRefused(Exception):
    """A person's action that does not fit the plan's state, e.g. resuming a plan that
    is not paused. The message says what state it is in and what would work."""


# --- starting, and what people do -----------------------------------------------------


def start(spec: PlanSpec, now: datetime) -> PlanState:
    first = spec.steps[0]
    status = PlanStatus.BAKING if first.percentage == 100 else PlanStatus.RUNNING
    return PlanState(status, 0, now, now, baking_since=now if status is PlanStatus.BAKING else None)


def pause(state: PlanState, reason: str) -> PlanState:
    if state.status not in WATCHED:
        raise PlanActionRefused(f"the plan is {state.status}; only a running plan can pause")
    return replace(state, status=PlanStatus.PAUSED, reason=reason)


def resume(spec: PlanSpec, state: PlanState, now: datetime) -> PlanState:
    """Carry on from the step it was at. The step's clock restarts: what happened while
    paused (often the reason for the pause) should not count towards moving on."""
    if state.status is not PlanStatus.PAUSED:
        raise PlanActionRefused(f"the plan is {state.status}, not paused")
    at_full = spec.steps[state.step].percentage == 100
    return replace(
        state,
        status=PlanStatus.BAKING if at_full else PlanStatus.RUNNING,
        step_started_at=now,
        baking_since=now if at_full else None,
        reason=None,
        notified=frozenset(),
    )


def approve(state: PlanState) -> PlanState:
    """A person's go-ahead to leave the current step (ahead of time, or when asked)."""
    if not state.active:
        raise PlanActionRefused(f"the plan is {state.status}; there is nothing to approve")
    if state.status is PlanStatus.WAITING_APPROVAL:
        return replace(state, status=PlanStatus.RUNNING, approved_step=state.step, reason=None)
    return replace(state, approved_step=state.step)


def skip(spec: PlanSpec, state: PlanState, now: datetime) -> tuple[PlanState, Decision]:
    """Move to the next step now, whatever its conditions (a person's call)."""
    if state.status not in WATCHED and state.status is not PlanStatus.PAUSED:
        raise PlanActionRefused(f"the plan is {state.status}; it cannot move on")
    if state.step + 1 >= len(spec.steps):
        raise PlanActionRefused("the plan is at its last step; nothing to skip to")
    return _enter(spec, state, state.step + 1, now, "skipped ahead by a person")


def abort(state: PlanState, now: datetime, reason: str) -> PlanState:
    """Stop the plan where it is; the flag stays as it is (roll back to turn it off)."""
    if not state.active:
        raise PlanActionRefused(f"the plan is already {state.status}")
    return replace(state, status=PlanStatus.ABORTED, reason=reason, finished_at=now)


def rolled_back(state: PlanState, now: datetime, reason: str) -> PlanState:
    return replace(state, status=PlanStatus.ROLLED_BACK, reason=reason, finished_at=now)


def _enter(
    spec: PlanSpec, state: PlanState, step: int, now: datetime, why: str
) -> tuple[PlanState, Decision]:
    target = spec.steps[step]
    audiences = f" + {', '.join(target.audiences)}" if target.audiences else ""
    if target.percentage == 100:
        new = replace(
            state,
            status=PlanStatus.BAKING,
            step=step,
            step_started_at=now,
            baking_since=now,
            reason=None,
            notified=frozenset(),
        )
        bake = describe_duration(spec.watch.bake)
        return new, Decision(DecisionKind.BAKE, f"{why}: 100%, baking for {bake}", step)
    new = replace(
        state,
        status=PlanStatus.RUNNING,
        step=step,
        step_started_at=now,
        reason=None,
        notified=frozenset(),
    )
    return new, Decision(DecisionKind.ADVANCE, f"{why}: {target.percentage}%{audiences}", step)


# --- one check ---------------------------------------------------------------------------


def judge_all(
    spec: PlanSpec,
    state: PlanState,
    observations: Mapping[str, Observation],
    exposures: tuple[float, float] | None = None,
) -> dict[str, Judgement]:
    """Every guardrail's judgement at the current step, plus the sample-ratio check
    (``exposures`` = (with the feature, without it) since the step started)."""
    step = spec.steps[state.step]
    alpha = spec.step_alpha
    judgements: dict[str, Judgement] = {}
    for guardrail in spec.guardrails:
        observation = observations.get(guardrail.metric)
        # At 100% nobody is left without the feature, so a comparison of the flag's arms
        # says nothing; one of deploys (before and after a revert) still does, and so
        # does its failure to read: that holds the release like any unreadable metric.
        by_deploys = (
            isinstance(observation, Comparison | Unreadable) and observation.basis == DEPLOYS
        )
        if isinstance(guardrail.rule, Compare) and step.percentage >= 100 and not by_deploys:
            judgements[guardrail.name] = Judgement(
                Verdict.NOT_APPLICABLE, f"{guardrail.name}: nobody is left without the feature"
            )
            continue
        if observation is None:
            observation = Unreadable(f"no reading for metric {guardrail.metric!r}")
        judgements[guardrail.name] = verdicts.judge(guardrail, observation, alpha=alpha)
    # A mismatch is only meaningful when the split is the percentage alone: extra
    # audiences (beta testers) add users to one side by design.
    split = spec.sample_ratio_check and not step.audiences and 0 < step.percentage < 100
    if split and exposures is not None:
        with_it, without = exposures
        expected = step.percentage / 100
        judgement = verdicts.sample_ratio(with_it, without, expected, alpha=alpha)
        judgements[SAMPLE_RATIO] = _within_tolerance(judgement, with_it, without, expected)
    return judgements


# Exposures are evaluations, not users: a user who comes back five times is five
# exposures, all on the same side, so the counts vary more than independent draws and a
# test that assumes independence finds "mismatches" in a correct split (seen: 50.7%
# of 96,000 exposures from 20,000 returning users, at 50%). What a broken assignment or
# broken counting does is far larger; a mismatch must also be this far off, relatively.
SAMPLE_RATIO_TOLERANCE = 0.1


def _within_tolerance(
    judgement: Judgement, with_it: float, without: float, expected: float
) -> Judgement:
    if judgement.verdict is not Verdict.REGRESSED:
        return judgement
    share = with_it / (with_it + without)
    if abs(share / expected - 1) > SAMPLE_RATIO_TOLERANCE:
        return judgement
    return Judgement(
        Verdict.HEALTHY,
        f"{judgement.summary}; within {SAMPLE_RATIO_TOLERANCE:.0%} of the expected share, "
        "which returning users explain",
        judgement.estimate,
        judgement.lower,
        judgement.upper,
        judgement.details,
    )


def assess(
    spec: PlanSpec,
    state: PlanState,
    judgements: Mapping[str, Judgement],
    now: datetime,
    *,
    treated: float = 0.0,
) -> Assessment:
    """What to do now. ``treated`` is how many exposures had the feature this step."""
    if state.status not in WATCHED:
        return Assessment(
            state,
            Decision(DecisionKind.HOLD, f"the plan is {state.status}"),
            dict(judgements),
            None,
        )
    by_action = _regressions(spec, judgements)
    if by_action[GuardrailAction.ROLLBACK]:
        reason = "; ".join(judgements[name].summary for name in by_action[GuardrailAction.ROLLBACK])
        return Assessment(
            rolled_back(state, now, reason),
            Decision(DecisionKind.ROLLBACK, reason),
            dict(judgements),
            None,
        )
    if by_action[GuardrailAction.PAUSE]:
        reason = "; ".join(judgements[name].summary for name in by_action[GuardrailAction.PAUSE])
        return Assessment(
            replace(state, status=PlanStatus.PAUSED, reason=reason),
            Decision(DecisionKind.PAUSE, reason),
            dict(judgements),
            None,
        )
    # Notify-only regressions and unreadable metrics are told once per step.
    news = tuple(
        name
        for name in (*by_action[GuardrailAction.NOTIFY], *_errors(judgements))
        if name not in state.notified
    )
    if news:
        state = replace(state, notified=state.notified | frozenset(news))
    state, decision = _move(spec, state, judgements, now, treated)
    if decision.kind is DecisionKind.HOLD and news:
        reason = "; ".join(judgements[name].summary for name in news)
        decision = Decision(DecisionKind.NOTIFY, reason)
    return Assessment(state, decision, dict(judgements), next_check(spec, state, now), news)


def _regressions(
    spec: PlanSpec, judgements: Mapping[str, Judgement]
) -> dict[GuardrailAction, list[str]]:
    by_action: dict[GuardrailAction, list[str]] = {action: [] for action in GuardrailAction}
    for guardrail in spec.guardrails:
        judgement = judgements.get(guardrail.name)
        if judgement is not None and judgement.verdict is Verdict.REGRESSED:
            by_action[guardrail.action].append(guardrail.name)
    ratio = judgements.get(SAMPLE_RATIO)
    if ratio is not None and ratio.verdict is Verdict.REGRESSED:
        # The split itself is broken (a bug in assignment or in counting): no comparison
        # can be trusted, so a person looks before anything else happens.
        by_action[GuardrailAction.PAUSE].append(SAMPLE_RATIO)
    return by_action


def _errors(judgements: Mapping[str, Judgement]) -> list[str]:
    return [name for name, j in judgements.items() if j.verdict is Verdict.ERROR]


def _move(
    spec: PlanSpec,
    state: PlanState,
    judgements: Mapping[str, Judgement],
    now: datetime,
    treated: float,
) -> tuple[PlanState, Decision]:
    step = spec.steps[state.step]
    if state.status is PlanStatus.BAKING:
        since = state.baking_since or state.step_started_at
        left = since + spec.watch.bake - now
        blocked = _blocking(spec, judgements)
        if left > timedelta(0):
            # An unreadable source is said while baking too: it would hold the release.
            also = f"; {blocked}" if blocked else ""
            return state, Decision(
                DecisionKind.HOLD, f"baking at 100%: {describe_duration(left)} left{also}"
            )
        if blocked:
            return state, Decision(DecisionKind.HOLD, f"bake done, but {blocked}")
        released = replace(state, status=PlanStatus.RELEASED, finished_at=now, reason=None)
        return released, Decision(DecisionKind.RELEASE, "baked at 100% with healthy guardrails")
    waiting: list[str] = []
    left = state.step_started_at + step.min_duration - now
    if left > timedelta(0):
        waiting.append(f"{describe_duration(left)} of the step still to run")
    if treated < step.min_sample:
        waiting.append(f"{treated:,.0f} of {step.min_sample:,} exposures with the feature")
    blocked = _blocking(spec, judgements)
    if blocked:
        waiting.append(blocked)
    if waiting:
        return state, Decision(
            DecisionKind.HOLD, f"holding at {step.percentage}%: " + "; ".join(waiting)
        )
    if step.approval and state.approved_step != state.step:
        why = f"step {state.step + 1} ({step.percentage}%) is done; a person must approve going on"
        return (
            replace(state, status=PlanStatus.WAITING_APPROVAL, reason=why),
            Decision(DecisionKind.WAIT_FOR_APPROVAL, why),
        )
    if state.step + 1 >= len(spec.steps):
        released = replace(state, status=PlanStatus.RELEASED, finished_at=now, reason=None)
        return released, Decision(DecisionKind.RELEASE, f"plan complete at {step.percentage}%")
    return _enter(spec, state, state.step + 1, now, "step conditions met")


def _blocking(spec: PlanSpec, judgements: Mapping[str, Judgement]) -> str | None:
    """Why the guardrails do not yet allow moving on, or None."""
    unsure: list[str] = []
    for name, judgement in judgements.items():
        if name == SAMPLE_RATIO:
            continue  # it can stop a plan (a mismatch pauses it) but never holds one
        if judgement.verdict is Verdict.ERROR:
            # Never healthy: it holds, and says which metric and why (the source's words).
            said = judgement.summary
            unsure.append(
                said if "could not be read" in said else f"{name} could not be read: {said}"
            )
        elif judgement.verdict is Verdict.INCONCLUSIVE and (
            spec.when_inconclusive is WhenInconclusive.HOLD
        ):
            unsure.append(f"{name} inconclusive")
    return ", ".join(unsure) if unsure else None


def next_check(spec: PlanSpec, state: PlanState, now: datetime) -> datetime | None:
    """Closely in the first part of each step, then at the longer interval; never later
    than the moment the step's duration or the bake ends (so moving on is prompt)."""
    if state.status not in WATCHED:
        return None
    watch = spec.watch
    every = watch.close_every if now - state.step_started_at < watch.close_for else watch.then_every
    at = now + every
    if state.status is PlanStatus.BAKING:
        ends = (state.baking_since or state.step_started_at) + watch.bake
    else:
        ends = state.step_started_at + spec.steps[state.step].min_duration
    if now < ends < at:
        at = ends
    return at


# --- words -------------------------------------------------------------------------------


def step_label(step: Step) -> str:
    """A step as people read it: "10% + beta-testers for 7d"."""
    audiences = f" + {', '.join(step.audiences)}" if step.audiences else ""
    if step.percentage == 100 or not step.min_duration:
        return f"{step.percentage}%{audiences}"
    return f"{step.percentage}%{audiences} for {describe_duration(step.min_duration)}"
