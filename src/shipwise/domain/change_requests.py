"""Change requests: a change to a flag, a segment or the policy that other people review
before it takes effect, the way Unleash's change requests and LaunchDarkly's approvals
work: requested, reviewed, applied once, audited, withdrawn when the target changes.

    open ──(the policy's count of approvals)──> approved ──(apply)──> applied
      │                                            │
      ├── rejected   (a reviewer said no, with a reason)
      ├── withdrawn  (the requester took it back)
      └── stale      (the target changed under it: it was based on another version)

Who may review: never the requester, never the same person twice. A flag or segment
change needs ``Policy.change_approvals`` (roles empty: anyone who may change flags); a
policy change needs one release manager or admin other than its proposer. Every function
here takes the request and returns a new one, or raises ``RequestRefused`` saying why.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shipwise.domain.access import Action, Role, allows
from shipwise.domain.policy_model import ApprovalRule, Policy
from shipwise.domain.releases import ApproverRole


class RequestKind(StrEnum):
    FLAG = "flag"  # new rules for one flag in one environment
    SEGMENT = "segment"  # new constraints for a segment
    POLICY = "policy"  # a new shipwise.toml


class RequestState(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    APPLIED = "applied"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    STALE = "stale"


PENDING = frozenset({RequestState.OPEN, RequestState.APPROVED})  # may still take effect

# A policy change is approved by one person who may manage the policy (Action.MANAGE_POLICY:
# a release manager or an admin), never its proposer.
POLICY_APPROVALS = ApprovalRule(1, frozenset({ApproverRole.RELEASE_MANAGER}))


class RequestRefused(Exception):
    """A transition the request's state or the reviewer does not allow; the message says
    why and what would work instead."""


@dataclass(frozen=True, slots=True)
class Review:
    person: str
    approved: bool
    at: datetime
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Reviewer:
    """Who acts on a request: the person a token stands for, and their role there."""

    person: str
    role: Role | None
    global_admin: bool = False

    def may(self, action: Action) -> bool:
        return self.global_admin or (self.role is not None and allows(self.role, action))


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    id: int
    project: str
    kind: RequestKind
    target: str  # the flag's key, the segment's name, or the project's key for a policy
    environment: str | None  # flags only
    base_version: int  # the target's version the request was made against
    change: Mapping[str, Any]  # rules, {constraints, description} or {source, ...}
    before: Mapping[str, Any]  # the target as it was when requested, for the diff
    requested_by: str
    created_at: datetime
    reason: str | None = None
    state: RequestState = RequestState.OPEN
    reviews: tuple[Review, ...] = ()
    closed_reason: str | None = None  # why it was rejected, withdrawn or went stale
    updated_at: datetime | None = None
    applied_version: int | None = None  # the target's version once applied

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(r.person for r in self.reviews if r.approved)

    @property
    def label(self) -> str:
        return f"change request #{self.id}"

    @property
    def what(self) -> str:
        """The target in words: "flag 'bulk-edit' in production", "the policy"."""
        if self.kind is RequestKind.FLAG:
            return f"flag {self.target!r} in {self.environment}"
        if self.kind is RequestKind.SEGMENT:
            return f"segment {self.target!r}"
        return f"the policy of {self.target!r}"


def approvals_needed(kind: RequestKind, policy: Policy) -> ApprovalRule:
    return POLICY_APPROVALS if kind is RequestKind.POLICY else policy.change_approvals


def approver_roles(reviewer: Reviewer, code_owners: tuple[str, ...]) -> frozenset[ApproverRole]:
    """The approver roles a person holds: QA as qa, release managers and admins as
    release-manager, code owners as the policy lists them (with no list, every member who
    may change code: developer and up)."""
    roles: set[ApproverRole] = set()
    if reviewer.role is Role.QA:
        roles.add(ApproverRole.QA)
    if reviewer.role in {Role.RELEASE_MANAGER, Role.ADMIN} or reviewer.global_admin:
        roles.add(ApproverRole.RELEASE_MANAGER)
    coders = {Role.DEVELOPER, Role.RELEASE_MANAGER, Role.ADMIN}
    if reviewer.person in code_owners or (not code_owners and reviewer.role in coders):
        roles.add(ApproverRole.CODE_OWNER)
    return frozenset(roles)


def _roles_words(roles: frozenset[ApproverRole]) -> str:
    return " or ".join(r.value for r in ApproverRole if r in roles)


def review_problem(
    request: ChangeRequest, reviewer: Reviewer, rule: ApprovalRule, code_owners: tuple[str, ...]
) -> str | None:
    """Why ``reviewer`` may not review ``request`` (approve or reject it), or None."""
    if request.state not in PENDING:
        return f"{request.label} is {request.state}: there is nothing left to review"
    if reviewer.person == request.requested_by:
        return (
            f"{reviewer.person} requested {request.label} and cannot review it; "
            "ask someone else to run `shipwise change approve "
            f"{request.id}`"
        )
    if reviewer.person in request.approvers:
        return f"{reviewer.person} already approved {request.label}; it needs someone else"
    if request.kind is RequestKind.POLICY:
        if not reviewer.may(Action.MANAGE_POLICY):
            return (
                f"a policy change is approved by a release manager or admin; "
                f"{reviewer.person} is {reviewer.role}"
            )
        return None
    if not reviewer.may(Action.WRITE_FLAGS):
        return f"{reviewer.person} ({reviewer.role}) may not change flags, so may not review"
    if rule.roles and not approver_roles(reviewer, code_owners) & rule.roles:
        return (
            f"change requests need approvals from a {_roles_words(rule.roles)} "
            f"(the policy's change_requests.approvals); {reviewer.person} is {reviewer.role}"
        )
    return None


def approve(
    request: ChangeRequest,
    reviewer: Reviewer,
    rule: ApprovalRule,
    code_owners: tuple[str, ...],
    now: datetime,
    comment: str | None = None,
) -> ChangeRequest:
    problem = review_problem(request, reviewer, rule, code_owners)
    if problem is not None:
        raise RequestRefused(problem)
    reviews = (*request.reviews, Review(reviewer.person, True, now, comment))
    approved = sum(1 for r in reviews if r.approved) >= rule.count
    state = RequestState.APPROVED if approved else request.state
    return replace(request, reviews=reviews, state=state, updated_at=now)


def reject(
    request: ChangeRequest,
    reviewer: Reviewer,
    rule: ApprovalRule,
    code_owners: tuple[str, ...],
    now: datetime,
    reason: str,
) -> ChangeRequest:
    problem = review_problem(request, reviewer, rule, code_owners)
    if problem is not None:
        raise RequestRefused(problem)
    reviews = (*request.reviews, Review(reviewer.person, False, now, reason))
    return replace(
        request,
        reviews=reviews,
        state=RequestState.REJECTED,
        closed_reason=reason,
        updated_at=now,
    )


def withdraw(request: ChangeRequest, person: str, now: datetime, reason: str) -> ChangeRequest:
    """The requester takes the request back."""
    if request.state not in PENDING:
        raise RequestRefused(f"{request.label} is {request.state}; only a pending one is withdrawn")
    if person != request.requested_by:
        raise RequestRefused(
            f"{request.label} was requested by {request.requested_by}; only they withdraw it "
            f"(a reviewer rejects it: `shipwise change reject {request.id} --reason ...`)"
        )
    return replace(request, state=RequestState.WITHDRAWN, closed_reason=reason, updated_at=now)


def go_stale(request: ChangeRequest, now: datetime, reason: str) -> ChangeRequest:
    """The target changed under the request: it no longer says what its reviewers saw."""
    return replace(request, state=RequestState.STALE, closed_reason=reason, updated_at=now)


def waiting_for(request: ChangeRequest, rule: ApprovalRule) -> str:
    """What the request still needs, in words: "1 of 2 approvals (alice)"."""
    approvers = request.approvers
    who = f" ({', '.join(approvers)})" if approvers else ""
    return f"{len(approvers)} of {rule.count} approval{'s' if rule.count != 1 else ''}{who}"


def apply(request: ChangeRequest, rule: ApprovalRule, now: datetime) -> ChangeRequest:
    """Mark an approved request applied (once). The approvals are counted again against
    the policy in force now, which may ask for more than when they were given."""
    if request.state is RequestState.APPLIED:
        raise RequestRefused(f"{request.label} was already applied; a request applies once")
    if request.state not in PENDING:
        why = f" ({request.closed_reason})" if request.closed_reason else ""
        raise RequestRefused(f"{request.label} is {request.state}{why}; request the change again")
    if len(request.approvers) < rule.count:
        raise RequestRefused(
            f"{request.label} has {waiting_for(request, rule)}: it needs "
            f"{rule.count - len(request.approvers)} more before it applies; a reviewer runs "
            f"`shipwise change approve {request.id}`"
        )
    return replace(request, state=RequestState.APPLIED, updated_at=now)


def readable_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """A unified diff of two JSON values, key-sorted, for people and the audit log."""
    return text_diff(_json_text(before), _json_text(after), "before", "after")


def text_diff(before: str, after: str, old_name: str, new_name: str) -> list[str]:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), old_name, new_name, lineterm=""
    )
    return list(lines)


def _json_text(value: Mapping[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
