"""``release_flow``: promotions applied from the gates' decisions, content changes that
withdraw approvals, the end states, and the hotfix path."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.domain.example_policy import CODE_OWNER, POLICY, RELEASE_MANAGER

from shipwise.domain import gates, release_flow
from shipwise.domain.policy_model import HotfixPolicy
from shipwise.domain.release_flow import TransitionRefused
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
    PromotionDecision,
    PullRequest,
    Release,
    ReleaseStatus,
    Severity,
    SignOff,
)

COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
FIX_COMMIT = "0badc0de0badc0de0badc0de0badc0de0badc0de"
NEW_COMMIT = "c0ffee10" * 5
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Oslo
SATURDAY_NIGHT = datetime(2026, 3, 7, 22, 0, tzinfo=UTC)
CHRISTMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


def _feature(**fields: object) -> Release:
    base = Release(
        id=1,
        project="crm",
        key="checkout",
        title="One-page checkout",
        kind=ChangeKind.FEATURE,
        owner="alice",
        created_at=START,
        content_changed_at=START,
        flags=("checkout-v2",),
        commit=COMMIT,
        branch="feature/checkout",
        pull_requests=(PullRequest(12, "One-page checkout"),),
        rollback_plan="Disable checkout-v2; revert PR #12; tell #support.",
        authors=("alice",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _hotfix(**fields: object) -> Release:
    base = Release(
        id=2,
        project="crm",
        key="login-crash",
        title="Login crashes for SSO users",
        kind=ChangeKind.BUGFIX,
        owner="dave",
        created_at=START,
        content_changed_at=START,
        severity=Severity.CRITICAL,
        commit=FIX_COMMIT,
        branch="main",
        justification="Every SSO login crashes since 21:40; 30% of users are locked out.",
        authors=("dave",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _approve(who: str, stage: str, version: int = 1, role: ApproverRole = CODE_OWNER) -> Approval:
    return Approval(who, frozenset({role}), stage, START, version)


def _green(commit: str = COMMIT) -> CiResult:
    return CiResult(commit, "tests", "success", START)


def _hotfix_evidence(*approvers: str) -> Evidence:
    approvals = tuple(_approve(a, "production", role=RELEASE_MANAGER) for a in approvers)
    return Evidence(approvals=approvals, ci=(_green(FIX_COMMIT),))


def _gate(decision: PromotionDecision, gate: str) -> GateResult:
    return next(g for g in decision.gates if g.gate == gate)


# -- the happy walk -------------------------------------------------------------------------


def test_walk__dev_staging_production_with_right_evidence__ends_in_production() -> None:
    release = _feature()
    evidence = Evidence(approvals=(_approve("bob", "dev"),), ci=(_green(),))

    # Given a code owner's approval and green CI, Then it goes to dev.
    to_dev = gates.evaluate_promotion(release, "dev", POLICY, evidence, (), START)
    assert to_dev.allowed, to_dev.unmet
    release = release_flow.promote(release, to_dev, START)
    assert release.stage == "dev"

    # Given it was deployed to dev, tested there and approved, Then it goes to staging.
    evidence = replace(
        evidence,
        approvals=(*evidence.approvals, _approve("carol", "staging")),
        deploys=(Deploy("dev", COMMIT, START + timedelta(minutes=5)),),
        checks=(ChecklistCheck("Dev testing done", "staging", "bob", START, "smoke suite"),),
    )
    to_staging = gates.evaluate_promotion(release, "staging", POLICY, evidence, (), START)
    assert to_staging.allowed, to_staging.unmet
    release = release_flow.promote(release, to_staging, START)
    assert release.stage == "staging"

    # Given QA signed off staging, the rollback was rehearsed there and two reviewers
    # approved, Then it goes to production on a weekday afternoon.
    afternoon = START + timedelta(hours=5)
    evidence = replace(
        evidence,
        approvals=(
            *evidence.approvals,
            _approve("bob", "production"),
            _approve("erin", "production", role=RELEASE_MANAGER),
        ),
        deploys=(*evidence.deploys, Deploy("staging", COMMIT, START + timedelta(hours=1))),
        signoffs=(SignOff("qa", "staging", "quinn", START + timedelta(hours=3), 1),),
        drills=(Drill("staging", START + timedelta(hours=4), True, 1, "flag off, 40 s"),),
    )
    to_production = gates.evaluate_promotion(release, "production", POLICY, evidence, (), afternoon)
    assert to_production.allowed, to_production.unmet
    release = release_flow.promote(release, to_production, afternoon)

    # Then it is in production, still in progress: its rollout comes next.
    assert release.stage == "production"
    assert release.status is ReleaseStatus.IN_PROGRESS
    assert gates.release_gates(release, POLICY, evidence, (), afternoon) == {}
    assert release_flow.mark_released(release, POLICY, afternoon).status is ReleaseStatus.RELEASED


# -- promote --------------------------------------------------------------------------------


def test_promote__refused_decision__raises_with_every_remedy_and_changes_nothing() -> None:
    release = _feature()
    decision = gates.evaluate_promotion(release, "dev", POLICY, Evidence(), (), START)

    with pytest.raises(TransitionRefused) as refused:
        release_flow.promote(release, decision, START)

    assert str(refused.value) == (
        "checkout cannot go to dev: approvals: needs 1 more approval from a code-owner "
        "other than alice (the author): `shipwise release approve checkout --env dev -p crm`; "
        "ci: run CI on a1b2c3d4e5f6 and report it green: `shipwise ci report "
        f"--ref {release.commit} --context tests --state success -p crm`"
    )
    assert release.stage is None


def test_promote__decision_about_another_release__refused() -> None:
    decision = PromotionDecision("search", "dev", (GateResult("status", True, "in progress"),))

    with pytest.raises(TransitionRefused, match="the decision is for search, not checkout"):
        release_flow.promote(_feature(), decision, START)


@pytest.mark.parametrize("status", [s for s in ReleaseStatus if s is not ReleaseStatus.IN_PROGRESS])
def test_promote__release_no_longer_in_progress__refused(status: ReleaseStatus) -> None:
    decision = PromotionDecision("checkout", "dev", ())

    with pytest.raises(TransitionRefused, match=f"checkout is {status.value}"):
        release_flow.promote(_feature(status=status), decision, START)


def test_promote__naive_now__is_misuse() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        release_flow.promote(
            _feature(), PromotionDecision("checkout", "dev", ()), datetime(2026, 3, 2)
        )


# -- end states -----------------------------------------------------------------------------


def test_mark_released__before_the_last_environment__refused() -> None:
    with pytest.raises(TransitionRefused, match="checkout is in staging: it is released only"):
        release_flow.mark_released(_feature(stage="staging"), POLICY, START)


def test_mark_rolled_back__from_in_progress_or_released() -> None:
    in_production = _feature(stage="production")
    released = replace(in_production, status=ReleaseStatus.RELEASED)

    for release in (in_production, released):
        rolled_back = release_flow.mark_rolled_back(release, START)
        assert rolled_back.status is ReleaseStatus.ROLLED_BACK
        assert rolled_back.stage == "production"


def test_mark_rolled_back__never_deployed__refused_suggesting_abandon() -> None:
    with pytest.raises(TransitionRefused, match="nothing to roll back; abandon it instead"):
        release_flow.mark_rolled_back(_feature(), START)


def test_abandon__in_progress__abandoned() -> None:
    assert release_flow.abandon(_feature(), START).status is ReleaseStatus.ABANDONED


@pytest.mark.parametrize(
    ("transition", "status"),
    [
        pytest.param(release_flow.abandon, ReleaseStatus.RELEASED, id="abandon-released"),
        pytest.param(release_flow.abandon, ReleaseStatus.ROLLED_BACK, id="abandon-rolled-back"),
        pytest.param(
            release_flow.mark_rolled_back, ReleaseStatus.ABANDONED, id="roll-back-abandoned"
        ),
        pytest.param(
            release_flow.mark_rolled_back, ReleaseStatus.ROLLED_BACK, id="roll-back-twice"
        ),
    ],
)
def test_end_states__from_the_wrong_status__refused(
    transition: object, status: ReleaseStatus
) -> None:
    release = _feature(stage="production", status=status)

    with pytest.raises(TransitionRefused, match=f"checkout is {status.value}: only a release"):
        transition(release, START)  # type: ignore[operator]


# -- content changes ------------------------------------------------------------------------


def test_change_content__approvals_withdrawn_when_the_release_changes() -> None:
    # Given production approvals for version 1 of the content
    release = _feature(stage="staging")
    approvals = (_approve("bob", "production"), _approve("erin", "production"))
    evidence = Evidence(approvals=approvals)
    before = gates.evaluate_promotion(release, "production", POLICY, evidence, (), START)
    assert _gate(before, "approvals").passed

    # When the commit changes
    changed = release_flow.change_content(
        release, now=START + timedelta(hours=1), commit=NEW_COMMIT
    )

    # Then they no longer count
    after = gates.evaluate_promotion(changed, "production", POLICY, evidence, (), START)
    approval_gate = _gate(after, "approvals")
    assert not approval_gate.passed
    assert "bob's approval of content version 1 was withdrawn when the release changed" in (
        approval_gate.detail
    )
    assert approval_gate.remedy == (
        "needs 2 more approvals from a code-owner or release-manager other than alice (the "
        "author): `shipwise release approve checkout --env production -p crm`"
    )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"commit": NEW_COMMIT}, id="commit"),
        pytest.param({"flags": ["checkout-v3"]}, id="flags"),
        pytest.param({"pull_requests": [PullRequest(12), PullRequest(14)]}, id="pull-requests"),
        pytest.param({"rollback_plan": "Disable the flag."}, id="rollback-plan"),
        pytest.param({"communication_plan": "Post in #releases."}, id="communication-plan"),
    ],
)
def test_change_content__content_changed__bumps_version_and_time(
    changes: dict[str, object],
) -> None:
    later = START + timedelta(hours=2)

    changed = release_flow.change_content(_feature(), now=later, **changes)  # type: ignore[arg-type]

    assert (changed.content_version, changed.content_changed_at) == (2, later)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"commit": COMMIT.upper()}, id="same-commit"),
        pytest.param({"flags": ["checkout-v2", "checkout-v2"]}, id="same-flags"),
        pytest.param({"pull_requests": [PullRequest(12, merged=True)]}, id="same-pr-merged"),
        pytest.param(
            {"rollback_plan": "  Disable checkout-v2; revert PR #12; tell #support.\n"},
            id="same-plan",
        ),
        pytest.param({"communication_plan": "   "}, id="blank-plan-is-none"),
    ],
)
def test_change_content__nothing_actually_changed__no_bump(changes: dict[str, object]) -> None:
    release = _feature()

    changed = release_flow.change_content(release, now=START + timedelta(hours=2), **changes)  # type: ignore[arg-type]

    assert (changed.content_version, changed.content_changed_at) == (1, START)


def test_change_content__title_and_justification__words_only_no_bump() -> None:
    changed = release_flow.change_content(
        _feature(), now=START + timedelta(hours=1), title="Checkout on one page", justification="x"
    )

    assert (changed.title, changed.justification, changed.content_version) == (
        "Checkout on one page",
        "x",
        1,
    )


def test_change_content__clock_behind_the_last_change__time_never_goes_back() -> None:
    release = _feature(content_changed_at=START + timedelta(hours=1))

    changed = release_flow.change_content(release, now=START, commit=NEW_COMMIT)

    assert changed.content_changed_at == START + timedelta(hours=1)


def test_change_content__released_release__refused() -> None:
    with pytest.raises(TransitionRefused, match="checkout is released: only a release that is"):
        release_flow.change_content(
            _feature(status=ReleaseStatus.RELEASED), now=START, commit=NEW_COMMIT
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"flags": ["Checkout V2"]},
            "'Checkout V2' is not a valid flag key: ' ' at position 9 is not allowed",
            id="flag",
        ),
        pytest.param({"title": "  "}, "a release needs a title", id="title"),
    ],
)
def test_change_content__bad_input__names_the_culprit(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        release_flow.change_content(_feature(), now=START, **changes)  # type: ignore[arg-type]


# -- the hotfix path ------------------------------------------------------------------------


def test_hotfix__critical_from_main_two_approvals_and_justification__goes_to_production() -> None:
    release = _hotfix()

    hotfix = release_flow.hotfix_decision(release, POLICY, _hotfix_evidence("erin", "frank"), START)

    assert hotfix.allowed, hotfix.decision.unmet
    assert hotfix.decision.target == "production"
    assert hotfix.effects == release_flow.HotfixEffects(
        label="HOTFIX",
        notify_team=True,
        close_monitoring=True,
        skipped=("dev", "staging"),
        bypassed=(),
    )
    promoted = release_flow.promote(release, hotfix, START)
    assert (promoted.stage, promoted.labels, promoted.status) == (
        "production",
        ("HOTFIX",),
        ReleaseStatus.IN_PROGRESS,
    )


def test_hotfix__gates_are_eligibility_justification_approvals_and_ci() -> None:
    hotfix = release_flow.hotfix_decision(
        _hotfix(), POLICY, _hotfix_evidence("erin", "frank"), START
    )

    assert [g.gate for g in hotfix.decision.gates] == [
        "status",
        gates.HOTFIX_PATH,
        "order",
        "justification",
        "approvals",
        "ci",
        "business-hours",
        "freeze",
    ]
    assert _gate(hotfix.decision, gates.HOTFIX_PATH).detail == (
        "a critical bugfix based on main: the hotfix path goes straight to production, "
        "skipping dev and staging"
    )


def test_hotfix__without_justification__refused() -> None:
    hotfix = release_flow.hotfix_decision(
        _hotfix(justification="  "), POLICY, _hotfix_evidence("erin", "frank"), START
    )

    assert not hotfix.allowed
    assert hotfix.decision.unmet == (
        GateResult(
            "justification",
            False,
            "no justification written for skipping the pipeline",
            "write why this cannot wait for the normal path (what is broken, for whom, since "
            "when): `shipwise release update login-crash --justification @why.md -p crm`",
            hotfix_path=True,
        ),
    )
    assert not hotfix.effects.notify_team
    assert not hotfix.effects.close_monitoring


def test_hotfix__medium_bug__refused_pointing_to_the_normal_path() -> None:
    hotfix = release_flow.hotfix_decision(
        _hotfix(severity=Severity.MEDIUM), POLICY, _hotfix_evidence("erin", "frank"), START
    )

    assert hotfix.decision.unmet == (
        GateResult(
            gates.HOTFIX_PATH,
            False,
            "severity medium is not critical",
            "take the normal path: `shipwise release promote login-crash --env dev -p crm`",
            hotfix_path=True,
        ),
    )


def test_hotfix__from_another_branch__refused_suggesting_to_branch_from_main() -> None:
    hotfix = release_flow.hotfix_decision(
        _hotfix(branch="dev"), POLICY, _hotfix_evidence("erin", "frank"), START
    )

    assert hotfix.decision.unmet == (
        GateResult(
            gates.HOTFIX_PATH,
            False,
            "it is based on dev, not main",
            "branch the fix from main (`shipwise release update login-crash --branch main -p "
            "crm`), or take the normal path: "
            "`shipwise release promote login-crash --env dev -p crm`",
            hotfix_path=True,
        ),
    )


def test_hotfix__one_approval__refused() -> None:
    hotfix = release_flow.hotfix_decision(_hotfix(), POLICY, _hotfix_evidence("erin"), START)

    assert [g.gate for g in hotfix.decision.unmet] == ["approvals"]
    assert _gate(hotfix.decision, "approvals").remedy == (
        "needs 1 more approval from a code-owner or release-manager other than dave (the author) "
        "and erin (already approved): "
        "`shipwise release approve login-crash --env production -p crm`"
    )


def test_hotfix__self_approval__not_counted() -> None:
    hotfix = release_flow.hotfix_decision(
        _hotfix(), POLICY, _hotfix_evidence("dave", "erin"), START
    )

    assert not hotfix.allowed


def test_hotfix__ci_red__refused() -> None:
    evidence = replace(
        _hotfix_evidence("erin", "frank"),
        ci=(
            _green(FIX_COMMIT),
            CiResult(FIX_COMMIT, "tests", "failure", START + timedelta(minutes=1)),
        ),
    )

    hotfix = release_flow.hotfix_decision(_hotfix(), POLICY, evidence, START)

    assert [g.gate for g in hotfix.decision.unmet] == ["ci"]


@pytest.mark.parametrize(
    ("now", "bypassed"),
    [
        pytest.param(SATURDAY_NIGHT, ("business-hours",), id="saturday-night"),
        pytest.param(CHRISTMAS_EVE, ("freeze",), id="christmas-freeze"),
    ],
)
def test_hotfix__outside_business_hours_or_in_a_freeze__goes_through_and_records_it(
    now: datetime, bypassed: tuple[str, ...]
) -> None:
    hotfix = release_flow.hotfix_decision(_hotfix(), POLICY, _hotfix_evidence("erin", "frank"), now)

    assert hotfix.allowed
    assert hotfix.effects.bypassed == bypassed
    assert _gate(hotfix.decision, bypassed[0]).detail.startswith("bypassed by the hotfix path: ")


def test_hotfix__evaluate_promotion_to_production__takes_the_hotfix_path() -> None:
    decision = gates.evaluate_promotion(
        _hotfix(), "production", POLICY, _hotfix_evidence("erin", "frank"), (), START
    )

    assert decision.allowed
    assert release_flow.is_hotfix_path(decision)


def test_hotfix__bare_promotion_decision__refused_so_effects_are_not_forgotten() -> None:
    decision = gates.evaluate_promotion(
        _hotfix(), "production", POLICY, _hotfix_evidence("erin", "frank"), (), START
    )

    with pytest.raises(TransitionRefused, match="promote it with hotfix_decision"):
        release_flow.promote(_hotfix(), decision, START)


def test_hotfix__eligible_release_to_dev__takes_the_normal_path() -> None:
    decision = gates.evaluate_promotion(_hotfix(), "dev", POLICY, Evidence(), (), START)

    assert not release_flow.is_hotfix_path(decision)
    assert "approvals" in {g.gate for g in decision.gates}


@pytest.mark.parametrize(
    ("changes", "eligible"),
    [
        pytest.param({}, True, id="critical-bugfix-from-main"),
        pytest.param({"kind": ChangeKind.HOTFIX}, True, id="critical-hotfix-from-main"),
        pytest.param({"severity": Severity.HIGH}, False, id="high"),
        pytest.param({"severity": None}, False, id="no-severity"),
        pytest.param({"kind": ChangeKind.FEATURE}, False, id="feature"),
        pytest.param({"branch": "hotfix/login"}, False, id="other-branch"),
    ],
)
def test_is_hotfix_eligible(changes: dict[str, object], eligible: bool) -> None:
    assert release_flow.is_hotfix_eligible(_hotfix(**changes), POLICY) is eligible


def test_is_hotfix_eligible__policy_may_rush_high_bugs_too() -> None:
    policy = replace(
        POLICY, hotfix=HotfixPolicy(severities=frozenset({Severity.CRITICAL, Severity.HIGH}))
    )

    assert release_flow.is_hotfix_eligible(_hotfix(severity=Severity.HIGH), policy)
