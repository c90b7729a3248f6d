"""Gates: may this release go into that environment now, and if not, what would let it.

``evaluate_promotion`` judges one promotion against the target stage's ``StageGates`` and
answers with a ``PromotionDecision``: one ``GateResult`` per gate, saying what was found
and, when it did not pass, exactly what would satisfy it. Nothing changes here;
``release_flow.promote`` applies an allowed decision.

Evidence counts only for what it saw: approvals, sign-offs and rollback drills recorded
for an earlier ``content_version`` were withdrawn by the change. Authors never approve or
sign off their own release. Times are judged in the policy's time zone.

Every remedy that a command can satisfy names that command, runnable as written
(``shipwise release approve rel-3 --env production -p shop``, from ``commands``); the
words before it say what the command stands for.

The hotfix path (a critical bug fixed from ``main`` goes straight to production with two
approvals and a written justification) has its own, shorter list: eligibility, the
justification, the hotfix approvals and CI. It skips the environments in between and
bypasses business hours and freezes, because an outage does not wait for Monday; the
decision still lists those two gates, passed, with "bypassed by the hotfix path" in their
detail, so the audit record shows what was skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shipwise.domain import commands
from shipwise.domain.policy_model import ApprovalRule, Policy, StageGates, Window
from shipwise.domain.releases import (
    Approval,
    ApproverRole,
    ChangeKind,
    CiResult,
    Evidence,
    GateResult,
    OtherRelease,
    PromotionDecision,
    Release,
    ReleaseStatus,
    Severity,
)

__all__ = [
    "BYPASSED",
    "HOTFIX_PATH",
    "describe_gates",
    "evaluate_promotion",
    "fix_by",
    "gate_label",
    "hotfix_environment",
    "hotfix_gates",
    "is_hotfix_eligible",
    "is_overdue",
    "next_environment",
    "release_gates",
    "window_gates",
]

HOTFIX_PATH = "hotfix-path"  # the gate that marks a decision taken on the hotfix path
BYPASSED = "bypassed by the hotfix path"  # how a skipped window gate's detail begins
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ROLE_LABEL = {
    ApproverRole.CODE_OWNER: "code-owner",
    ApproverRole.QA: "QA",
    ApproverRole.RELEASE_MANAGER: "release-manager",
}
_RED = frozenset({"failure", "error"})
_CI_GREEN = "the release's commit green in CI"


def _ok(gate: str, detail: str) -> GateResult:
    return GateResult(gate, True, detail)


def _no(gate: str, detail: str, remedy: str) -> GateResult:
    return GateResult(gate, False, detail, remedy)


# -- the pipeline ---------------------------------------------------------------------------


def next_environment(policy: Policy, stage: str | None) -> str | None:
    """The environment after ``stage`` (the first when None); None at the end or when
    ``stage`` is not in the pipeline."""
    environments = _environments(policy)
    if stage is None:
        return environments[0] if environments else None
    if stage not in environments:
        return None
    position = environments.index(stage) + 1
    return environments[position] if position < len(environments) else None


def hotfix_environment(policy: Policy) -> str | None:
    """Where the hotfix path goes: the environment fed by the hotfix branch (production,
    fed by ``main``), else the last one."""
    for stage in policy.stages:
        if stage.branch == policy.hotfix.branch:
            return stage.environment
    return policy.stages[-1].environment if policy.stages else None


def is_hotfix_eligible(release: Release, policy: Policy) -> bool:
    """A bug fix or hotfix of a severity the policy rushes (critical), based on the
    hotfix branch (``main``): PRODUCT.md's "hotfix branch from main"."""
    return (
        release.kind in {ChangeKind.HOTFIX, ChangeKind.BUGFIX}
        and release.severity in policy.hotfix.severities
        and release.branch == policy.hotfix.branch
    )


# -- evaluating -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    release: Release
    target: str
    stage: StageGates
    previous: str | None  # the environment before the target
    policy: Policy
    evidence: Evidence
    others: tuple[OtherRelease, ...]
    zone: ZoneInfo
    now: datetime  # in the policy's time zone

    def at(self, moment: datetime) -> str:
        return _at(moment, self.zone)


