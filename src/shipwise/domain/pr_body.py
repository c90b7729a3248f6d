"""The pull-request description of a release (``shipwise release pr-body RELEASE``): the
Markdown a team pastes into the PR, following the release guide's template: summary,
change kind, flags and rollout plan, testing done, rollback steps, monitoring plan,
communication plan, and the checklist of the next promotion's gates.

Plain string building: what is known is filled in, what is missing is said plainly, so
the reviewer sees the gaps. With a ``PromotionDecision`` the checklist is ticked from the
gates; without one it lists what the next promotion will ask for, unticked.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from shipwise.domain.gates import describe_gates, gate_label
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_route import (
    hotfix_environment,
    is_hotfix_eligible,
    next_environment,
)
from shipwise.domain.release_timing import fix_by
from shipwise.domain.releases import (
    ChangeKind,
    GateResult,
    PromotionDecision,
    Release,
    ReleaseStatus,
    Severity,
)

__all__ = ["DEFAULT_ROLLOUT", "render_pr_body"]

# PRODUCT.md's gradual rollout: (percentage, when).
DEFAULT_ROLLOUT: tuple[tuple[int, str], ...] = (
    (10, "week 1, with beta testers"),
    (25, "week 2, if no issues"),
    (50, "week 3"),
    (100, "week 4"),
)

_KIND = {
    ChangeKind.FEATURE: "Feature",
    ChangeKind.BUGFIX: "Bug fix",
    ChangeKind.HOTFIX: "Hotfix",
}
_SEVERITY = {
    Severity.CRITICAL: "security, data loss, crashes: fix now",
    Severity.HIGH: "feature broken, performance: fix within 24 hours",
    Severity.MEDIUM: "UI, minor: fix within a week",
    Severity.LOW: "cosmetic: fix when convenient",
}
_METRICS = (
    ("Error rates", "error tracker, logs"),
    ("User feedback", "support tickets, complaints"),
    ("Performance", "load times, API response times"),
    ("Feature usage", "adoption"),
    ("Business metrics", "conversions, revenue"),
    ("System health", "server resources, database"),
)
_TESTING_GATES = ("ci", "previous-deploy", "signoff:", "checklist:", "rollback-drill")
_QUIET_WHEN_PASSED = frozenset({"status", "order"})


def render_pr_body(
    release: Release,
    policy: Policy,
    decision: PromotionDecision | None = None,
    *,
    rollout: Sequence[tuple[int, str]] = DEFAULT_ROLLOUT,
) -> str:
    """The PR description of ``release``. ``decision`` is the next promotion's, when one
    was evaluated; ``rollout`` the flag's steps in the last environment."""
    target = decision.target if decision else _next_target(release, policy)
    hotfix = (
        decision.hotfix_path and is_hotfix_eligible(release, policy)
        if decision
        else target is not None
        and is_hotfix_eligible(release, policy)
        and target == hotfix_environment(policy)
    )
    sections = [
        f"# {release.title}",
        _summary(release, target),
        _change_kind(release, policy, hotfix=hotfix),
        _flags_and_rollout(release, policy, rollout, hotfix=hotfix),
        _testing(release, policy, decision, target),
        _rollback(release, policy, decision),
        _monitoring(release, hotfix=hotfix),
        _communication(release),
        _checklist(release, policy, decision, target),
    ]
    return "\n\n".join(sections) + "\n"


def _summary(release: Release, target: str | None) -> str:
    people = release.owner
    others = [a for a in release.authors if a != release.owner]
    if others:
        people += f", with {', '.join(others)}"
    lines = [
        "## Summary",
        "",
        f"{release.title} (`{release.key}` in project `{release.project}`, by {people}).",
        "",
    ]
    if release.commit:
        on = f" on `{release.branch}`" if release.branch else ""
        lines.append(f"- Commit: `{release.commit}`{on}")
    elif release.branch:
        lines.append(f"- Branch: `{release.branch}` (no commit recorded yet)")
    if release.pull_requests:
        prs = [f"#{p.number}" + (f" {p.title}" if p.title else "") for p in release.pull_requests]
        lines.append(f"- Pull requests: {'; '.join(prs)}")
    where = f"in **{release.stage}**" if release.stage else "not deployed yet"
    if release.status is not ReleaseStatus.IN_PROGRESS:
        where += f", {release.status.value}"
    lines.append(f"- Where it is: {where}" + (f"; next: **{target}**" if target else ""))
    if release.labels:
        lines.append(f"- Labels: {', '.join(f'`{label}`' for label in release.labels)}")
    return "\n".join(lines)


def _change_kind(release: Release, policy: Policy, *, hotfix: bool) -> str:
    kind = f"**{_KIND[release.kind]}**"
    if release.severity is not None:
        kind += f", severity **{release.severity.value}** ({_SEVERITY[release.severity]})"
        due = fix_by(release, policy)
        if due is not None and release.severity is not Severity.CRITICAL:
            local = due.astimezone(ZoneInfo(policy.timezone))
            kind += f"; fix by {local:%Y-%m-%d %H:%M} {policy.timezone}"
    lines = ["## Change kind", "", kind + "."]
    if hotfix:
        rule = policy.hotfix.approvals
        lines += [
            "",
            f"Takes the **hotfix path**: from `{policy.hotfix.branch}` straight to "
            f"{hotfix_environment(policy)} with {rule.count} approvals, labelled "
            f"`{policy.hotfix.label}`; the team is notified and close monitoring is "
            "switched on.",
        ]
    if release.justification or hotfix:
        lines += ["", "Justification:", "", _quote(release.justification or "_not written yet_")]
    return "\n".join(lines)


