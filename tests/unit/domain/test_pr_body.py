"""``render_pr_body``: the Markdown a team pastes into the pull request."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shipwise.domain import gates
from shipwise.domain.policy_model import ApprovalRule, Policy, StageGates
from shipwise.domain.pr_body import render_pr_body
from shipwise.domain.releases import (
    Approval,
    ApproverRole,
    ChangeKind,
    CiResult,
    Evidence,
    PullRequest,
    Release,
    ReleaseStatus,
    Severity,
)

REVIEWERS = frozenset({ApproverRole.CODE_OWNER, ApproverRole.RELEASE_MANAGER})
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Oslo
COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SECTIONS = (
    "## Summary",
    "## Change kind",
    "## Flags and rollout plan",
    "## Testing done",
    "## Rollback steps",
    "## Monitoring plan",
    "## Communication plan",
    "## Checklist",
)

POLICY = Policy(
    timezone="Europe/Oslo",
    stages=(
        StageGates("dev", "dev", approvals=ApprovalRule(1, REVIEWERS)),
        StageGates("staging", "staging", approvals=ApprovalRule(1, REVIEWERS)),
        StageGates(
            "production",
            "main",
            approvals=ApprovalRule(2, REVIEWERS),
            signoffs=(("qa", "staging"),),
            require_rollback_plan=True,
            rollback_drill_in="staging",
            business_hours=True,
        ),
    ),
)


def _release(**fields: object) -> Release:
    base = Release(
        id=1,
        project="crm",
        key="checkout",
        title="One-page checkout",
        kind=ChangeKind.FEATURE,
        owner="alice",
        created_at=NOW,
        content_changed_at=NOW,
        flags=("checkout-v2",),
        commit=COMMIT,
        branch="feature/checkout",
        pull_requests=(PullRequest(12, "Checkout on one page"),),
        stage="staging",
        authors=("alice", "dave"),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _section(body: str, heading: str) -> str:
    return body.split(f"{heading}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("evaluated", [True, False], ids=["with-decision", "without-decision"])
def test_render__every_section_in_order(evaluated: bool) -> None:
    release = _release()
    decision = (
        gates.evaluate_promotion(release, "production", POLICY, Evidence(), (), NOW)
        if evaluated
        else None
    )

    body = render_pr_body(release, POLICY, decision)

    assert body.startswith("# One-page checkout\n")
    positions = [body.index(f"\n{heading}\n") for heading in SECTIONS]
    assert positions == sorted(positions)


def test_render__summary_names_the_change_people_commit_and_next_step() -> None:
    summary = _section(render_pr_body(_release(), POLICY), "## Summary")

    assert "One-page checkout (`checkout` in project `crm`, by alice, with dave)." in summary
    assert f"- Commit: `{COMMIT}` on `feature/checkout`" in summary
    assert "- Pull requests: #12 Checkout on one page" in summary
    assert "- Where it is: in **staging**; next: **production**" in summary


def test_render__checklist_ticked_from_the_decision() -> None:
    release = _release(rollback_plan="Disable checkout-v2.")
    approvals = tuple(Approval(who, REVIEWERS, "production", NOW, 1) for who in ("bob", "carol"))
    decision = gates.evaluate_promotion(
        release, "production", POLICY, Evidence(approvals=approvals), (), NOW
    )

    checklist = _section(render_pr_body(release, POLICY, decision), "## Checklist")

    assert "Gates for **production**:" in checklist
    assert "- [x] Approvals: 2 approvals for production (bob and carol), 2 needed" in checklist
    assert "- [x] Rollback plan written: written (1 line)" in checklist
    assert (
        "- [ ] QA sign-off: no QA sign-off on staging for the current content. **To do:** "
        "needs QA to test staging and sign off content version 1, by someone other than "
        "alice and dave: `shipwise release signoff checkout --env staging -p crm`."
    ) in checklist
    assert "- [x] Business hours: Mon 2026-03-02 10:00 Europe/Oslo" in checklist
    assert "Pipeline order" not in checklist  # passed gates about order and status stay quiet


def test_render__without_a_decision__lists_the_next_stages_gates_unticked() -> None:
    checklist = _section(render_pr_body(_release(), POLICY), "## Checklist")

    assert checklist.strip().splitlines()[2:] == [
        "- [ ] one feature per release",
        "- [ ] 2 approvals from a code-owner or release-manager, none of them an author",
        "- [ ] QA sign-off on staging",
        "- [ ] the release's commit green in CI",
        "- [ ] a written rollback plan",
        "- [ ] the rollback rehearsed in staging since the last change",
        "- [ ] during business hours (Mon-Fri 09:00-17:00 Europe/Oslo)",
    ]


def test_render__in_the_last_environment__no_promotion_ahead() -> None:
    checklist = _section(render_pr_body(_release(stage="production"), POLICY), "## Checklist")

    assert "No promotion ahead: `checkout` is in production." in checklist


def test_render__flags_and_the_gradual_rollout() -> None:
    flags = _section(render_pr_body(_release(), POLICY), "## Flags and rollout plan")

    assert "- Flag `checkout-v2`" in flags
    assert (
        "Rollout in production: 10% (week 1, with beta testers) → 25% (week 2, if no issues) "
        "→ 50% (week 3) → 100% (week 4)."
    ) in flags


def test_render__feature_without_a_flag__says_it_is_live_at_once() -> None:
    flags = _section(render_pr_body(_release(flags=()), POLICY), "## Flags and rollout plan")

    assert "No feature flag: it is live for everyone as soon as it is deployed." in flags


def test_render__written_plans_are_shown_as_written() -> None:
    release = _release(
        rollback_plan="1. Disable checkout-v2.\n2. Revert #12.",
        communication_plan="Post in #releases before and after.",
    )

    body = render_pr_body(release, POLICY)

    assert "1. Disable checkout-v2.\n2. Revert #12." in _section(body, "## Rollback steps")
    assert "Post in #releases before and after." in _section(body, "## Communication plan")


def test_render__missing_plans__ask_for_what_the_guide_wants() -> None:
    body = render_pr_body(_release(), POLICY)

    rollback = _section(body, "## Rollback steps")
    assert "_No rollback plan written yet._" in rollback
    assert "1. How to disable `checkout-v2`." in rollback
    assert "2. How to revert the code (a revert PR of #12)." in rollback
    assert "3. Who to notify." in rollback
    assert "Rehearsal: rehearse the plan in staging and verify it works." in rollback
    communication = _section(body, "## Communication plan")
    assert "- Before: notify the team" in communication
    assert "in-app notification, email announcement, help-documentation update" in communication


def test_render__monitoring_plan__first_hour_24_hours_and_the_metrics() -> None:
    monitoring = _section(render_pr_body(_release(), POLICY), "## Monitoring plan")

    assert "first hour" in monitoring
    assert "first 24 hours" in monitoring
    for metric in ("Error rates", "User feedback", "Performance", "Business metrics"):
        assert f"- {metric}: " in monitoring


def test_render__testing_done_from_the_decision() -> None:
    release = _release()
    evidence = Evidence(ci=(CiResult(COMMIT, "tests", "success", NOW),))
    policy = replace(
        POLICY, stages=(*POLICY.stages[:2], replace(POLICY.stages[2], require_ci=True))
    )
    decision = gates.evaluate_promotion(release, "production", policy, evidence, (), NOW)

    testing = _section(render_pr_body(release, policy, decision), "## Testing done")

    assert "- CI green (done): a1b2c3d4e5f6 green in CI (tests)" in testing
    assert "- QA sign-off (not yet): no QA sign-off on staging" in testing
    assert "- By hand: <!--" in testing


def test_render__bug_fix__severity_and_fix_by_time() -> None:
    bug = _release(kind=ChangeKind.BUGFIX, severity=Severity.HIGH, flags=())

    kind = _section(render_pr_body(bug, POLICY), "## Change kind")

    assert kind.strip() == (
        "**Bug fix**, severity **high** (feature broken, performance: fix within 24 hours); "
        "fix by 2026-03-03 10:00 Europe/Oslo."
    )


def test_render__hotfix__path_label_justification_and_close_monitoring() -> None:
    hotfix = _release(
        kind=ChangeKind.HOTFIX,
        severity=Severity.CRITICAL,
        branch="main",
        flags=(),
        stage=None,
        justification="Every SSO login crashes.",
    )

    body = render_pr_body(hotfix, POLICY)

    kind = _section(body, "## Change kind")
    assert "Takes the **hotfix path**: from `main` straight to production with 2 approvals" in kind
    assert "labelled `HOTFIX`" in kind
    assert "> Every SSO login crashes." in kind
    assert "Path: `main` → production (hotfix)." in _section(body, "## Flags and rollout plan")
    assert "Close monitoring is switched on for this hotfix." in body
    assert "- [ ] a written justification for skipping the pipeline" in body


def test_render__abandoned_release__no_next_step() -> None:
    summary = _section(
        render_pr_body(_release(status=ReleaseStatus.ABANDONED), POLICY), "## Summary"
    )

    assert "- Where it is: in **staging**, abandoned" in summary