def evaluate_promotion(
    release: Release,
    target: str,
    policy: Policy,
    evidence: Evidence,
    others: Sequence[OtherRelease],
    now: datetime,
) -> PromotionDecision:
    """Every gate of promoting ``release`` into ``target`` at ``now`` (timezone-aware).
    A release eligible for the hotfix path and aimed at its environment is judged by
    ``hotfix_gates`` instead."""
    zone = _zone(policy)
    local = _local(now, zone)
    if is_hotfix_eligible(release, policy) and target == hotfix_environment(policy):
        return hotfix_gates(release, policy, evidence, now)
    results = [_status(release), _order(release, target, policy)]
    stage = policy.stage(target)
    if stage is not None:
        environments = _environments(policy)
        position = environments.index(target)
        previous = environments[position - 1] if position > 0 else None
        context = _Context(
            release, target, stage, previous, policy, evidence, tuple(others), zone, local
        )
        for check in _STAGE_CHECKS:
            results.extend(check(context))
    return PromotionDecision(release.key, target, tuple(results))


def hotfix_gates(
    release: Release, policy: Policy, evidence: Evidence, now: datetime
) -> PromotionDecision:
    """The hotfix path into ``hotfix_environment(policy)``: eligible, justified, approved
    by ``policy.hotfix.approvals`` and green in CI. Business hours and freezes are
    bypassed, and the decision says so."""
    zone = _zone(policy)
    _local(now, zone)  # refuses a naive `now`
    target = hotfix_environment(policy)
    if target is None:
        raise ValueError("the policy has no environments: there is nowhere to hotfix into")
    results = [_status(release), _hotfix_eligibility(release, target, policy)]
    if release.stage == target:
        create = commands.create(release)
        remedy = f"nothing to promote: change its content or create a new release: {create}"
        results.append(_no("order", f"{release.key} is already in {target}", remedy))
    else:
        results.append(_ok("order", f"{_where(release)} → {target} (hotfix path)"))
    if policy.hotfix.require_justification:
        results.append(_justification(release))
    results.append(_approvals(release, target, policy.hotfix.approvals, policy, evidence))
    results.append(_ci(release, evidence.ci, zone))
    for normal in window_gates(policy, target, now):
        results.append(
            _ok(normal.gate, normal.detail if normal.passed else f"{BYPASSED}: {normal.detail}")
        )
    return PromotionDecision(release.key, target, tuple(results))


def window_gates(policy: Policy, target: str, now: datetime) -> tuple[GateResult, ...]:
    """The business-hours and freeze gates of ``target`` as the normal path judges them
    at ``now``; the hotfix path reports with these what it bypassed."""
    stage = policy.stage(target)
    if stage is None:
        return ()
    zone = _zone(policy)
    local = _local(now, zone)
    results = []
    if stage.business_hours:
        results.append(_business_hours(policy.window, local, zone))
    if stage.respect_freezes:
        results.append(_freeze(policy, local.date()))
    return tuple(results)


def release_gates(
    release: Release,
    policy: Policy,
    evidence: Evidence,
    others: Sequence[OtherRelease],
    now: datetime,
) -> dict[str, PromotionDecision]:
    """The promotions open to the release next, by target: the next environment, and the
    hotfix path's environment when the release is eligible. Empty once the release is no
    longer in progress or sits in the last environment."""
    if release.status is not ReleaseStatus.IN_PROGRESS:
        return {}
    targets = [next_environment(policy, release.stage)]
    if is_hotfix_eligible(release, policy):
        targets.append(hotfix_environment(policy))
    return {
        target: evaluate_promotion(release, target, policy, evidence, others, now)
        for target in dict.fromkeys(targets)
        if target is not None and target != release.stage
    }


# -- describing, for PR bodies and "show" ---------------------------------------------------


def gate_label(gate: str) -> str:
    """A gate id in words: "signoff:qa" → "QA sign-off", "checklist:Smoke test" → "Smoke test"."""
    kind, _, rest = gate.partition(":")
    if kind == "checklist" and rest:
        return rest
    if kind == "signoff" and rest:
        return f"{_signoff_label(rest)} sign-off"
    return _GATE_LABELS.get(gate, gate)