def _flags_and_rollout(
    release: Release, policy: Policy, rollout: Sequence[tuple[int, str]], *, hotfix: bool
) -> str:
    lines = ["## Flags and rollout plan", ""]
    environments = [s.environment for s in policy.stages]
    if hotfix:
        lines.append(f"Path: `{policy.hotfix.branch}` → {hotfix_environment(policy)} (hotfix).")
    elif environments:
        lines.append(f"Path: {' → '.join(environments)}; each merge deploys its environment.")
    if not release.flags:
        live = "the fix is live" if release.kind is not ChangeKind.FEATURE else "it is live"
        lines += ["", f"No feature flag: {live} for everyone as soon as it is deployed."]
        if release.kind is ChangeKind.FEATURE:
            lines.append("Consider putting it behind a flag, created in the first environment.")
        return "\n".join(lines)
    lines += ["", *(f"- Flag `{flag}`" for flag in release.flags), ""]
    if hotfix:
        lines.append("No gradual rollout on the hotfix path: the flags switch as they are.")
        return "\n".join(lines)
    steps = " → ".join(f"{percent}% ({when})" for percent, when in rollout)
    last = environments[-1] if environments else "production"
    lines.append(
        f"Rollout in {last}: {steps}. Each step only while error rates and user feedback "
        "stay healthy; once stable, the flag is enabled fully."
    )
    return "\n".join(lines)


def _testing(
    release: Release, policy: Policy, decision: PromotionDecision | None, target: str | None
) -> str:
    lines = ["## Testing done", ""]
    if decision is not None:
        for result in decision.gates:
            if result.gate.startswith(_TESTING_GATES):
                state = "done" if result.passed else "not yet"
                lines.append(f"- {gate_label(result.gate)} ({state}): {result.detail}")
    elif target is not None:
        for gate, wanted in describe_gates(release, target, policy):
            if gate.startswith(_TESTING_GATES):
                lines.append(f"- To show before {target}: {wanted}")
    lines.append("- By hand: <!-- what you tested, where, with which data; what you saw -->")
    return "\n".join(lines)


def _rollback(release: Release, policy: Policy, decision: PromotionDecision | None) -> str:
    lines = ["## Rollback steps", ""]
    if release.rollback_plan and release.rollback_plan.strip():
        lines.append(release.rollback_plan.strip())
    else:
        flags = ", ".join(f"`{f}`" for f in release.flags) or "the feature flag, if any"
        prs = ", ".join(f"#{p.number}" for p in release.pull_requests) or "the change"
        lines += [
            "_No rollback plan written yet._ Write down:",
            "",
            f"1. How to disable {flags}.",
            f"2. How to revert the code (a revert PR of {prs}).",
            "3. Who to notify.",
        ]
    lines += [
        "",
        "During the release: the flag ready to disable, and a code-revert PR ready.",
    ]
    drill = (
        next((g for g in decision.gates if g.gate == "rollback-drill"), None) if decision else None
    )
    rehearsal = [s.rollback_drill_in for s in policy.stages if s.rollback_drill_in]
    if drill is not None:
        lines.append(f"Rehearsal: {drill.detail}.")
    elif rehearsal:
        lines.append(f"Rehearsal: rehearse the plan in {rehearsal[0]} and verify it works.")
    return "\n".join(lines)


def _monitoring(release: Release, *, hotfix: bool) -> str:
    lines = [
        "## Monitoring plan",
        "",
        "Watch closely for the first hour after each step, and monitor closely for the "
        "first 24 hours:",
        "",
        *(f"- {metric}: {where}" for metric, where in _METRICS),
    ]
    if hotfix:
        lines += ["", "Close monitoring is switched on for this hotfix."]
    if release.flags:
        lines += ["", f"If the numbers go bad: disable {', '.join(release.flags)} first."]
    return "\n".join(lines)


def _communication(release: Release) -> str:
    lines = ["## Communication plan", ""]
    if release.communication_plan and release.communication_plan.strip():
        lines.append(release.communication_plan.strip())
    else:
        lines += [
            "_No communication plan written yet._ Suggested:",
            "",
            "- Before: notify the team, share the release notes, set the monitoring schedule.",
            "- During: post progress and any issues found.",
            "- After: share success metrics and learnings.",
        ]
        if release.kind is ChangeKind.FEATURE:
            lines.append(
                "- For a major feature: in-app notification, email announcement, "
                "help-documentation update."
            )
    return "\n".join(lines)


def _checklist(
    release: Release, policy: Policy, decision: PromotionDecision | None, target: str | None
) -> str:
    lines = ["## Checklist", ""]
    if target is None:
        where = release.stage or "no environment"
        lines.append(f"No promotion ahead: `{release.key}` is in {where}.")
        return "\n".join(lines)
    lines += [f"Gates for **{target}**:", ""]
    if decision is None:
        lines += [f"- [ ] {wanted}" for _gate, wanted in describe_gates(release, target, policy)]
    else:
        lines += [
            _tick(g) for g in decision.gates if not (g.passed and g.gate in _QUIET_WHEN_PASSED)
        ]
    return "\n".join(lines)


def _tick(gate: GateResult) -> str:
    if gate.passed:
        return f"- [x] {gate_label(gate.gate)}: {gate.detail}"
    todo = f" **To do:** {gate.remedy}." if gate.remedy else ""
    return f"- [ ] {gate_label(gate.gate)}: {gate.detail}.{todo}"


def _next_target(release: Release, policy: Policy) -> str | None:
    if release.status is not ReleaseStatus.IN_PROGRESS:
        return None
    if is_hotfix_eligible(release, policy) and release.stage != hotfix_environment(policy):
        return hotfix_environment(policy)
    return next_environment(policy, release.stage)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())
