"""A rollout plan in words for its page: the steps as a timeline with the time each ran
and has left, where the plan stands, and the checks that decided something.

Pure: a ``PlanView`` (the plan, its timeline, the store's time) in, values out. The
reasons are the domain's own sentences (``domain.rollout``, ``domain.verdicts``); this
module only says when, and adds no judgement of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shipwise.domain.durations import describe_duration
from shipwise.domain.rollout import PlanSpec, PlanStatus, Step, step_label
from shipwise.domain.rollout_samples import SAMPLE
from shipwise.server.ports import RolloutCheck, RolloutPlanRecord

__all__ = [
    "STATUS_WORDS",
    "HistoryLine",
    "StepLine",
    "Verdict",
    "history",
    "state_words",
    "steps",
    "verdicts",
]

STATUS_WORDS = {
    PlanStatus.RUNNING: "running",
    PlanStatus.WAITING_APPROVAL: "awaiting approval",
    PlanStatus.PAUSED: "paused",
    PlanStatus.BAKING: "baking at 100%",
    PlanStatus.RELEASED: "done: released",
    PlanStatus.ROLLED_BACK: "rolled back",
    PlanStatus.ABORTED: "aborted",
}
DECISION_WORDS = {
    "hold": "checked",
    "advance": "moved on",
    "wait-for-approval": "waiting for approval",
    "pause": "paused",
    "rollback": "rolled back",
    "notify": "reported",
    "bake": "reached 100%",
    "release": "released",
}
ENTERING = frozenset({"advance", "bake"})  # decisions that put the plan on a new step


@dataclass(frozen=True, slots=True)
class StepLine:
    """One step of the plan: ``where`` is "done", "current" or "ahead"; ``time`` says
    how long it ran, or has run and has left, in words."""

    number: int
    label: str
    where: str
    time: str
    needs: tuple[str, ...]  # what the step asks for before moving on, in words


@dataclass(frozen=True, slots=True)
class Verdict:
    guardrail: str
    verdict: str
    summary: str


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    step: int  # counted from 1
    decision: str  # in words
    reason: str
    verdicts: tuple[Verdict, ...]


def verdicts(judgements: Mapping[str, Any]) -> tuple[Verdict, ...]:
    """Each judgement's verdict and the domain's summary of it, by guardrail name."""
    found = []
    for name, judgement in sorted(judgements.items()):
        if isinstance(judgement, Mapping):
            found.append(
                Verdict(name, str(judgement.get("verdict", "")), str(judgement.get("summary", "")))
            )
    return tuple(found)


def history(checks: Sequence[RolloutCheck]) -> list[HistoryLine]:
    """The checks that decided something or saw a verdict change, newest first (a
    sampled check, kept only as a chart's point, is no line of the history)."""
    return [
        HistoryLine(
            check.at,
            check.step + 1,
            DECISION_WORDS.get(check.decision, check.decision),
            check.reason,
            verdicts(check.judgements),
        )
        for check in reversed(checks)
        if check.decision != SAMPLE
    ]


def state_words(plan: RolloutPlanRecord) -> str:
    """Where the plan stands, in one sentence: its state, its step, and why."""
    state, spec = plan.state, plan.spec
    status = STATUS_WORDS.get(state.status, state.status.value)
    where = f"step {state.step + 1} of {len(spec.steps)} ({step_label(spec.steps[state.step])})"
    reason = f": {state.reason}" if state.reason else ""
    if state.status is PlanStatus.RELEASED:
        return f"Done: released at {spec.steps[state.step].percentage}%"
    return f"{status[:1].upper()}{status[1:]}, at {where}{reason}"


def _needs(step: Step) -> tuple[str, ...]:
    needs = []
    if step.min_sample:
        needs.append(f"at least {step.min_sample:,} exposures with the feature")
    if step.approval:
        needs.append("a person approves going on")
    return tuple(needs)


def _entered(checks: Sequence[RolloutCheck]) -> dict[int, datetime]:
    """When the plan entered each step, as its timeline recorded it."""
    entered: dict[int, datetime] = {}
    for check in checks:
        if check.decision in ENTERING:
            entered[check.step] = check.at
    return entered


def _planned(spec: PlanSpec, step: Step) -> str:
    if step.percentage == 100:
        return f"then a {describe_duration(spec.watch.bake)} bake"
    if not step.min_duration:
        return "no minimum time"
    return f"at least {describe_duration(step.min_duration)}"


def _current(plan: RolloutPlanRecord, now: datetime) -> str:
    """The current step's time: how long it has run, and how long it has left."""
    state, spec = plan.state, plan.spec
    step = spec.steps[state.step]
    until = state.finished_at or now
    ran = describe_duration(until - state.step_started_at)
    if state.status is PlanStatus.PAUSED:
        return f"paused after {ran}; its time starts again when it resumes"
    if not state.active:
        return f"{STATUS_WORDS.get(state.status, state.status.value)} after {ran}"
    if state.status is PlanStatus.BAKING:
        since = state.baking_since or state.step_started_at
        left = since + spec.watch.bake - now
        baked = describe_duration(now - since)
        if left > timedelta(0):
            return f"baking for {baked}, {describe_duration(left)} left"
        return f"baked for {baked}; the bake is over"
    left = state.step_started_at + step.min_duration - now
    if left > timedelta(0):
        return f"{ran} so far, {describe_duration(left)} left of its minimum"
    return f"{ran} so far; its minimum time ({describe_duration(step.min_duration)}) is over"


def steps(plan: RolloutPlanRecord, checks: Sequence[RolloutCheck], now: datetime) -> list[StepLine]:
    """Every step of the plan, in order, with the time it ran or has left."""
    spec, state = plan.spec, plan.state
    entered = _entered(checks)
    # The timeline keeps its newest 500 lines: without the current step's entry, its
    # start is the state's (a resume restarts it, which is what the step counts from).
    entered.setdefault(state.step, state.step_started_at)
    released = state.status is PlanStatus.RELEASED
    lines = []
    for index, step in enumerate(spec.steps):
        label = step_label(step)
        if index < state.step:
            start, end = entered.get(index), entered.get(index + 1)
            ran = "done"
            if start is not None and end is not None:
                ran = f"ran {describe_duration(end - start)}"
            lines.append(StepLine(index + 1, label, "done", ran, ()))
        elif index == state.step and released:
            lines.append(StepLine(index + 1, label, "done", "released", ()))
        elif index == state.step:
            lines.append(StepLine(index + 1, label, "current", _current(plan, now), ()))
        else:
            lines.append(StepLine(index + 1, label, "ahead", _planned(spec, step), _needs(step)))
    return lines