def describe_gates(release: Release, target: str, policy: Policy) -> tuple[tuple[str, str], ...]:
    """What promoting ``release`` into ``target`` will ask for, before any evidence:
    (gate id, requirement in words), in the order ``evaluate_promotion`` reports them."""
    if is_hotfix_eligible(release, policy) and target == hotfix_environment(policy):
        wanted = [(HOTFIX_PATH, f"a {_severities(policy)} fix based on {policy.hotfix.branch}")]
        if policy.hotfix.require_justification:
            wanted.append(("justification", "a written justification for skipping the pipeline"))
        wanted.append(("approvals", _approval_requirement(policy.hotfix.approvals)))
        return (*wanted, ("ci", _CI_GREEN))
    stage = policy.stage(target)
    if stage is None:
        return ()
    environments = _environments(policy)
    position, rule = environments.index(target), stage.approvals
    checks: list[tuple[bool, str, str]] = [
        (policy.one_feature_per_release, "one-feature-per-release", "one feature per release"),
        (rule is not None, "approvals", _approval_requirement(rule) if rule else ""),
        *(
            (True, f"signoff:{kind}", f"{_signoff_label(kind)} sign-off on {tested}")
            for kind, tested in stage.signoffs
        ),
        *((True, f"checklist:{item}", item) for item in stage.checklist),
        (stage.require_ci, "ci", _CI_GREEN),
        (
            stage.require_previous_deploy and position > 0,
            "previous-deploy",
            f"the same commit deployed to {environments[position - 1]} first",
        ),
        (stage.require_rollback_plan, "rollback-plan", "a written rollback plan"),
        (
            stage.rollback_drill_in is not None,
            "rollback-drill",
            f"the rollback rehearsed in {stage.rollback_drill_in} since the last change",
        ),
        (
            stage.business_hours,
            "business-hours",
            f"during business hours ({_window(policy.window, policy.timezone)})",
        ),
        (stage.respect_freezes, "freeze", "outside freeze periods"),
        (
            stage.one_feature_rolling_out,
            "one-feature-rolling-out",
            f"at most {policy.max_feature_rollouts} feature rolling out in {target} at a time",
        ),
    ]
    return tuple((gate, text) for wanted, gate, text in checks if wanted)


# -- fix-by times ---------------------------------------------------------------------------


def fix_by(release: Release, policy: Policy) -> datetime | None:
    """When a bug fix is due by its severity (critical: at once; high: 24 h; medium: a
    week); None for no severity or "when convenient"."""
    if release.severity is None:
        return None
    within = policy.fix_within.get(release.severity)
    return None if within is None else release.created_at + within


def is_overdue(release: Release, policy: Policy, now: datetime) -> bool:
    """Still in progress after its fix-by time. A critical fix is due at once, so it is
    overdue from the moment it exists until it is released."""
    due = fix_by(release, policy)
    return due is not None and release.status is ReleaseStatus.IN_PROGRESS and now > due


# -- the gates ------------------------------------------------------------------------------


def _status(release: Release) -> GateResult:
    if release.status is ReleaseStatus.IN_PROGRESS:
        return _ok("status", "in progress")
    remedy = (
        "only a release in progress can be promoted; for more changes, create a new "
        f"release: {commands.create(release)}"
    )
    return _no("status", f"{release.key} is {release.status.value}", remedy)


def _order(release: Release, target: str, policy: Policy) -> GateResult:
    environments = _environments(policy)
    pipeline = " → ".join(environments) or "no environments"
    expected = next_environment(policy, release.stage)
    if target not in environments:
        remedy = (
            f"promote to {expected}: {commands.promote(release, expected)}"
            if expected
            else f"choose one of {pipeline}"
        )
        return _no("order", f"{target!r} is not an environment of {pipeline}", remedy)
    if release.stage is not None and release.stage not in environments:
        detail = f"{release.key} is in {release.stage!r}, which {pipeline} no longer has"
        restore = commands.restore_environment(release, release.stage)
        return _no("order", detail, f"ask an admin to restore that environment: {restore}")
    if target == expected:
        return _ok("order", f"{_where(release)} → {target}, the next environment")
    if target == release.stage:
        detail = f"{release.key} is already in {target}"
    elif release.stage and environments.index(target) < environments.index(release.stage):
        detail = f"{target} comes before {release.stage}: releases only move forward"
    else:
        detail = f"{_where(release)}; {target} is not next in {pipeline}"
    remedy = (
        f"promote to {expected} first: {commands.promote(release, expected)}"
        if expected
        else "it is in the last environment"
    )
    return _no("order", detail, remedy)


