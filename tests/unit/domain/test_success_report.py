"""The success report of a released plan, built from its timeline and the audit record:
each step's times and exposures, each guardrail's last word, the incidents, who acted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shipwise.domain.guardrails import Compare, Direction, Guardrail
from shipwise.domain.rollout import SAMPLE_RATIO, PlanSpec, PlanState, PlanStatus, Step
from shipwise.domain.success_report import (
    Act,
    CheckLine,
    GuardrailResult,
    Incident,
    IncidentKind,
    OtherRelease,
    PersonAct,
    PlanRun,
    build_report,
    person_of,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SPEC = PlanSpec(
    steps=(
        Step(10, audiences=("beta",)),
        Step(50, approval=True),
        Step(100, min_duration=timedelta(0)),
    ),
    guardrails=(Guardrail("errors", Direction.HIGHER_IS_WORSE, Compare(0.2)),),
)
ALICE, BOB, CAROL = (
    "token:alice (#2, developer)",
    "token:bob (#3, developer)",
    "token:carol (#4, release-manager)",
)


def _j(verdict: str, summary: str, with_it: float = 0, without: float = 0) -> dict[str, Any]:
    details = {"treatment_units": with_it, "control_units": without} if with_it else {}
    return {"verdict": verdict, "summary": summary, "details": details}


def _ratio(with_it: float, without: float) -> dict[str, Any]:
    return _j("healthy", "sample ratio fine", with_it, without)


CHECKS = (
    CheckLine(T0 + HOUR, 0, "sample", "holding", {"errors": _j("inconclusive", "errors: no data")}),
    CheckLine(
        T0 + 7 * DAY + HOUR,
        0,
        "hold",
        "holding at 10%: errors inconclusive",
        {"errors": _j("inconclusive", "errors: 3 vs 2, not sure", 800, 7000)},
    ),
    CheckLine(
        T0 + 8 * DAY,
        1,
        "advance",
        "step conditions met: 50%",
        {"errors": _j("healthy", "errors 1.0% vs 1.1%: within", 1000, 9000)},
    ),
    CheckLine(T0 + 9 * DAY, 1, "pause", "paused by carol: checking a spike", {}),
    CheckLine(T0 + 9 * DAY + 2 * HOUR, 1, "hold", "resumed by carol", {}),
    CheckLine(
        T0 + 16 * DAY + 2 * HOUR,
        1,
        "wait-for-approval",
        "step 2 (50%) is done; a person must approve going on",
        {"errors": _j("healthy", "errors fine at 50%"), SAMPLE_RATIO: _ratio(5000, 5000)},
    ),
    CheckLine(
        T0 + 16 * DAY + 4 * HOUR,
        2,
        "bake",
        "step conditions met: 100%, baking for 1d",
        {"errors": _j("healthy", "errors 1.0% vs 1.0%"), SAMPLE_RATIO: _ratio(6000, 6100)},
    ),
    CheckLine(
        T0 + 17 * DAY + 4 * HOUR,
        2,
        "release",
        "baked at 100% with healthy guardrails",
        {"errors": _j("not-applicable", "errors: nobody is left without the feature")},
    ),
)
FINISHED = T0 + 17 * DAY + 4 * HOUR
PLAN = PlanRun(
    7,
    "checkout",
    "production",
    SPEC,
    PlanState(PlanStatus.RELEASED, 2, T0, T0 + 16 * DAY + 4 * HOUR, finished_at=FINISHED),
    CHECKS,
)
ACTS = (
    Act(T0 - 2 * DAY, ALICE, "release.create"),
    Act(T0 - DAY, BOB, "release.approval", environment="production"),
    Act(T0 - HOUR, ALICE, "release.promote", environment="production", after={"stage": "x"}),
    Act(T0, ALICE, "rollout.start", environment="production"),
    Act(T0 + 8 * DAY, "rollout-runner", "rollout.advance", environment="production"),
    Act(T0 + 9 * DAY, CAROL, "rollout.pause", "checking a spike", "production"),
    Act(T0 + 9 * DAY + 2 * HOUR, CAROL, "rollout.resume", environment="production"),
    Act(T0 + 16 * DAY + 3 * HOUR, CAROL, "rollout.approve", environment="production"),
)
EARLIER = PlanRun(
    3,
    "checkout",
    "production",
    SPEC,
    PlanState(
        PlanStatus.ROLLED_BACK,
        0,
        T0 - 30 * DAY,
        T0 - 30 * DAY,
        "errors regressed",
        None,
        finished_at=T0 - 29 * DAY,
    ),
)


def _report() -> Any:
    return build_report(
        release="rel-1",
        title="New checkout",
        created_at=T0 - 2 * DAY,
        plan=PLAN,
        acts=ACTS,
        earlier=(EARLIER,),
        hotfixes=(
            OtherRelease("rel-9", "Fix totals", T0 + 3 * DAY),
            OtherRelease("rel-2", "Old fix", T0 - 40 * DAY),  # before the plan: not an incident
        ),
    )


def test_build_report__released_plan__gives_each_step_its_times_and_exposures() -> None:
    report = _report()

    steps = [
        (s.number, s.label, s.entered_at, s.left_at, s.lasted, s.with_feature, s.without_feature)
        for s in report.steps
    ]
    assert steps == [
        (1, "10% + beta for 7d", T0, T0 + 8 * DAY, 8 * DAY, 1000.0, 9000.0),
        (
            2,
            "50% for 7d",
            T0 + 8 * DAY,
            T0 + 16 * DAY + 4 * HOUR,
            8 * DAY + 4 * HOUR,
            6000.0,
            6100.0,
        ),
        (3, "100%", T0 + 16 * DAY + 4 * HOUR, FINISHED, DAY, None, None),
    ]
    assert report.rollout_took == 17 * DAY + 4 * HOUR
    assert report.release_took == 19 * DAY + 4 * HOUR


def test_build_report__guardrails__last_applicable_word_overall_and_per_step() -> None:
    report = _report()

    assert report.guardrails == (
        GuardrailResult("errors", "healthy", "errors 1.0% vs 1.0%", 2),
        GuardrailResult(SAMPLE_RATIO, "healthy", "sample ratio fine", 2),
    )
    assert report.steps[0].guardrails == (
        GuardrailResult("errors", "healthy", "errors 1.0% vs 1.1%: within", 1),
    )
    assert [g.verdict for g in report.steps[2].guardrails] == ["not-applicable"]


def test_build_report__incidents__pause_wait_late_verdict_earlier_rollback_and_hotfix() -> None:
    report = _report()

    assert report.incidents == (
        Incident(
            T0 - 29 * DAY,
            IncidentKind.EARLIER_ROLLBACK,
            "rollout plan #3 on checkout in production was rolled back at step 1: errors regressed",
        ),
        Incident(T0 + 3 * DAY, IncidentKind.HOTFIX, "hotfix rel-9 (Fix totals) on checkout"),
        Incident(
            T0 + 7 * DAY + HOUR,
            IncidentKind.INCONCLUSIVE,
            "step 1: errors still inconclusive when its time was up: errors: 3 vs 2, not sure",
        ),
        Incident(T0 + 9 * DAY, IncidentKind.PAUSE, "step 2: paused by carol: checking a spike"),
        Incident(
            T0 + 16 * DAY + 2 * HOUR,
            IncidentKind.WAIT,
            "step 2: step 2 (50%) is done; a person must approve going on",
        ),
    )


def test_build_report__who_acted__people_only_never_the_runner() -> None:
    report = _report()

    assert report.people == (
        PersonAct(T0 - 2 * DAY, "alice", "created the release"),
        PersonAct(T0 - DAY, "bob", "approved it in production"),
        PersonAct(T0 - HOUR, "alice", "promoted it in production"),
        PersonAct(T0, "alice", "started the rollout plan in production"),
        PersonAct(T0 + 9 * DAY, "carol", "paused the plan in production: checking a spike"),
        PersonAct(T0 + 9 * DAY + 2 * HOUR, "carol", "resumed the plan in production"),
        PersonAct(T0 + 16 * DAY + 3 * HOUR, "carol", "approved going on from a step in production"),
    )


def test_build_report__hotfix_path_promotion__is_an_incident() -> None:
    acts = (Act(T0, ALICE, "release.promote", "data loss", "production", {"hotfix": {}}),)

    report = build_report(release="rel-1", title="t", created_at=T0, plan=PLAN, acts=acts)

    assert (
        Incident(T0, IncidentKind.HOTFIX, "promoted into production on the hotfix path: data loss")
        in report.incidents
    )


def test_report_lines__say_the_report_in_words() -> None:
    lines = _report().lines()

    assert lines == [
        "checkout reached everyone in production with rollout plan #7: the rollout took "
        "17d 4h, 19d 4h from the release's creation.",
        "Steps:",
        "- step 1, 10% + beta for 7d: 8d; 1,000 exposures with the feature, 9,000 without",
        "- step 2, 50% for 7d: 8d 4h; 6,000 exposures with the feature, 6,100 without",
        "- step 3, 100%: 1d; no exposures counted",
        "Guardrails:",
        "- errors: healthy (step 2): errors 1.0% vs 1.0%",
        f"- {SAMPLE_RATIO}: healthy (step 2): sample ratio fine",
        "Incidents: 5",
        "- 2026-10-04 09:00 UTC earlier-rollback: rollout plan #3 on checkout in production "
        "was rolled back at step 1: errors regressed",
        "- 2026-11-05 09:00 UTC hotfix: hotfix rel-9 (Fix totals) on checkout",
        "- 2026-11-09 10:00 UTC inconclusive: step 1: errors still inconclusive when its time "
        "was up: errors: 3 vs 2, not sure",
        "- 2026-11-11 09:00 UTC pause: step 2: paused by carol: checking a spike",
        "- 2026-11-18 11:00 UTC wait: step 2: step 2 (50%) is done; a person must approve going on",
        "Who acted: alice, bob, carol",
    ]


def test_person_of__names_people_and_not_shipwise_itself() -> None:
    assert person_of("token:alice (#2, developer)") == "alice"
    assert person_of("github:octocat") == "octocat"
    assert person_of("demo:dana (qa)") == "dana"
    assert person_of("rollout-runner") is None
    assert person_of("system") is None
