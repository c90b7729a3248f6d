"""Gates that people satisfy: approvals, sign-offs and checklist items.

Evidence counts only for what it saw: approvals and sign-offs recorded for an earlier
``content_version`` were withdrawn by the change. Authors never approve or sign off
their own release, and the detail says why such evidence did not count.
"""

from __future__ import annotations

from collections.abc import Sequence

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok
from shipwise.domain.policy_model import ApprovalRule, Policy
from shipwise.domain.releases import Approval, ApproverRole, Release
from shipwise.domain.wording import names, roles

__all__ = ["APPROVALS", "CHECKLIST", "SIGNOFFS", "approval_requirement", "signoff_label"]


def authors(release: Release) -> tuple[str, ...]:
    return tuple(dict.fromkeys([release.owner, *release.authors]))


def signoff_label(kind: str) -> str:
    return "QA" if kind == "qa" else kind


def approval_requirement(rule: ApprovalRule) -> str:
    who = f"from a {roles(rule.roles)}" if rule.roles else "from anyone"
    return f"{rule.count} approval{'s' if rule.count != 1 else ''} {who}, none of them an author"


def _rule(where: Where) -> ApprovalRule | None:
    """The hotfix path asks for its own approvals; a stage for its own, if any."""
    return where.policy.hotfix.approvals if where.hotfix else where.stage.approvals


def _approvals(judging: Judging, _item: Item) -> Judged:
    """Distinct approvers of the current content holding a wanted role, authors excluded.
    A self-approval is not counted, and the detail says so."""
    rule = _rule(judging)
    if rule is None:  # not asked for: `applies` keeps the registry from getting here
        raise ValueError(f"{judging.target} asks for no approvals")
    release, target, policy = judging.release, judging.target, judging.policy
    authored = authors(release)
    counted: list[str] = []
    refused: dict[str, str] = {}
    for approval in sorted(judging.evidence.approvals, key=lambda a: a.at):
        name = approval.approver
        if approval.stage != target or name in counted:
            continue
        problem = _approval_problem(approval, release, rule, policy, authored)
        if problem is None:
            counted.append(name)
            refused.pop(name, None)
        else:
            refused[name] = problem
    plural = "" if len(counted) == 1 else "s"
    found = f"{len(counted)} approval{plural} for {target}"
    found += f" ({names(counted)}), {rule.count} needed" if counted else f", {rule.count} needed"
    detail = "; ".join([found, *refused.values()])
    if len(counted) >= rule.count:
        return ok(detail)
    missing = rule.count - len(counted)
    excluded = [f"{names(authored)} ({'the author' if len(authored) == 1 else 'the authors'})"]
    if counted:
        excluded.append(f"{names(counted)} (already approved)")
    who = f"a {roles(rule.roles)}" if rule.roles else "anyone"
    command = commands.approve(release, target)
    remedy = (
        f"needs {missing} more approval{'s' if missing > 1 else ''} from {who} "
        f"other than {' and '.join(excluded)}: {command}"
    )
    return no(detail, remedy)


def _approval_problem(
    approval: Approval,
    release: Release,
    rule: ApprovalRule,
    policy: Policy,
    authored: tuple[str, ...],
) -> str | None:
    name = approval.approver
    held = approval.roles | ({ApproverRole.CODE_OWNER} if name in policy.code_owners else set())
    if name in authored:
        return f"{name}'s own approval does not count: an author never approves their release"
    if approval.content_version != release.content_version:
        return (
            f"{name}'s approval of content version {approval.content_version} was withdrawn "
            f"when the release changed (now version {release.content_version})"
        )
    if rule.roles and not held & rule.roles:
        return f"{name} holds {roles(held, 'and') or 'no role'}, not {roles(rule.roles)}"
    return None


def _signoffs(where: Where) -> Sequence[Item]:
    return [Item(kind, tested) for kind, tested in where.stage.signoffs]


def _checklist(where: Where) -> Sequence[Item]:
    return [Item(item) for item in where.stage.checklist]


def _signoff(judging: Judging, item: Item) -> Judged:
    release, authored = judging.release, authors(judging.release)
    kind, tested, label = item.name, item.subject, signoff_label(item.name)
    notes, valid = [], None
    for signoff in sorted(judging.evidence.signoffs, key=lambda s: s.at):
        if signoff.kind != kind or signoff.stage != tested:
            continue
        if signoff.by in authored:
            notes.append(f"{signoff.by} is an author and cannot sign off their own release")
        elif signoff.content_version != release.content_version:
            notes.append(
                f"{signoff.by}'s sign-off of content version {signoff.content_version} was "
                f"withdrawn when the release changed (now version {release.content_version})"
            )
        else:
            valid = signoff
    if valid is not None:
        return ok(f"{label} signed off on {tested} by {valid.by} at {judging.at(valid.at)}")
    detail = "; ".join([f"no {label} sign-off on {tested} for the current content", *notes])
    command = commands.signoff(release, kind, tested)
    remedy = (
        f"needs {label} to test {tested} and sign off content version "
        f"{release.content_version}, by someone other than {names(authored)}: {command}"
    )
    return no(detail, remedy)


def _check(judging: Judging, checked: Item) -> Judged:
    target, item = judging.target, checked.name
    checks = [c for c in judging.evidence.checks if c.item == item and c.stage == target]
    if not checks:
        command = commands.check(judging.release, item, target)
        remedy = (
            f"someone checks '{item}' for {target}, with a note of what they verified: {command}"
        )
        return no(f"'{item}' is not checked for {target}", remedy)
    last = max(checks, key=lambda c: c.at)
    found = f"checked by {last.by} at {judging.at(last.at)}"
    return ok(f"{found}: {last.note}" if last.note else found)


def _describe_approvals(where: Where, _item: Item) -> str | None:
    rule = _rule(where)
    return approval_requirement(rule) if rule else None


APPROVALS = Gate(
    "approvals",
    "Approvals",
    applies=lambda where: _rule(where) is not None,
    describe=_describe_approvals,
    judge=_approvals,
)
SIGNOFFS = Gate(
    "signoff",
    "Sign-offs",
    applies=lambda where: not where.hotfix and bool(where.stage.signoffs),
    describe=lambda _where, item: f"{signoff_label(item.name)} sign-off on {item.subject}",
    judge=_signoff,
    items=_signoffs,
    item_label=lambda kind: f"{signoff_label(kind)} sign-off",
)
CHECKLIST = Gate(
    "checklist",
    "Checklist",
    applies=lambda where: not where.hotfix and bool(where.stage.checklist),
    describe=lambda _where, item: item.name,
    judge=_check,
    items=_checklist,
    item_label=lambda item: item,
)