def _one_feature_per_release(context: _Context) -> Iterator[GateResult]:
    release, gate = context.release, "one-feature-per-release"
    if not context.policy.one_feature_per_release:
        return
    if release.kind is not ChangeKind.FEATURE:
        yield _ok(gate, f"a {release.kind.value} carries no feature")
    elif len(release.flags) <= 1:
        yield _ok(
            gate, f"one feature (flag {release.flags[0]})" if release.flags else "one feature"
        )
    else:
        flags = _names(release.flags)
        detail = f"{release.key} carries {len(release.flags)} feature flags: {flags}"
        keep = commands.split_keep(release, release.flags[0])
        other = commands.create(release, *release.flags[1:])
        remedy = (
            f"split it: keep one of {flags} here ({keep}), each other in its own release ({other})"
        )
        yield _no(gate, detail, remedy)


def _stage_approvals(context: _Context) -> Iterator[GateResult]:
    if context.stage.approvals is not None:
        rule, policy = context.stage.approvals, context.policy
        yield _approvals(context.release, context.target, rule, policy, context.evidence)


def _approvals(
    release: Release, target: str, rule: ApprovalRule, policy: Policy, evidence: Evidence
) -> GateResult:
    """Distinct approvers of the current content holding a wanted role, authors excluded.
    A self-approval is not counted, and the detail says so."""
    authors = _authors(release)
    counted: list[str] = []
    refused: dict[str, str] = {}
    for approval in sorted(evidence.approvals, key=lambda a: a.at):
        name = approval.approver
        if approval.stage != target or name in counted:
            continue
        problem = _approval_problem(approval, release, rule, policy, authors)
        if problem is None:
            counted.append(name)
            refused.pop(name, None)
        else:
            refused[name] = problem
    plural = "" if len(counted) == 1 else "s"
    found = f"{len(counted)} approval{plural} for {target}"
    found += f" ({_names(counted)}), {rule.count} needed" if counted else f", {rule.count} needed"
    detail = "; ".join([found, *refused.values()])
    if len(counted) >= rule.count:
        return _ok("approvals", detail)
    missing = rule.count - len(counted)
    excluded = [f"{_names(authors)} ({'the author' if len(authors) == 1 else 'the authors'})"]
    if counted:
        excluded.append(f"{_names(counted)} (already approved)")
    who = f"a {_roles(rule.roles)}" if rule.roles else "anyone"
    command = commands.approve(release, target)
    remedy = (
        f"needs {missing} more approval{'s' if missing > 1 else ''} from {who} "
        f"other than {' and '.join(excluded)}: {command}"
    )
    return _no("approvals", detail, remedy)


def _approval_problem(
    approval: Approval,
    release: Release,
    rule: ApprovalRule,
    policy: Policy,
    authors: tuple[str, ...],
) -> str | None:
    name = approval.approver
    held = approval.roles | ({ApproverRole.CODE_OWNER} if name in policy.code_owners else set())
    if name in authors:
        return f"{name}'s own approval does not count: an author never approves their release"
    if approval.content_version != release.content_version:
        return (
            f"{name}'s approval of content version {approval.content_version} was withdrawn "
            f"when the release changed (now version {release.content_version})"
        )
    if rule.roles and not held & rule.roles:
        return f"{name} holds {_roles(held, 'and') or 'no role'}, not {_roles(rule.roles)}"
    return None


