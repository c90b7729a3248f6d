"""``gates.evaluate_promotion``: each gate passing and failing, with the words a person
reads to fix it. The policy is built here (PRODUCT.md's pipeline, Europe/Oslo), not read
from ``shipwise.toml``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.unit.domain.example_policy import CODE_OWNER, POLICY, QA, RELEASE_MANAGER

from shipwise.domain import gates
from shipwise.domain.policy_model import Freeze, Policy
from shipwise.domain.releases import (
    Approval,
    ApproverRole,
    ChangeKind,
    ChecklistCheck,
    CiResult,
    Deploy,
    Drill,
    Evidence,
    GateResult,
    OtherRelease,
    PromotionDecision,
    Release,
    ReleaseStatus,
    Severity,
    SignOff,
)

COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
OTHER_COMMIT = "ffffeeee0000111122223333444455556666aaaa"
CREATED = datetime(2026, 2, 23, 8, 0, tzinfo=UTC)
CHANGED = datetime(2026, 2, 26, 8, 0, tzinfo=UTC)  # the last content change
MONDAY_10_OSLO = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # CET is UTC+1


def _release(**fields: object) -> Release:
    base = Release(
        id=1,
        project="crm",
        key="checkout",
        title="One-page checkout",
        kind=ChangeKind.FEATURE,
        owner="alice",
        created_at=CREATED,
        content_changed_at=CHANGED,
        flags=("checkout-v2",),
        commit=COMMIT,
        branch="feature/checkout",
        rollback_plan="Disable checkout-v2; revert PR #12; tell #support.",
        stage="staging",
        content_version=2,
        authors=("alice",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _approval(
    who: str, stage: str = "production", version: int = 2, *roles: ApproverRole
) -> Approval:
    return Approval(
        who, frozenset(roles or {CODE_OWNER}), stage, CHANGED + timedelta(hours=1), version
    )


def _ready_for_production(**fields: object) -> Evidence:
    """Everything production asks for, for content version 2 of ``COMMIT``."""
    later = CHANGED + timedelta(hours=2)
    evidence = Evidence(
        approvals=(_approval("bob"), _approval("carol", "production", 2, RELEASE_MANAGER)),
        signoffs=(SignOff("qa", "staging", "quinn", later, 2),),
        ci=(CiResult(COMMIT, "tests", "success", later),),
        deploys=(Deploy("staging", COMMIT, later),),
        drills=(Drill("staging", later, True, 2, "flag off in 40 s"),),
    )
    return replace(evidence, **fields)  # type: ignore[arg-type]


def _decide(
    release: Release | None = None,
    target: str = "production",
    evidence: Evidence | None = None,
    others: tuple[OtherRelease, ...] = (),
    now: datetime = MONDAY_10_OSLO,
    policy: Policy = POLICY,
) -> PromotionDecision:
    return gates.evaluate_promotion(
        release or _release(),
        target,
        policy,
        _ready_for_production() if evidence is None else evidence,
        others,
        now,
    )


def _gate(decision: PromotionDecision, gate: str) -> GateResult:
    found = [g for g in decision.gates if g.gate == gate]
    assert len(found) == 1, f"{gate} in {[g.gate for g in decision.gates]}"
    return found[0]


# -- everything in place --------------------------------------------------------------------


def test_evaluate__production_with_all_evidence__allowed_with_one_result_per_gate() -> None:
    decision = _decide()

    assert decision.allowed, decision.unmet
    assert [g.gate for g in decision.gates] == [
        "status",
        "order",
        "one-feature-per-release",
        "approvals",
        "signoff:qa",
        "ci",
        "previous-deploy",
        "rollback-plan",
        "rollback-drill",
        "business-hours",
        "freeze",
        "one-feature-rolling-out",
    ]
    assert all(g.remedy is None for g in decision.gates)


def test_evaluate__refused__returns_every_unmet_gate_with_a_remedy() -> None:
    decision = _decide(_release(rollback_plan=None), evidence=Evidence())

    assert not decision.allowed
    assert {g.gate for g in decision.unmet} == {
        "approvals",
        "signoff:qa",
        "ci",
        "previous-deploy",
        "rollback-plan",
        "rollback-drill",
    }
    assert all(g.remedy for g in decision.unmet)


# -- status and order -----------------------------------------------------------------------


def test_order__new_release_to_the_first_environment__passes() -> None:
    decision = _decide(_release(stage=None), "dev")

    assert _gate(decision, "order") == GateResult(
        "order", True, "checkout is new → dev, the next environment"
    )


def test_order__skipping_staging__refused_with_the_next_environment() -> None:
    order = _gate(_decide(_release(stage="dev")), "order")

    assert not order.passed
    assert order.remedy == (
        "promote to staging first: `shipwise release promote checkout --env staging -p crm`"
    )


def test_order__backwards__refused() -> None:
    order = _gate(_decide(_release(stage="production"), "staging"), "order")

    assert order.detail == "staging comes before production: releases only move forward"
    assert order.remedy == "it is in the last environment"


def test_order__unknown_environment__refused_and_no_stage_gates_evaluated() -> None:
    decision = _decide(target="prod")

    assert [g.gate for g in decision.gates] == ["status", "order"]
    assert _gate(decision, "order") == GateResult(
        "order",
        False,
        "'prod' is not an environment of dev → staging → production",
        "promote to production: `shipwise release promote checkout --env production -p crm`",
    )


def test_status__released_release__refused() -> None:
    status = _gate(_decide(_release(status=ReleaseStatus.RELEASED)), "status")

    assert status.detail == "checkout is released"
    assert status.remedy is not None
    assert "create a new release" in status.remedy


# -- approvals ------------------------------------------------------------------------------


def test_production__with_one_approval__refused() -> None:
    evidence = _ready_for_production(approvals=(_approval("bob"),))

    approvals = _gate(_decide(evidence=evidence), "approvals")

    assert approvals == GateResult(
        "approvals",
        False,
        "1 approval for production (bob), 2 needed",
        "needs 1 more approval from a code-owner or release-manager other than "
        "alice (the author) and bob (already approved): "
        "`shipwise release approve checkout --env production -p crm`",
    )


def test_production__self_approval__not_counted() -> None:
    evidence = _ready_for_production(approvals=(_approval("alice"), _approval("bob")))

    decision = _decide(evidence=evidence)

    approvals = _gate(decision, "approvals")
    assert not decision.allowed
    assert approvals.detail == (
        "1 approval for production (bob), 2 needed; alice's own approval does not count: "
        "an author never approves their release"
    )


def test_approvals__co_author__cannot_approve_either() -> None:
    evidence = _ready_for_production(approvals=(_approval("bob"), _approval("dave")))

    approvals = _gate(_decide(_release(authors=("alice", "dave")), evidence=evidence), "approvals")

    assert not approvals.passed
    assert approvals.remedy == (
        "needs 1 more approval from a code-owner or release-manager other than "
        "alice and dave (the authors) and bob (already approved): "
        "`shipwise release approve checkout --env production -p crm`"
    )


def test_approvals__none_at_all__remedy_names_the_count_and_roles() -> None:
    approvals = _gate(_decide(evidence=_ready_for_production(approvals=())), "approvals")

    assert approvals.detail == "0 approvals for production, 2 needed"
    assert approvals.remedy == (
        "needs 2 more approvals from a code-owner or release-manager other than alice (the "
        "author): `shipwise release approve checkout --env production -p crm`"
    )


def test_approvals__same_person_twice__counts_once() -> None:
    evidence = _ready_for_production(approvals=(_approval("bob"), _approval("bob")))

    assert not _gate(_decide(evidence=evidence), "approvals").passed


def test_approvals__without_a_wanted_role__not_counted() -> None:
    evidence = _ready_for_production(
        approvals=(_approval("bob"), _approval("quinn", "production", 2, QA))
    )

    approvals = _gate(_decide(evidence=evidence), "approvals")

    assert not approvals.passed
    assert "quinn holds QA, not code-owner or release-manager" in approvals.detail


def test_approvals__person_on_the_policys_code_owner_list__counts_as_code_owner() -> None:
    evidence = _ready_for_production(
        approvals=(_approval("bob"), _approval("quinn", "production", 2, QA))
    )
    policy = replace(POLICY, code_owners=("quinn",))

    assert _gate(_decide(evidence=evidence, policy=policy), "approvals").passed


def test_approvals__given_for_another_environment__not_counted() -> None:
    evidence = _ready_for_production(approvals=(_approval("bob"), _approval("carol", "staging")))

    assert not _gate(_decide(evidence=evidence), "approvals").passed


def test_approvals__of_earlier_content__withdrawn() -> None:
    evidence = _ready_for_production(
        approvals=(_approval("bob"), _approval("carol", "production", 1))
    )

    approvals = _gate(_decide(evidence=evidence), "approvals")

    assert not approvals.passed
    assert "carol's approval of content version 1 was withdrawn when the release changed" in (
        approvals.detail
    )


# -- sign-off and checklist -----------------------------------------------------------------


def test_production__without_qa_signoff__refused() -> None:
    decision = _decide(evidence=_ready_for_production(signoffs=()))

    assert not decision.allowed
    assert _gate(decision, "signoff:qa") == GateResult(
        "signoff:qa",
        False,
        "no QA sign-off on staging for the current content",
        "needs QA to test staging and sign off content version 2, by someone other than "
        "alice: `shipwise release signoff checkout --env staging -p crm`",
    )


def test_signoff__of_earlier_content_or_by_the_author__not_counted() -> None:
    later = CHANGED + timedelta(hours=3)
    signoffs = (
        SignOff("qa", "staging", "quinn", later, 1),
        SignOff("qa", "staging", "alice", later, 2),
    )

    signoff = _gate(_decide(evidence=_ready_for_production(signoffs=signoffs)), "signoff:qa")

    assert not signoff.passed
    assert "quinn's sign-off of content version 1 was withdrawn" in signoff.detail
    assert "alice is an author and cannot sign off their own release" in signoff.detail


def test_signoff__on_another_environment__not_counted() -> None:
    signoffs = (SignOff("qa", "dev", "quinn", CHANGED + timedelta(hours=3), 2),)

    assert not _gate(
        _decide(evidence=_ready_for_production(signoffs=signoffs)), "signoff:qa"
    ).passed


def test_signoff__by_qa_on_staging__passes_and_names_who() -> None:
    signoff = _gate(_decide(), "signoff:qa")

    assert signoff == GateResult(
        "signoff:qa", True, "QA signed off on staging by quinn at Thu 2026-02-26 11:00 Europe/Oslo"
    )


def test_checklist__unchecked__refused_with_what_to_do() -> None:
    decision = _decide(_release(stage="dev"), "staging", Evidence())

    assert _gate(decision, "checklist:Dev testing done") == GateResult(
        "checklist:Dev testing done",
        False,
        "'Dev testing done' is not checked for staging",
        "someone checks 'Dev testing done' for staging, with a note of what they verified: "
        "`shipwise release check checkout 'Dev testing done' --env staging --note NOTE -p crm`",
    )


def test_checklist__checked_with_a_note__passes_showing_who_when_and_the_note() -> None:
    check = ChecklistCheck(
        "Dev testing done", "staging", "bob", MONDAY_10_OSLO, "smoke suite on DEV"
    )

    decision = _decide(_release(stage="dev"), "staging", Evidence(checks=(check,)))

    assert _gate(decision, "checklist:Dev testing done").detail == (
        "checked by bob at Mon 2026-03-02 10:00 Europe/Oslo: smoke suite on DEV"
    )


# -- CI and the previous environment --------------------------------------------------------


def _ci(*results: tuple[str, str, int], commit: str = COMMIT) -> Evidence:
    """(context, state, minutes after the change) for ``commit``."""
    return _ready_for_production(
        ci=tuple(CiResult(commit, c, s, CHANGED + timedelta(minutes=m)) for c, s, m in results)
    )


@pytest.mark.parametrize(
    ("results", "passed"),
    [
        pytest.param([("tests", "success", 1)], True, id="one-success"),
        pytest.param([("tests", "failure", 1), ("tests", "success", 2)], True, id="fixed-by-rerun"),
        pytest.param([("tests", "success", 1), ("tests", "failure", 2)], False, id="failed-after"),
        pytest.param(
            [("tests", "success", 1), ("lint", "error", 2)], False, id="other-check-error"
        ),
        pytest.param([("tests", "success", 1), ("tests", "pending", 2)], True, id="rerun-pending"),
        pytest.param([("tests", "pending", 1)], False, id="only-pending"),
        pytest.param([], False, id="no-results"),
    ],
)
def test_ci__commit_green__at_least_one_success_and_no_newer_failure(
    results: list[tuple[str, str, int]], passed: bool
) -> None:
    assert _gate(_decide(evidence=_ci(*results)), "ci").passed is passed


def test_ci__failure_newer_than_success__names_the_check_and_what_to_do() -> None:
    ci = _gate(_decide(evidence=_ci(("tests", "success", 1), ("tests", "failure", 2))), "ci")

    assert ci == GateResult(
        "ci",
        False,
        "a1b2c3d4e5f6 is red in CI: tests failure at Thu 2026-02-26 09:02 Europe/Oslo",
        "fix tests on a1b2c3d4e5f6 and re-run until green, reported by: `shipwise ci report "
        f"--ref {COMMIT} --context tests --state success -p crm`",
    )


def test_ci__green_for_another_commit__does_not_count() -> None:
    ci = _gate(_decide(evidence=_ci(("tests", "success", 1), commit=OTHER_COMMIT)), "ci")

    assert ci == GateResult(
        "ci",
        False,
        "no CI result for a1b2c3d4e5f6",
        "run CI on a1b2c3d4e5f6 and report it green: `shipwise ci report "
        f"--ref {COMMIT} --context tests --state success -p crm`",
    )


def test_ci__release_without_a_commit__refused() -> None:
    ci = _gate(_decide(_release(commit=None)), "ci")

    assert ci.detail == "the release has no commit recorded"


def test_production__without_staging_deploy_of_the_same_commit__refused() -> None:
    deploys = (Deploy("staging", OTHER_COMMIT, CHANGED + timedelta(hours=1)),)

    decision = _decide(evidence=_ready_for_production(deploys=deploys))

    assert not decision.allowed
    assert _gate(decision, "previous-deploy") == GateResult(
        "previous-deploy",
        False,
        "staging runs ffffeeee0000 (deployed at Thu 2026-02-26 10:00 Europe/Oslo), "
        "not a1b2c3d4e5f6",
        "deploy a1b2c3d4e5f6 to staging and test it there first: "
        f"`shipwise deploy report --env staging --ref {COMMIT} -p crm`",
    )


def test_previous_deploy__same_commit_to_another_environment__does_not_count() -> None:
    deploys = (Deploy("dev", COMMIT, CHANGED),)

    previous = _gate(_decide(evidence=_ready_for_production(deploys=deploys)), "previous-deploy")

    assert previous.detail == "nothing has been deployed to staging"


def test_previous_deploy__failed_deploy_of_the_commit__does_not_count() -> None:
    deploys = (Deploy("staging", COMMIT, CHANGED, succeeded=False),)

    previous = _gate(_decide(evidence=_ready_for_production(deploys=deploys)), "previous-deploy")

    assert not previous.passed
    assert previous.detail.startswith("deploying a1b2c3d4e5f6 to staging failed")


def test_previous_deploy__commit_ran_in_staging_earlier__passes() -> None:
    deploys = (
        Deploy("staging", COMMIT, CHANGED + timedelta(hours=1)),
        Deploy("staging", OTHER_COMMIT, CHANGED + timedelta(hours=2)),
    )

    assert _gate(_decide(evidence=_ready_for_production(deploys=deploys)), "previous-deploy").passed


# -- rollback -------------------------------------------------------------------------------


def test_rollback_plan__missing__refused_with_what_to_write() -> None:
    plan = _gate(_decide(_release(rollback_plan="   ")), "rollback-plan")

    assert plan == GateResult(
        "rollback-plan",
        False,
        "no rollback plan written",
        "write the rollback plan (how to disable checkout-v2, how to revert the code, "
        "and who to notify): "
        "`shipwise release update checkout --rollback-plan @rollback.md -p crm`",
    )


def test_production__without_rehearsed_rollback__refused() -> None:
    drills = (Drill("staging", CHANGED - timedelta(days=1), True, 2),)  # before the change

    decision = _decide(evidence=_ready_for_production(drills=drills))

    assert not decision.allowed
    assert _gate(decision, "rollback-drill") == GateResult(
        "rollback-drill",
        False,
        "the last rollback drill in staging (Wed 2026-02-25 09:00 Europe/Oslo) predates the "
        "change at Thu 2026-02-26 09:00 Europe/Oslo (content version 2)",
        "rehearse the rollback plan in staging, which records the drill: "
        "`shipwise rollback checkout --drill --env staging -p crm`",
    )


@pytest.mark.parametrize(
    "drills",
    [
        pytest.param((), id="never"),
        pytest.param((Drill("staging", CHANGED + timedelta(hours=1), True, 1),), id="old-content"),
        pytest.param((Drill("dev", CHANGED + timedelta(hours=1), True, 2),), id="in-dev"),
        pytest.param((Drill("staging", CHANGED + timedelta(hours=1), False, 2),), id="failed"),
        pytest.param(
            (
                Drill("staging", CHANGED + timedelta(hours=1), True, 2),
                Drill("staging", CHANGED + timedelta(hours=2), False, 2, "flag stuck on"),
            ),
            id="last-one-failed",
        ),
    ],
)
def test_rollback_drill__not_rehearsed_for_this_content__refused(drills: tuple[Drill, ...]) -> None:
    drill = _gate(_decide(evidence=_ready_for_production(drills=drills)), "rollback-drill")

    assert not drill.passed
    assert drill.remedy is not None
    assert "rehearse the rollback plan in staging" in drill.remedy


def test_rollback_drill__rehearsed_since_the_change__passes_with_its_note() -> None:
    drill = _gate(_decide(), "rollback-drill")

    assert (
        drill.detail == "rehearsed in staging at Thu 2026-02-26 11:00 Europe/Oslo: flag off in 40 s"
    )


# -- business hours (Europe/Oslo; `now` in UTC) ---------------------------------------------


@pytest.mark.parametrize(
    ("now", "passed"),
    [
        pytest.param(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), True, id="mon-09:00-cet"),
        pytest.param(datetime(2026, 3, 2, 7, 59, tzinfo=UTC), False, id="mon-08:59-cet"),
        pytest.param(datetime(2026, 3, 2, 15, 59, tzinfo=UTC), True, id="mon-16:59-cet"),
        pytest.param(datetime(2026, 3, 2, 16, 0, tzinfo=UTC), False, id="mon-17:00-exactly-cet"),
        pytest.param(datetime(2026, 6, 15, 7, 0, tzinfo=UTC), True, id="mon-09:00-cest"),
        pytest.param(datetime(2026, 6, 15, 6, 59, tzinfo=UTC), False, id="mon-08:59-cest"),
        pytest.param(datetime(2026, 6, 15, 15, 0, tzinfo=UTC), False, id="mon-17:00-exactly-cest"),
        pytest.param(datetime(2026, 3, 7, 10, 0, tzinfo=UTC), False, id="saturday"),
        pytest.param(datetime(2026, 3, 8, 10, 0, tzinfo=UTC), False, id="sunday"),
        pytest.param(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), False, id="fri-utc-is-sat-in-oslo"),
    ],
)
def test_production__outside_business_hours__refused(now: datetime, passed: bool) -> None:
    assert _gate(_decide(now=now), "business-hours").passed is passed


def test_business_hours__17_00_exactly__refused_naming_the_next_window() -> None:
    hours = _gate(_decide(now=datetime(2026, 3, 6, 16, 0, tzinfo=UTC)), "business-hours")

    assert hours == GateResult(
        "business-hours",
        False,
        "Fri 2026-03-06 17:00 Europe/Oslo is outside business hours "
        "(Mon-Fri 09:00-17:00 Europe/Oslo)",
        "promote within business hours (Mon-Fri 09:00-17:00 Europe/Oslo); "
        "the next window opens Mon 2026-03-09 09:00 Europe/Oslo: "
        "`shipwise release promote checkout --env production -p crm`",
    )


def test_business_hours__early_morning__next_window_opens_the_same_day() -> None:
    hours = _gate(_decide(now=datetime(2026, 3, 3, 5, 0, tzinfo=UTC)), "business-hours")

    assert hours.remedy is not None
    assert "the next window opens Tue 2026-03-03 09:00 Europe/Oslo: " in hours.remedy


def test_business_hours__only_on_stages_that_ask() -> None:
    decision = _decide(_release(stage="dev"), "staging", now=datetime(2026, 3, 7, 22, tzinfo=UTC))

    assert "business-hours" not in {g.gate for g in decision.gates}


def test_evaluate__naive_now__is_misuse() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _decide(now=datetime(2026, 3, 2, 10, 0))


def test_evaluate__unknown_policy_time_zone__names_it() -> None:
    with pytest.raises(ValueError, match="'Europe/Olso' is not a known time zone"):
        _decide(policy=replace(POLICY, timezone="Europe/Olso"))


# -- freezes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "passed"),
    [
        pytest.param(datetime(2026, 12, 18, 9, 0, tzinfo=UTC), True, id="friday-before"),
        pytest.param(datetime(2026, 12, 21, 9, 0, tzinfo=UTC), False, id="first-day"),
        pytest.param(datetime(2026, 12, 28, 9, 0, tzinfo=UTC), False, id="middle"),
        pytest.param(datetime(2027, 1, 1, 9, 0, tzinfo=UTC), False, id="last-day"),
        pytest.param(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), True, id="monday-after"),
        pytest.param(
            datetime(2026, 12, 20, 23, 30, tzinfo=UTC), False, id="utc-day-before-oslo-first"
        ),
        pytest.param(datetime(2027, 1, 1, 23, 30, tzinfo=UTC), True, id="utc-last-day-oslo-after"),
    ],
)
def test_production__during_a_freeze__refused(now: datetime, passed: bool) -> None:
    assert _gate(_decide(now=now), "freeze").passed is passed


def test_freeze__refusal__says_which_freeze_and_when_promotions_reopen() -> None:
    freeze = _gate(_decide(now=datetime(2026, 12, 21, 9, 0, tzinfo=UTC)), "freeze")

    assert freeze == GateResult(
        "freeze",
        False,
        "2026-12-21 is in the freeze 'Christmas' (2026-12-21 to 2027-01-01)",
        "wait for the freeze to end: promotions reopen on 2027-01-02, "
        "then: `shipwise release promote checkout --env production -p crm`",
    )


def test_freeze__back_to_back_freezes__reopen_after_the_last() -> None:
    policy = replace(
        POLICY, freezes=(*POLICY.freezes, Freeze("Inventory", date(2027, 1, 2), date(2027, 1, 6)))
    )

    freeze = _gate(_decide(now=datetime(2026, 12, 30, 9, 0, tzinfo=UTC), policy=policy), "freeze")

    assert freeze.remedy is not None
    assert freeze.remedy.startswith("wait for the freeze to end: promotions reopen on 2027-01-07")


def test_freeze__none_active__mentions_the_next_one() -> None:
    assert (
        _gate(_decide(), "freeze").detail
        == "no freeze on 2026-03-02; next: 'Christmas' from 2026-12-21"
    )


# -- one feature ----------------------------------------------------------------------------


def _rolling(
    key: str, kind: ChangeKind = ChangeKind.FEATURE, where: str = "production"
) -> OtherRelease:
    return OtherRelease(key, kind, ReleaseStatus.IN_PROGRESS, frozenset({where}))


def test_production__second_feature_rolling_out_at_the_same_time__refused() -> None:
    decision = _decide(others=(_rolling("search"),))

    assert not decision.allowed
    assert _gate(decision, "one-feature-rolling-out") == GateResult(
        "one-feature-rolling-out",
        False,
        "search is rolling out in production (at most 1 feature rollout at a time)",
        "wait until search finishes rolling out in production (released or rolled back; "
        "`shipwise rollout list --env production --active -p crm`), then promote: "
        "`shipwise release promote checkout --env production -p crm`",
    )


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(_rolling("login-fix", ChangeKind.BUGFIX), id="a-bugfix"),
        pytest.param(_rolling("search", where="staging"), id="in-another-environment"),
        pytest.param(_rolling("checkout"), id="itself"),
    ],
)
def test_one_feature_rolling_out__no_other_feature_there__passes(other: OtherRelease) -> None:
    assert _gate(_decide(others=(other,)), "one-feature-rolling-out").passed


def test_one_feature_rolling_out__limit_is_configurable() -> None:
    policy = replace(POLICY, max_feature_rollouts=2)

    two = _decide(others=(_rolling("search"),), policy=policy)
    three = _decide(others=(_rolling("search"), _rolling("export")), policy=policy)

    assert _gate(two, "one-feature-rolling-out").passed
    assert not _gate(three, "one-feature-rolling-out").passed


def test_one_feature_rolling_out__a_bugfix_is_not_held_back() -> None:
    bugfix = _release(kind=ChangeKind.BUGFIX, severity=Severity.HIGH, flags=())

    gate = _gate(_decide(bugfix, others=(_rolling("search"),)), "one-feature-rolling-out")

    assert gate == GateResult("one-feature-rolling-out", True, "a bugfix is not a feature rollout")


def test_one_feature_per_release__two_flags__refused() -> None:
    gate = _gate(_decide(_release(flags=("checkout-v2", "wallet"))), "one-feature-per-release")

    assert gate == GateResult(
        "one-feature-per-release",
        False,
        "checkout carries 2 feature flags: checkout-v2 and wallet",
        "split it: keep one of checkout-v2 and wallet here (`shipwise release update checkout "
        "--flag checkout-v2 -p crm`), each other in its own release (`shipwise release create "
        "TITLE --flag wallet -p crm`)",
    )


def test_one_feature_per_release__off_in_the_policy__no_gate() -> None:
    decision = _decide(policy=replace(POLICY, one_feature_per_release=False))

    assert "one-feature-per-release" not in {g.gate for g in decision.gates}


# -- the next promotions, descriptions, fix-by ----------------------------------------------


def test_release_gates__the_next_promotion_only() -> None:
    decisions = gates.release_gates(_release(stage="dev"), POLICY, Evidence(), (), MONDAY_10_OSLO)

    assert list(decisions) == ["staging"]


def test_release_gates__eligible_hotfix__also_offers_the_hotfix_path() -> None:
    hotfix = _release(stage=None, kind=ChangeKind.HOTFIX, severity=Severity.CRITICAL, branch="main")

    decisions = gates.release_gates(hotfix, POLICY, Evidence(), (), MONDAY_10_OSLO)

    assert list(decisions) == ["dev", "production"]
    assert gates.HOTFIX_PATH in {g.gate for g in decisions["production"].gates}


@pytest.mark.parametrize(
    "release",
    [
        pytest.param(_release(stage="production"), id="in-the-last-environment"),
        pytest.param(_release(status=ReleaseStatus.ABANDONED), id="abandoned"),
    ],
)
def test_release_gates__nothing_ahead__empty(release: Release) -> None:
    assert gates.release_gates(release, POLICY, Evidence(), (), MONDAY_10_OSLO) == {}


def test_describe_gates__lists_what_production_asks_for() -> None:
    described = dict(gates.describe_gates(_release(), "production", POLICY))

    assert list(described) == [g.gate for g in _decide().gates][2:]
    assert described["approvals"] == (
        "2 approvals from a code-owner or release-manager, none of them an author"
    )
    assert described["business-hours"] == "during business hours (Mon-Fri 09:00-17:00 Europe/Oslo)"


@pytest.mark.parametrize(
    ("gate", "label"),
    [("signoff:qa", "QA sign-off"), ("checklist:Smoke test", "Smoke test"), ("ci", "CI green")],
)
def test_gate_label__ids_in_words(gate: str, label: str) -> None:
    assert gates.gate_label(gate) == label


@pytest.mark.parametrize(
    ("severity", "due"),
    [
        pytest.param(Severity.CRITICAL, CREATED, id="critical-now"),
        pytest.param(Severity.HIGH, CREATED + timedelta(hours=24), id="high-24h"),
        pytest.param(Severity.MEDIUM, CREATED + timedelta(days=7), id="medium-week"),
        pytest.param(Severity.LOW, None, id="low-when-convenient"),
        pytest.param(None, None, id="feature"),
    ],
)
def test_fix_by__from_the_severity(severity: Severity | None, due: datetime | None) -> None:
    assert gates.fix_by(_release(severity=severity), POLICY) == due


def test_is_overdue__high_bug_after_24_hours_until_released() -> None:
    bug = _release(kind=ChangeKind.BUGFIX, severity=Severity.HIGH)
    day_later = CREATED + timedelta(hours=24)

    assert not gates.is_overdue(bug, POLICY, day_later)
    assert gates.is_overdue(bug, POLICY, day_later + timedelta(seconds=1))
    released = replace(bug, status=ReleaseStatus.RELEASED)
    assert not gates.is_overdue(released, POLICY, day_later + timedelta(days=1))
