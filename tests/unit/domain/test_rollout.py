"""``rollout``: a plan walked from 10% to released with a held clock, and every way it
stops: a guardrail rolling back or pausing, a person pausing, resuming, approving,
skipping and aborting, too little data holding it, and the check schedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shipwise.domain import rollout
from shipwise.domain.guardrails import (
    DEPLOYS,
    FLAG,
    ArmStats,
    Compare,
    Comparison,
    Direction,
    Guardrail,
    GuardrailAction,
    Judgement,
    Threshold,
    Unreadable,
    Verdict,
)
from shipwise.domain.rollout import (
    DEFAULT_PLAN,
    SAMPLE_RATIO,
    DecisionKind,
    PlanActionRefused,
    PlanSpec,
    PlanStatus,
    Step,
    WhenInconclusive,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ERRORS = Guardrail("errors", Direction.HIGHER_IS_WORSE, Compare(0.2))
TICKETS = Guardrail("tickets", Direction.HIGHER_IS_WORSE, Threshold(10), GuardrailAction.PAUSE)
PLAN = replace(DEFAULT_PLAN, guardrails=(ERRORS,))


def verdicts(**by_name: Verdict) -> dict[str, Judgement]:
    return {name: Judgement(verdict, f"{name} {verdict}") for name, verdict in by_name.items()}


HEALTHY = verdicts(errors=Verdict.HEALTHY)


def test_the_default_plan_is_the_process_10_plus_beta_25_50_100_a_week_a_step() -> None:
    steps = [(s.percentage, s.audiences, s.min_duration) for s in DEFAULT_PLAN.steps]
    assert steps == [
        (10, ("beta-testers",), 7 * DAY),
        (25, (), 7 * DAY),
        (50, (), 7 * DAY),
        (100, (), timedelta(0)),
    ]
    assert DEFAULT_PLAN.watch.bake == timedelta(hours=24)


def test_a_healthy_plan_walks_every_step_a_week_apart_then_bakes_and_is_released() -> None:
    state = rollout.start(PLAN, T0)
    moments: list[tuple[DecisionKind, int, datetime]] = []
    now = T0
    while state.status is not PlanStatus.RELEASED:
        assessment = rollout.assess(PLAN, state, HEALTHY, now)
        if assessment.decision.kind is not DecisionKind.HOLD:
            moments.append((assessment.decision.kind, assessment.state.step, now))
        state = assessment.state
        assert assessment.next_check_at is not None or state.status is PlanStatus.RELEASED
        now = assessment.next_check_at or now
        assert now < T0 + 30 * DAY, "the plan never finished"
    assert moments == [
        (DecisionKind.ADVANCE, 1, T0 + 7 * DAY),
        (DecisionKind.ADVANCE, 2, T0 + 14 * DAY),
        (DecisionKind.BAKE, 3, T0 + 21 * DAY),
        (DecisionKind.RELEASE, 3, T0 + 22 * DAY),
    ]


def test_checks_are_every_minute_for_the_first_hour_then_every_five_minutes() -> None:
    state = rollout.start(PLAN, T0)
    assert rollout.next_check(PLAN, state, T0) == T0 + timedelta(minutes=1)
    assert rollout.next_check(PLAN, state, T0 + timedelta(minutes=59)) == T0 + timedelta(hours=1)
    later = T0 + timedelta(hours=2)
    assert rollout.next_check(PLAN, state, later) == later + timedelta(minutes=5)
    # Never later than the end of the step, so moving on is prompt.
    almost = T0 + 7 * DAY - timedelta(minutes=4)
    assert rollout.next_check(PLAN, state, almost) == T0 + 7 * DAY


def test_a_regressed_rollback_guardrail_rolls_back_at_once_whatever_the_step() -> None:
    state = rollout.start(PLAN, T0)
    now = T0 + timedelta(hours=3)
    assessment = rollout.assess(PLAN, state, verdicts(errors=Verdict.REGRESSED), now)
    assert assessment.decision.kind is DecisionKind.ROLLBACK
    assert assessment.decision.changes_flag
    assert assessment.state.status is PlanStatus.ROLLED_BACK
    assert assessment.state.finished_at == now
    assert "errors regressed" in (assessment.state.reason or "")
    assert assessment.next_check_at is None


def test_a_pause_guardrail_holds_the_plan_for_a_person() -> None:
    spec = replace(PLAN, guardrails=(ERRORS, TICKETS))
    state = rollout.start(spec, T0)
    judged = verdicts(errors=Verdict.HEALTHY, tickets=Verdict.REGRESSED)
    assessment = rollout.assess(spec, state, judged, T0 + DAY)
    assert assessment.decision.kind is DecisionKind.PAUSE
    assert assessment.state.status is PlanStatus.PAUSED
    # Paused plans are not checked and do not move, whatever the numbers.
    held = rollout.assess(spec, assessment.state, HEALTHY, T0 + 30 * DAY)
    assert held.decision.kind is DecisionKind.HOLD
    assert held.next_check_at is None


def test_a_notify_guardrail_is_told_once_per_step_and_the_plan_carries_on() -> None:
    notify = Guardrail("feedback", Direction.LOWER_IS_WORSE, Threshold(3.5), GuardrailAction.NOTIFY)
    spec = replace(PLAN, guardrails=(ERRORS, notify))
    state = rollout.start(spec, T0)
    judged = verdicts(errors=Verdict.HEALTHY, feedback=Verdict.REGRESSED)
    first = rollout.assess(spec, state, judged, T0 + timedelta(hours=1))
    assert first.decision.kind is DecisionKind.NOTIFY
    assert first.notify == ("feedback",)
    again = rollout.assess(spec, first.state, judged, T0 + timedelta(hours=2))
    assert again.decision.kind is DecisionKind.HOLD
    assert again.notify == ()
    assert again.state.status is PlanStatus.RUNNING


def test_inconclusive_holds_the_step_unless_the_plan_says_advance() -> None:
    state = rollout.start(PLAN, T0)
    unsure = verdicts(errors=Verdict.INCONCLUSIVE)
    held = rollout.assess(PLAN, state, unsure, T0 + 8 * DAY)
    assert held.decision.kind is DecisionKind.HOLD
    assert "errors inconclusive" in held.decision.reason
    assert held.state.step == 0
    bold = replace(PLAN, when_inconclusive=WhenInconclusive.ADVANCE)
    moved = rollout.assess(bold, state, unsure, T0 + 8 * DAY)
    assert moved.decision.kind is DecisionKind.ADVANCE
    # An unreadable metric holds even a bold plan: nobody knows what it would say.
    # It is reported once, then the plan keeps holding.
    broken = rollout.assess(bold, state, verdicts(errors=Verdict.ERROR), T0 + 8 * DAY)
    assert (broken.decision.kind, broken.state.step) == (DecisionKind.NOTIFY, 0)
    still = rollout.assess(bold, broken.state, verdicts(errors=Verdict.ERROR), T0 + 9 * DAY)
    assert (still.decision.kind, still.state.step) == (DecisionKind.HOLD, 0)
    assert "could not be read" in still.decision.reason


def test_a_step_waits_for_its_minimum_sample() -> None:
    spec = replace(PLAN, steps=(Step(10, min_sample=5_000), Step(100, min_duration=timedelta(0))))
    state = rollout.start(spec, T0)
    held = rollout.assess(spec, state, HEALTHY, T0 + 8 * DAY, treated=4_999)
    assert held.decision.kind is DecisionKind.HOLD
    assert "4,999 of 5,000 exposures" in held.decision.reason
    moved = rollout.assess(spec, state, HEALTHY, T0 + 8 * DAY, treated=5_000)
    assert moved.decision.kind is DecisionKind.BAKE


def test_a_step_needing_approval_waits_for_a_person_then_moves_on() -> None:
    spec = replace(
        PLAN, steps=(Step(10, approval=True), Step(50), Step(100, min_duration=timedelta(0)))
    )
    state = rollout.start(spec, T0)
    waiting = rollout.assess(spec, state, HEALTHY, T0 + 7 * DAY)
    assert waiting.decision.kind is DecisionKind.WAIT_FOR_APPROVAL
    assert waiting.state.status is PlanStatus.WAITING_APPROVAL
    # Still watched while waiting: a regression rolls back.
    assert (
        rollout.assess(
            spec, waiting.state, verdicts(errors=Verdict.REGRESSED), T0 + 8 * DAY
        ).decision.kind
        is DecisionKind.ROLLBACK
    )
    approved = rollout.approve(waiting.state)
    assert approved.status is PlanStatus.RUNNING
    moved = rollout.assess(spec, approved, HEALTHY, T0 + 8 * DAY)
    assert moved.decision.kind is DecisionKind.ADVANCE
    assert moved.state.step == 1


def test_people_pause_resume_skip_and_abort() -> None:
    state = rollout.start(PLAN, T0)
    paused = rollout.pause(state, "support queue on fire")
    assert paused.status is PlanStatus.PAUSED
    with pytest.raises(PlanActionRefused, match="only a running plan"):
        rollout.pause(paused, "again")
    resumed = rollout.resume(PLAN, paused, T0 + 2 * DAY)
    assert resumed.status is PlanStatus.RUNNING
    assert resumed.step_started_at == T0 + 2 * DAY  # the step's week starts again
    with pytest.raises(PlanActionRefused, match="not paused"):
        rollout.resume(PLAN, resumed, T0 + 2 * DAY)
    skipped, decision = rollout.skip(PLAN, resumed, T0 + 3 * DAY)
    assert (skipped.step, decision.kind) == (1, DecisionKind.ADVANCE)
    assert "skipped ahead" in decision.reason
    aborted = rollout.abort(skipped, T0 + 4 * DAY, "wrong flag")
    assert aborted.status is PlanStatus.ABORTED
    with pytest.raises(PlanActionRefused, match="already aborted"):
        rollout.abort(aborted, T0 + 5 * DAY, "twice")


def test_skipping_past_the_last_step_is_refused() -> None:
    spec = replace(PLAN, steps=(Step(100, min_duration=timedelta(0)),))
    state = rollout.start(spec, T0)
    assert state.status is PlanStatus.BAKING
    with pytest.raises(PlanActionRefused, match="last step"):
        rollout.skip(spec, state, T0)


def test_comparisons_do_not_apply_at_100_percent_but_thresholds_still_do() -> None:
    spec = replace(PLAN, guardrails=(ERRORS, TICKETS))
    state = replace(rollout.start(spec, T0), step=3, status=PlanStatus.BAKING, baking_since=T0)
    judged = rollout.judge_all(spec, state, {}, exposures=(100.0, 0.0))
    assert judged["errors"].verdict is Verdict.NOT_APPLICABLE
    assert judged["tickets"].verdict is Verdict.ERROR  # no reading: "could not be read"
    assert SAMPLE_RATIO not in judged


def test_a_comparison_of_deploys__is_judged_at_100_percent__and_reads_after_vs_before() -> None:
    # A release shipped by a revert: everyone is on the new deployment, and the one before
    # it is what the guardrail compares with (the Vercel source's ``compare: deploys``).
    state = replace(rollout.start(PLAN, T0), step=3, status=PlanStatus.BAKING, baking_since=T0)
    slower = Comparison(
        "mean",
        ArmStats(400, 400, 400 * 3400.0, 400 * 3400.0**2 + 400 * 250.0**2),
        ArmStats(400, 400, 400 * 2000.0, 400 * 2000.0**2 + 400 * 250.0**2),
        basis=DEPLOYS,
    )
    by_flag = replace(slower, basis=FLAG)

    judged = rollout.judge_all(PLAN, state, {"errors": slower}, exposures=(100.0, 0.0))
    assert judged["errors"].verdict is Verdict.REGRESSED
    assert judged["errors"].summary.startswith("errors 3,400 after vs 2,000 before (+70%")
    assert rollout.assess(PLAN, state, judged, T0).decision.kind is DecisionKind.ROLLBACK
    flag = rollout.judge_all(PLAN, state, {"errors": by_flag}, exposures=(100.0, 0.0))
    assert flag["errors"].verdict is Verdict.NOT_APPLICABLE


def test_an_unreadable_comparison_of_deploys_at_100_percent__holds_the_release() -> None:
    # A revert baking at 100% whose deploy comparison cannot be read (no deploy before it
    # is linked to Vercel): an error, said while baking, and no release when the bake ends.
    state = replace(rollout.start(PLAN, T0), step=3, status=PlanStatus.BAKING, baking_since=T0)
    unreadable = Unreadable("no Vercel deployment is linked to aaaaaaaaaaaa", basis=DEPLOYS)

    judged = rollout.judge_all(PLAN, state, {"errors": unreadable}, exposures=(100.0, 0.0))
    assert judged["errors"].verdict is Verdict.ERROR
    baked = rollout.assess(PLAN, state, judged, T0 + PLAN.watch.bake)
    assert baked.decision.kind is DecisionKind.NOTIFY  # held, and said once
    assert baked.state.status is PlanStatus.BAKING
    again = rollout.assess(PLAN, baked.state, judged, T0 + PLAN.watch.bake + DAY)
    assert again.decision.kind is DecisionKind.HOLD
    assert again.decision.reason == (
        "bake done, but errors could not be read: no Vercel deployment is linked to aaaaaaaaaaaa"
    )
    # The flag's arms compared at 100% mean nothing, readable or not.
    by_flag = rollout.judge_all(PLAN, state, {"errors": Unreadable("down")}, exposures=None)
    assert by_flag["errors"].verdict is Verdict.NOT_APPLICABLE


def test_a_comparison_of_deploys_with_nothing_from_the_deploy_before__holds_the_release() -> None:
    state = replace(rollout.start(PLAN, T0), step=3, status=PlanStatus.BAKING, baking_since=T0)
    empty_before = Comparison("rate", ArmStats(5_000, 10), ArmStats(0), basis=DEPLOYS)

    judged = rollout.judge_all(PLAN, state, {"errors": empty_before}, exposures=None)
    assert judged["errors"].verdict is Verdict.INCONCLUSIVE
    assert judged["errors"].summary == (
        "errors: nothing from the deploy before yet (5,000 vs 0 exposures)"
    )
    baked = rollout.assess(PLAN, state, judged, T0 + PLAN.watch.bake)
    assert baked.decision.kind is DecisionKind.HOLD
    assert baked.decision.reason == "bake done, but errors inconclusive"


def test_the_sample_ratio_check_runs_only_where_the_split_is_the_percentage_alone() -> None:
    state = rollout.start(PLAN, T0)  # 10% + beta testers: no check
    assert SAMPLE_RATIO not in rollout.judge_all(PLAN, state, {}, exposures=(5_000.0, 5_000.0))
    at_25 = replace(state, step=1)
    judged = rollout.judge_all(PLAN, at_25, {}, exposures=(5_000.0, 5_000.0))
    assert judged[SAMPLE_RATIO].verdict is Verdict.REGRESSED  # 50/50 where 25/75 was due
    paused = rollout.assess(PLAN, at_25, {**HEALTHY, SAMPLE_RATIO: judged[SAMPLE_RATIO]}, T0)
    assert paused.decision.kind is DecisionKind.PAUSE
    # A small, statistically "significant" drift is what returning users do to
    # exposure counts; it is not a broken split.
    drift = rollout.judge_all(PLAN, at_25, {}, exposures=(26_200.0, 73_800.0))
    assert drift[SAMPLE_RATIO].verdict is Verdict.HEALTHY
    assert "returning users" in drift[SAMPLE_RATIO].summary
    broken = rollout.judge_all(PLAN, at_25, {}, exposures=(20_000.0, 80_000.0))
    assert broken[SAMPLE_RATIO].verdict is Verdict.REGRESSED
    # Too few exposures to tell is no reason to hold the step.
    few = rollout.judge_all(PLAN, at_25, {}, exposures=(3.0, 5.0))
    assert few[SAMPLE_RATIO].verdict is Verdict.INCONCLUSIVE
    moved = rollout.assess(PLAN, at_25, {**HEALTHY, SAMPLE_RATIO: few[SAMPLE_RATIO]}, T0 + 8 * DAY)
    assert moved.decision.kind is DecisionKind.ADVANCE


def test_alpha_is_split_over_the_steps_that_compare() -> None:
    assert PLAN.comparing_steps == 3
    assert PLAN.step_alpha == pytest.approx(0.01 / 3)
    assert PlanSpec(steps=(Step(100),)).step_alpha == 0.01