def _signoffs(context: _Context) -> Iterator[GateResult]:
    release, authors = context.release, _authors(context.release)
    for kind, tested in context.stage.signoffs:
        label, gate = _signoff_label(kind), f"signoff:{kind}"
        notes, valid = [], None
        for signoff in sorted(context.evidence.signoffs, key=lambda s: s.at):
            if signoff.kind != kind or signoff.stage != tested:
                continue
            if signoff.by in authors:
                notes.append(f"{signoff.by} is an author and cannot sign off their own release")
            elif signoff.content_version != release.content_version:
                notes.append(
                    f"{signoff.by}'s sign-off of content version {signoff.content_version} was "
                    f"withdrawn when the release changed (now version {release.content_version})"
                )
            else:
                valid = signoff
        if valid is not None:
            yield _ok(
                gate, f"{label} signed off on {tested} by {valid.by} at {context.at(valid.at)}"
            )
            continue
        detail = "; ".join([f"no {label} sign-off on {tested} for the current content", *notes])
        command = commands.signoff(release, kind, tested)
        remedy = (
            f"needs {label} to test {tested} and sign off content version "
            f"{release.content_version}, by someone other than {_names(authors)}: {command}"
        )
        yield _no(gate, detail, remedy)


def _checklist(context: _Context) -> Iterator[GateResult]:
    target = context.target
    for item in context.stage.checklist:
        gate = f"checklist:{item}"
        checks = [c for c in context.evidence.checks if c.item == item and c.stage == target]
        if not checks:
            command = commands.check(context.release, item, target)
            remedy = (
                f"someone checks '{item}' for {target}, with a note of what they verified: "
                f"{command}"
            )
            yield _no(gate, f"'{item}' is not checked for {target}", remedy)
            continue
        last = max(checks, key=lambda c: c.at)
        found = f"checked by {last.by} at {context.at(last.at)}"
        yield _ok(gate, f"{found}: {last.note}" if last.note else found)


def _stage_ci(context: _Context) -> Iterator[GateResult]:
    if context.stage.require_ci:
        yield _ci(context.release, context.evidence.ci, context.zone)


def _ci(release: Release, ci: Sequence[CiResult], zone: ZoneInfo) -> GateResult:
    """Green: at least one success for the commit, and no check (context) whose latest
    failure or error is newer than its latest success. Pending runs neither pass nor fail."""
    commit = release.commit
    if commit is None:
        record = commands.record_commit(release)
        remedy = f"record the commit being released, then let CI run on it: {record}"
        return _no("ci", "the release has no commit recorded", remedy)
    short = _short(commit)
    by_context: dict[str, list[CiResult]] = {}
    for result in ci:
        if result.commit == commit:
            by_context.setdefault(result.context, []).append(result)
    green: list[str] = []
    red: list[tuple[str, CiResult]] = []
    pending: list[str] = []
    for name, results in sorted(by_context.items()):
        successes = [r.at for r in results if r.state.lower() == "success"]
        failures = [r for r in results if r.state.lower() in _RED]
        last_failure = max(failures, key=lambda r: r.at) if failures else None
        if last_failure is not None and (not successes or last_failure.at > max(successes)):
            red.append((name, last_failure))
        elif successes:
            green.append(name)
        else:
            pending.append(name)
    if red:
        failed = "; ".join(f"{n} {r.state.lower()} at {_at(r.at, zone)}" for n, r in red)
        names = [n for n, _ in red]
        remedy = f"fix {_names(names)} on {short} and re-run until green, reported by: "
        report = commands.ci_report(release, names)
        return _no("ci", f"{short} is red in CI: {failed}", remedy + report)
    if green:
        return _ok("ci", f"{short} green in CI ({', '.join(green)})")
    if pending:
        detail = f"CI on {short} has not finished ({', '.join(pending)} pending)"
        remedy = f"wait for {_names(pending)} to finish green on {short}, reported by: "
        return _no("ci", detail, remedy + commands.ci_report(release, pending))
    remedy = f"run CI on {short} and report it green: {commands.ci_report(release, ())}"
    return _no("ci", f"no CI result for {short}", remedy)


