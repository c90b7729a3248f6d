"""Change requests as values: who may review, when one is approved, applied once, and
what a closed one refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shipwise.domain.access import Role
from shipwise.domain.change_requests import (
    ChangeRequest,
    RequestKind,
    RequestRefused,
    RequestState,
    Reviewer,
    apply,
    approvals_needed,
    approve,
    go_stale,
    readable_diff,
    reject,
    review_problem,
    waiting_for,
    withdraw,
)
from shipwise.domain.policy_model import ApprovalRule, Policy
from shipwise.domain.releases import ApproverRole

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TWO = ApprovalRule(2, frozenset())
REQUEST = ChangeRequest(
    id=7,
    project="default",
    kind=RequestKind.FLAG,
    target="bulk-edit",
    environment="production",
    base_version=3,
    change={"enabled": True, "strategies": []},
    before={"enabled": False, "strategies": []},
    requested_by="alice",
    created_at=NOW,
)
ALICE = Reviewer("alice", Role.DEVELOPER)
BOB = Reviewer("bob", Role.DEVELOPER)
CAROL = Reviewer("carol", Role.QA)
VICTOR = Reviewer("victor", Role.VIEWER)
RITA = Reviewer("rita", Role.RELEASE_MANAGER)


def test_approve__by_two_people_not_the_requester__approves_it() -> None:
    once = approve(REQUEST, BOB, TWO, (), NOW)
    assert once.state is RequestState.OPEN
    assert waiting_for(once, TWO) == "1 of 2 approvals (bob)"

    twice = approve(once, CAROL, TWO, (), NOW)

    assert twice.state is RequestState.APPROVED
    assert twice.approvers == ("bob", "carol")


@pytest.mark.parametrize(
    ("request_", "reviewer", "rule", "words"),
    [
        pytest.param(REQUEST, ALICE, TWO, "alice requested change request #7", id="requester"),
        pytest.param(
            approve(REQUEST, BOB, TWO, (), NOW), BOB, TWO, "bob already approved", id="twice"
        ),
        pytest.param(REQUEST, VICTOR, TWO, "may not change flags", id="viewer"),
        pytest.param(
            REQUEST,
            CAROL,
            ApprovalRule(2, frozenset({ApproverRole.RELEASE_MANAGER})),
            "need approvals from a release-manager",
            id="role the policy does not count",
        ),
        pytest.param(
            replace(REQUEST, kind=RequestKind.POLICY),
            BOB,
            approvals_needed(RequestKind.POLICY, Policy()),
            "a policy change is approved by a release manager or admin",
            id="policy by a developer",
        ),
        pytest.param(
            replace(REQUEST, state=RequestState.REJECTED),
            BOB,
            TWO,
            "is rejected: there is nothing left to review",
            id="closed",
        ),
    ],
)
def test_approve__by_someone_who_may_not__is_refused_saying_why(
    request_: ChangeRequest, reviewer: Reviewer, rule: ApprovalRule, words: str
) -> None:
    assert words in (review_problem(request_, reviewer, rule, ()) or "")
    with pytest.raises(RequestRefused, match=words.split("(", maxsplit=1)[0][:20]):
        approve(request_, reviewer, rule, (), NOW)


def test_approve__policy_change_by_a_second_release_manager__approves_it_at_once() -> None:
    proposal = replace(REQUEST, kind=RequestKind.POLICY, requested_by="rita")
    rule = approvals_needed(RequestKind.POLICY, Policy())
    with pytest.raises(RequestRefused, match="rita requested"):
        approve(proposal, RITA, rule, (), NOW)

    approved = approve(proposal, Reviewer("root", None, global_admin=True), rule, (), NOW)

    assert approved.state is RequestState.APPROVED


def test_approve__code_owner_role__counts_the_listed_people_only() -> None:
    rule = ApprovalRule(1, frozenset({ApproverRole.CODE_OWNER}))
    assert review_problem(REQUEST, BOB, rule, ("dave",)) is not None
    assert review_problem(REQUEST, BOB, rule, ("bob",)) is None
    assert review_problem(REQUEST, BOB, rule, ()) is None  # no list: every developer


def test_apply__approved__is_applied_once() -> None:
    approved = approve(approve(REQUEST, BOB, TWO, (), NOW), CAROL, TWO, (), NOW)

    applied = apply(approved, TWO, NOW)

    assert applied.state is RequestState.APPLIED
    with pytest.raises(RequestRefused, match="already applied"):
        apply(applied, TWO, NOW)


def test_apply__one_approval_of_two__is_refused_naming_what_it_needs() -> None:
    with pytest.raises(RequestRefused, match=r"1 of 2 approvals \(bob\): it needs 1 more"):
        apply(approve(REQUEST, BOB, TWO, (), NOW), TWO, NOW)


def test_apply__policy_now_asks_for_more__counts_again() -> None:
    approved = approve(approve(REQUEST, BOB, TWO, (), NOW), CAROL, TWO, (), NOW)
    with pytest.raises(RequestRefused, match="2 of 3 approvals"):
        apply(approved, ApprovalRule(3, frozenset()), NOW)


@pytest.mark.parametrize(
    "closed",
    [
        reject(REQUEST, BOB, TWO, (), NOW, "not now"),
        withdraw(REQUEST, "alice", NOW, "changed my mind"),
        go_stale(REQUEST, NOW, "flag changed under it: version 4"),
    ],
    ids=["rejected", "withdrawn", "stale"],
)
def test_closed_request__refuses_approval_and_apply(closed: ChangeRequest) -> None:
    assert closed.closed_reason
    with pytest.raises(RequestRefused):
        approve(closed, CAROL, TWO, (), NOW)
    with pytest.raises(RequestRefused, match="request the change again"):
        apply(closed, TWO, NOW)


def test_withdraw__by_someone_else__is_refused() -> None:
    with pytest.raises(RequestRefused, match="only they withdraw it"):
        withdraw(REQUEST, "bob", NOW, "mine now")


def test_readable_diff__of_rules__names_the_changed_lines() -> None:
    lines = readable_diff(REQUEST.before, REQUEST.change)
    assert '-  "enabled": false,' in lines
    assert '+  "enabled": true,' in lines
