"""The example release policy the domain tests share: PRODUCT.md's process for a CRM team
in Oslo, with a Christmas freeze, written out by hand (not from ``default_policy``)."""

from __future__ import annotations

from datetime import date

from shipwise.domain.policy_model import ApprovalRule, Freeze, Policy, StageGates
from shipwise.domain.releases import ApproverRole

CODE_OWNER, QA, RELEASE_MANAGER = ApproverRole
REVIEWERS = frozenset({CODE_OWNER, RELEASE_MANAGER})

POLICY = Policy(
    timezone="Europe/Oslo",
    stages=(
        StageGates("dev", "dev", approvals=ApprovalRule(1, frozenset({CODE_OWNER}))),
        StageGates(
            "staging",
            "staging",
            approvals=ApprovalRule(1, REVIEWERS),
            checklist=("Dev testing done",),
            require_previous_deploy=True,
        ),
        StageGates(
            "production",
            "main",
            approvals=ApprovalRule(2, REVIEWERS),
            signoffs=(("qa", "staging"),),
            require_previous_deploy=True,
            require_rollback_plan=True,
            rollback_drill_in="staging",
            business_hours=True,
            respect_freezes=True,
            one_feature_rolling_out=True,
        ),
    ),
    freezes=(Freeze("Christmas", date(2026, 12, 21), date(2027, 1, 1)),),
)