def _previous_deploy(context: _Context) -> Iterator[GateResult]:
    gate, previous, commit = "previous-deploy", context.previous, context.release.commit
    if not context.stage.require_previous_deploy:
        return
    if previous is None:
        yield _ok(gate, f"{context.target} is the first environment")
        return
    if commit is None:
        remedy = (
            f"record the commit being released and deploy it to {previous} first: "
            f"{commands.record_commit(context.release)}"
        )
        yield _no(gate, "the release has no commit recorded", remedy)
        return
    short = _short(commit)
    deploys = sorted(
        (d for d in context.evidence.deploys if d.environment == previous), key=lambda d: d.at
    )
    ours = [d for d in deploys if d.commit == commit]
    landed = [d for d in deploys if d.succeeded]
    if any(d.succeeded for d in ours):
        last = [d for d in ours if d.succeeded][-1]
        yield _ok(gate, f"{short} deployed to {previous} at {context.at(last.at)}")
        return
    if ours:
        detail = f"deploying {short} to {previous} failed at {context.at(ours[-1].at)}"
    elif landed:
        running = f"{_short(landed[-1].commit)} (deployed at {context.at(landed[-1].at)})"
        detail = f"{previous} runs {running}, not {short}"
    else:
        detail = f"nothing has been deployed to {previous}"
    report = commands.deploy_report(context.release, previous)
    yield _no(gate, detail, f"deploy {short} to {previous} and test it there first: {report}")


def _rollback_plan(context: _Context) -> Iterator[GateResult]:
    if not context.stage.require_rollback_plan:
        return
    plan = (context.release.rollback_plan or "").strip()
    if plan:
        lines = len(plan.splitlines())
        yield _ok("rollback-plan", f"written ({lines} line{'s' if lines > 1 else ''})")
        return
    flags = context.release.flags
    how = f"how to disable {_names(flags)}" if flags else "how to disable the change"
    remedy = (
        f"write the rollback plan ({how}, how to revert the code, and who to notify): "
        f"{commands.write_rollback_plan(context.release)}"
    )
    yield _no("rollback-plan", "no rollback plan written", remedy)


def _rollback_drill(context: _Context) -> Iterator[GateResult]:
    """The latest drill in the drill environment since the last content change must have
    succeeded; a drill of earlier content rehearsed something else."""
    where, release = context.stage.rollback_drill_in, context.release
    if where is None:
        return
    drills = sorted(
        (d for d in context.evidence.drills if d.environment == where), key=lambda d: d.at
    )
    current = [
        d
        for d in drills
        if d.content_version == release.content_version and d.at >= release.content_changed_at
    ]
    if current and current[-1].succeeded:
        found = f"rehearsed in {where} at {context.at(current[-1].at)}"
        yield _ok(
            "rollback-drill", f"{found}: {current[-1].detail}" if current[-1].detail else found
        )
        return
    drill = commands.drill(release, where)
    remedy = f"rehearse the rollback plan in {where}, which records the drill: {drill}"
    if not (release.rollback_plan or "").strip():
        remedy = f"write the rollback plan ({commands.write_rollback_plan(release)}), then {remedy}"
    if current:
        detail = f"the last rollback drill in {where} failed at {context.at(current[-1].at)}"
        detail += f": {current[-1].detail}" if current[-1].detail else ""
        remedy = f"fix what failed, then {remedy}"
    elif drills:
        detail = (
            f"the last rollback drill in {where} ({context.at(drills[-1].at)}) predates the "
            f"change at {context.at(release.content_changed_at)} "
            f"(content version {release.content_version})"
        )
    else:
        detail = f"the rollback has not been rehearsed in {where}"
    yield _no("rollback-drill", detail, remedy)


def _stage_windows(context: _Context) -> Iterator[GateResult]:
    retry = (context.release, context.target)
    if context.stage.business_hours:
        yield _business_hours(context.policy.window, context.now, context.zone, retry)
    if context.stage.respect_freezes:
        yield _freeze(context.policy, context.now.date(), retry)


