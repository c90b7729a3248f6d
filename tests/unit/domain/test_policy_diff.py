"""The policy guards itself: every way a new policy loosens the one in force is named in
words (one case per rule), and tightening it names nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest

from shipwise.domain.policy import default_policy
from shipwise.domain.policy_diff import diff, weakenings
from shipwise.domain.policy_model import ApprovalRule, Freeze, Policy, StageGates, Window
from shipwise.domain.releases import ApproverRole, Severity

BASE = replace(
    default_policy(),
    freezes=(Freeze("Christmas", date(2026, 12, 20), date(2027, 1, 2)),),
    code_owners=("alice",),
    change_approvals=ApprovalRule(2, frozenset({ApproverRole.CODE_OWNER})),
)
STAGING = BASE.stage("staging")
PRODUCTION = BASE.stage("production")
assert STAGING is not None
assert PRODUCTION is not None


def _production(**changes: object) -> Policy:
    assert PRODUCTION is not None
    changed = replace(PRODUCTION, **changes)  # type: ignore[arg-type]
    return replace(BASE, stages=tuple(changed if s is PRODUCTION else s for s in BASE.stages))


def _staging(**changes: object) -> Policy:
    assert STAGING is not None
    changed = replace(STAGING, **changes)  # type: ignore[arg-type]
    return replace(BASE, stages=tuple(changed if s is STAGING else s for s in BASE.stages))


ANY = frozenset(ApproverRole)
HOTFIX_APPROVALS = BASE.hotfix.approvals
LAUNCH = Freeze("Launch", date(2026, 6, 1), date(2026, 6, 3))
WEAKER = [
    ("fewer approvals", _production(approvals=ApprovalRule(1, ANY)), "production: approvals 2 → 1"),
    (
        "no approvals",
        _production(approvals=None),
        "production: approvals no longer required (was 2)",
    ),
    (
        "wider approver roles",
        _staging(approvals=ApprovalRule(1, ANY)),
        None,  # staging already accepts any approver: not wider
    ),
    (
        "business hours off",
        _production(business_hours=False),
        "production: business_hours switched off",
    ),
    ("ci off", _production(require_ci=False), "production: require_ci switched off"),
    (
        "previous deploy off",
        _production(require_previous_deploy=False),
        "production: require_previous_deploy switched off",
    ),
    (
        "rollback plan off",
        _production(require_rollback_plan=False),
        "production: require_rollback_plan switched off",
    ),
    (
        "freezes ignored",
        _production(respect_freezes=False),
        "production: respect_freezes switched off",
    ),
    (
        "rollouts at once",
        _production(one_feature_rolling_out=False),
        "production: one_feature_rolling_out switched off",
    ),
    (
        "sign-off removed",
        _production(signoffs=()),
        "production: qa sign-off on staging removed",
    ),
    (
        "drill removed",
        _production(rollback_drill_in=None),
        "production: rollback drill in staging no longer required",
    ),
    (
        "drill moved",
        _production(rollback_drill_in="dev"),
        "production: rollback drill in dev instead of staging",
    ),
    ("unprotected", _production(protected=False), "production is no longer protected"),
    (
        "testers widened",
        _production(testers="everyone"),
        "production: a promoted release is switched on for everyone (was nobody)",
    ),
    (
        "stage removed",
        replace(BASE, stages=tuple(s for s in BASE.stages if s.environment != "staging")),
        "stage 'staging' removed: its gates no longer apply",
    ),
    (
        "saturday",
        replace(BASE, window=Window(frozenset(range(6)), time(9), time(17))),
        "window: adds Saturday",
    ),
    (
        "later end",
        replace(BASE, window=Window(frozenset(range(5)), time(9), time(19))),
        "window: ends 19:00 instead of 17:00",
    ),
    (
        "earlier start",
        replace(BASE, window=Window(frozenset(range(5)), time(7, 30), time(17))),
        "window: starts 07:30 instead of 09:00",
    ),
    (
        "time zone",
        replace(BASE, timezone="Pacific/Honolulu"),
        "timezone: Pacific/Honolulu instead of UTC (the window moves)",
    ),
    ("freeze removed", replace(BASE, freezes=()), "freeze 'Christmas' removed"),
    (
        "freeze shortened",
        replace(BASE, freezes=(Freeze("Christmas", date(2026, 12, 24), date(2027, 1, 2)),)),
        "freeze 'Christmas' shortened: 2026-12-24 to 2027-01-02"
        " instead of 2026-12-20 to 2027-01-02",
    ),
    (
        "one feature per release off",
        replace(BASE, one_feature_per_release=False),
        "one_feature_per_release switched off",
    ),
    (
        "more rollouts at once",
        replace(BASE, max_feature_rollouts=2),
        "max_feature_rollouts 1 → 2",
    ),
    (
        "fewer hotfix approvals",
        replace(BASE, hotfix=replace(BASE.hotfix, approvals=replace(HOTFIX_APPROVALS, count=1))),
        "hotfix: approvals 2 → 1",
    ),
    (
        "hotfix severities wider",
        replace(
            BASE,
            hotfix=replace(BASE.hotfix, severities=frozenset({Severity.CRITICAL, Severity.HIGH})),
        ),
        "hotfix: severities widened to high (they skip staging)",
    ),
    (
        "hotfix justification off",
        replace(BASE, hotfix=replace(BASE.hotfix, require_justification=False)),
        "hotfix: require_justification switched off",
    ),
    (
        "longer sla",
        replace(BASE, fix_within={**BASE.fix_within, Severity.HIGH: timedelta(hours=48)}),
        "sla high: 2d instead of 1d",
    ),
    (
        "sla dropped",
        replace(BASE, fix_within={**BASE.fix_within, Severity.MEDIUM: None}),
        "sla medium: no deadline instead of 7d",
    ),
    (
        "code owner added",
        replace(BASE, code_owners=("alice", "dave")),
        "code_owners adds dave (more people count as code owners)",
    ),
    (
        "code owners emptied",
        replace(BASE, code_owners=()),
        "code_owners emptied: every developer now counts as a code owner",
    ),
    (
        "fewer change request approvals",
        replace(BASE, change_approvals=ApprovalRule(1, frozenset({ApproverRole.CODE_OWNER}))),
        "change requests: 2 approvals → 1",
    ),
    (
        "change request roles wider",
        replace(BASE, change_approvals=ApprovalRule(2, frozenset())),
        "change requests: approvals now count anyone who may change flags",
    ),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in WEAKER], ids=[c[0] for c in WEAKER])
def test_weakenings__one_rule_loosened__names_it_alone(new: Policy, expected: str | None) -> None:
    assert weakenings(BASE, new) == ([] if expected is None else [expected])


STRONGER = [
    ("same policy", BASE),
    ("more approvals", _production(approvals=ApprovalRule(3, ANY))),
    ("narrower approvers", _production(approvals=ApprovalRule(2, frozenset({ApproverRole.QA})))),
    ("gates on", _staging(business_hours=True, respect_freezes=True, require_rollback_plan=True)),
    ("staging protected", _staging(protected=True)),
    ("checklist added", _production(checklist=("Release notes shared",))),
    ("shorter window", replace(BASE, window=Window(frozenset(range(4)), time(10), time(16)))),
    (
        "new freeze",
        replace(BASE, freezes=(*BASE.freezes, LAUNCH)),
    ),
    (
        "longer freeze",
        replace(BASE, freezes=(Freeze("Christmas", date(2026, 12, 15), date(2027, 1, 5)),)),
    ),
    ("fewer rollouts", replace(BASE, max_feature_rollouts=0)),
    (
        "shorter sla",
        replace(BASE, fix_within={**BASE.fix_within, Severity.LOW: timedelta(days=30)}),
    ),
    ("same code owners", replace(BASE, code_owners=("alice",))),
    (
        "more change approvals",
        replace(BASE, change_approvals=ApprovalRule(3, frozenset({ApproverRole.CODE_OWNER}))),
    ),
    (
        "stage added",
        replace(BASE, stages=(*BASE.stages, StageGates("canary", "canary", protected=True))),
    ),
]


@pytest.mark.parametrize("new", [c[1] for c in STRONGER], ids=[c[0] for c in STRONGER])
def test_weakenings__strengthening__yields_none(new: Policy) -> None:
    assert weakenings(BASE, new) == []


def test_weakenings__several_rules_loosened__names_each() -> None:
    loose = replace(
        _production(business_hours=False, approvals=ApprovalRule(1, ANY), protected=False),
        window=Window(frozenset(range(7)), time(0), time(23, 59)),
    )

    found = weakenings(BASE, loose)

    assert "production: approvals 2 → 1" in found
    assert "production: business_hours switched off" in found
    assert "production is no longer protected" in found
    assert {"window: adds Saturday", "window: adds Sunday"} <= set(found)


def test_weakenings__code_owners_from_none_to_a_list__is_a_strengthening() -> None:
    everyone = replace(BASE, code_owners=())
    assert weakenings(everyone, replace(everyone, code_owners=("alice",))) == []


def test_diff__of_two_policies__is_a_unified_diff_of_their_files() -> None:
    lines = diff(BASE, _production(business_hours=False))

    assert lines[0] == "--- policy in force"
    assert lines[1] == "+++ proposed policy"
    assert "-business_hours = true" in lines
    assert "+business_hours = false" in lines


def test_diff__of_equal_policies__is_empty() -> None:
    assert diff(BASE, BASE) == []