def _business_hours(
    window: Window, local: datetime, zone: ZoneInfo, retry: tuple[Release, str] | None = None
) -> GateResult:
    """``retry``: the release and target whose commands the remedy names (the hotfix
    path reports these gates as bypassed, with no remedy to give)."""
    hours, moment = _window(window, zone.key), _at(local, zone)
    if local.weekday() in window.weekdays and window.start <= local.time() < window.end:
        return _ok("business-hours", f"{moment} is within business hours ({hours})")
    opening = _next_opening(window, local, zone)
    if opening is None:
        remedy = f"the policy's window ({hours}) allows no time at all: fix [window] in it"
        remedy += f" and apply it: {commands.apply_policy(retry[0])}" if retry else ""
    else:
        remedy = f"promote within business hours ({hours}); the next window opens "
        remedy += _at(opening, zone) + (f": {commands.promote(*retry)}" if retry else "")
    return _no("business-hours", f"{moment} is outside business hours ({hours})", remedy)


def _next_opening(window: Window, local: datetime, zone: ZoneInfo) -> datetime | None:
    if not window.weekdays or window.start >= window.end:
        return None
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        opening = datetime.combine(day, window.start, tzinfo=zone)
        if day.weekday() in window.weekdays and opening > local:
            return opening
    return None


def _freeze(policy: Policy, today: date, retry: tuple[Release, str] | None = None) -> GateResult:
    """Freezes include their first and last day, in the project's time zone."""
    active = [f for f in policy.freezes if f.start <= today <= f.end]
    if not active:
        upcoming = sorted((f for f in policy.freezes if f.start > today), key=lambda f: f.start)
        detail = f"no freeze on {today.isoformat()}"
        if upcoming:
            detail += f"; next: {upcoming[0].name!r} from {upcoming[0].start.isoformat()}"
        return _ok("freeze", detail)
    reopen = today
    while covering := [f for f in policy.freezes if f.start <= reopen <= f.end]:
        reopen = max(f.end for f in covering) + timedelta(days=1)
    names = "; ".join(f"{f.name!r} ({f.start.isoformat()} to {f.end.isoformat()})" for f in active)
    remedy = f"wait for the freeze to end: promotions reopen on {reopen.isoformat()}"
    remedy += f", then: {commands.promote(*retry)}" if retry else ""
    return _no("freeze", f"{today.isoformat()} is in the freeze {names}", remedy)


def _one_feature_rolling_out(context: _Context) -> Iterator[GateResult]:
    gate, target, release = "one-feature-rolling-out", context.target, context.release
    if not context.stage.one_feature_rolling_out:
        return
    if release.kind is not ChangeKind.FEATURE:
        yield _ok(gate, f"a {release.kind.value} is not a feature rollout")
        return
    limit = context.policy.max_feature_rollouts
    rollouts = f"feature rollout{'s' if limit > 1 else ''}"
    busy = sorted(
        o.key
        for o in context.others
        if o.key != release.key and o.kind is ChangeKind.FEATURE and target in o.rolling_out_in
    )
    if len(busy) < limit:
        found = f"{len(busy)} of at most {limit} {rollouts} in {target}"
        yield _ok(gate, f"{found} ({_names(busy)})" if busy else found)
        return
    one = len(busy) == 1
    detail = (
        f"{_names(busy)} {'is' if one else 'are'} rolling out in {target} "
        f"(at most {limit} {rollouts} at a time)"
    )
    watch = commands.rollouts(release, target)
    remedy = (
        f"wait until {_names(busy)} finish{'es' if one else ''} rolling out in {target} "
        f"(released or rolled back; {watch}), then promote: {commands.promote(release, target)}"
    )
    yield _no(gate, detail, remedy)


def _hotfix_eligibility(release: Release, target: str, policy: Policy) -> GateResult:
    hotfix = policy.hotfix
    if is_hotfix_eligible(release, policy):
        skipped = _between(policy, release.stage, target)
        goes = f"straight to {target}" + (f", skipping {_names(skipped)}" if skipped else "")
        severity = release.severity.value if release.severity else ""
        found = f"a {severity} {release.kind.value} based on {hotfix.branch}"
        return _ok(HOTFIX_PATH, f"{found}: the hotfix path goes {goes}")
    problems = []
    if release.kind is ChangeKind.FEATURE:
        problems.append("a feature never takes the hotfix path")
    if release.severity not in hotfix.severities:
        severity = release.severity.value if release.severity else "no severity"
        problems.append(f"severity {severity} is not {_severities(policy)}")
    if release.branch != hotfix.branch:
        problems.append(f"it is based on {release.branch or 'no branch'}, not {hotfix.branch}")
    expected = next_environment(policy, release.stage)
    remedy = (
        f"take the normal path: {commands.promote(release, expected)}"
        if expected
        else "take the normal path"
    )
    if release.kind is not ChangeKind.FEATURE and release.severity in hotfix.severities:
        branch = commands.set_branch(release, hotfix.branch)
        remedy = f"branch the fix from {hotfix.branch} ({branch}), or {remedy}"
    return _no(HOTFIX_PATH, "; ".join(problems), remedy)


def _justification(release: Release) -> GateResult:
    text = (release.justification or "").strip()
    if text:
        return _ok("justification", f"written: {_first_line(text)}")
    write = commands.write_justification(release)
    remedy = (
        "write why this cannot wait for the normal path (what is broken, for whom, since "
        f"when): {write}"
    )
    return _no("justification", "no justification written for skipping the pipeline", remedy)


_STAGE_CHECKS: tuple[Callable[[_Context], Iterator[GateResult]], ...] = (
    _one_feature_per_release,
    _stage_approvals,
    _signoffs,
    _checklist,
    _stage_ci,
    _previous_deploy,
    _rollback_plan,
    _rollback_drill,
    _stage_windows,
    _one_feature_rolling_out,
)

_GATE_LABELS = {
    "status": "Release in progress",
    "order": "Pipeline order",
    HOTFIX_PATH: "Hotfix path",
    "justification": "Justification written",
    "approvals": "Approvals",
    "ci": "CI green",
    "previous-deploy": "Deployed to the previous environment first",
    "rollback-plan": "Rollback plan written",
    "rollback-drill": "Rollback rehearsed",
    "business-hours": "Business hours",
    "freeze": "No freeze",
    "one-feature-per-release": "One feature per release",
    "one-feature-rolling-out": "One feature rolling out at a time",
}


# -- words ----------------------------------------------------------------------------------


def _zone(policy: Policy) -> ZoneInfo:
    try:
        return ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        message = f"policy timezone {policy.timezone!r} is not a known time zone, e.g. Europe/Oslo"
        raise ValueError(message) from error


def _local(now: datetime, zone: ZoneInfo) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    return now.astimezone(zone)


def _at(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M} {zone.key}"


def _window(window: Window, timezone: str) -> str:
    days = sorted(window.weekdays)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        span = f"{_WEEKDAYS[days[0]]}-{_WEEKDAYS[days[-1]]}"
    else:
        span = ", ".join(_WEEKDAYS[d] for d in days) or "no days"
    return f"{span} {window.start:%H:%M}-{window.end:%H:%M} {timezone}"


def _environments(policy: Policy) -> list[str]:
    return [s.environment for s in policy.stages]


def _where(release: Release) -> str:
    return f"{release.key} is in {release.stage}" if release.stage else f"{release.key} is new"


def _between(policy: Policy, stage: str | None, target: str) -> list[str]:
    environments = _environments(policy)
    start = environments.index(stage) + 1 if stage in environments else 0
    end = environments.index(target) if target in environments else len(environments)
    return environments[start:end]


def _authors(release: Release) -> tuple[str, ...]:
    return tuple(dict.fromkeys([release.owner, *release.authors]))


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names) or "nobody"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _roles(roles: frozenset[ApproverRole] | set[ApproverRole], joiner: str = "or") -> str:
    labels = [_ROLE_LABEL[r] for r in ApproverRole if r in roles]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {joiner} {labels[-1]}"


def _approval_requirement(rule: ApprovalRule) -> str:
    who = f"from a {_roles(rule.roles)}" if rule.roles else "from anyone"
    return f"{rule.count} approval{'s' if rule.count != 1 else ''} {who}, none of them an author"


def _signoff_label(kind: str) -> str:
    return "QA" if kind == "qa" else kind


def _severities(policy: Policy) -> str:
    return " or ".join(s.value for s in Severity if s in policy.hotfix.severities) or "none"


def _short(commit: str) -> str:
    return commit.strip()[:12]


def _first_line(text: str) -> str:
    line = text.splitlines()[0]
    return line if len(line) <= 80 else f"{line[:77]}..."
