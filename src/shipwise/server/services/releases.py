"""Releases through the pipeline: create, change, gather evidence, and promote only when
every gate of the target stage passes (``domain.gates``), all audited.

A refused promotion changes nothing and says, gate by gate, what would satisfy it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipwise.domain import gates, release_flow
from shipwise.domain.access import Action
from shipwise.domain.change_requests import Reviewer, approver_roles
from shipwise.domain.commits import normalize_commit
from shipwise.domain.keys import RELEASE_KEY
from shipwise.domain.policy_model import Policy
from shipwise.domain.pr_body import render_pr_body
from shipwise.domain.releases import (
    ApproverRole,
    ChangeKind,
    Evidence,
    GateResult,
    OtherRelease,
    PromotionDecision,
    PullRequest,
    Release,
    ReleaseStatus,
    Severity,
)
from shipwise.domain.rollout import PlanStatus
from shipwise.server.ports import Clock, Notification, Project, Store, Transaction
from shipwise.server.services._common import (
    audit,
    check_key,
    environment_or_404,
    project_or_404,
)
from shipwise.server.services.errors import Conflict, Invalid, NotFound, ServiceError
from shipwise.server.services.notifications import Notifications
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import project_policy
from shipwise.server.services.release_testers import switch_on_for_testers

log = logging.getLogger(__name__)

_CONTENT_FIELDS = frozenset(
    {
        "commit",
        "flags",
        "pull_requests",
        "rollback_plan",
        "communication_plan",
        "title",
        "justification",
    }
)


class PromotionRefused(ServiceError):
    """409: the gates of the target stage are not all met; nothing changed."""

    status = 409

    def __init__(self, decision: PromotionDecision) -> None:
        unmet = "; ".join(f"{g.gate}: {g.remedy or g.detail}" for g in decision.unmet)
        super().__init__(f"{decision.release} cannot go to {decision.target}: {unmet}")
        self.decision = decision

    def details(self) -> dict[str, object]:
        return {"gates": [gate_dict(g) for g in self.decision.gates]}


def gate_dict(gate: GateResult) -> dict[str, object]:
    return {"gate": gate.gate, "passed": gate.passed, "detail": gate.detail, "remedy": gate.remedy}


@dataclass(frozen=True, slots=True)
class ReleaseView:
    release: Release
    evidence: Evidence
    next_stage: str | None
    decision: PromotionDecision | None  # the gates of the next promotion, if any


def next_stage(release: Release, policy: Policy) -> str | None:
    """Where the release goes next: the next environment of the pipeline, or straight to
    production for a hotfix that qualifies for the hotfix path."""
    if release.status is not ReleaseStatus.IN_PROGRESS:
        return None
    if release.stage is None and gates.is_hotfix_eligible(release, policy):
        return gates.hotfix_environment(policy)
    return gates.next_environment(policy, release.stage)


def _roles_of(principal: Principal, policy: Policy) -> frozenset[ApproverRole]:
    """What an approver holds (the one rule change requests use too)."""
    reviewer = Reviewer(principal.person, principal.role, principal.global_admin)
    return approver_roles(reviewer, policy.code_owners)


def _release_dict(release: Release) -> dict[str, Any]:
    return {
        "title": release.title,
        "kind": release.kind.value,
        "severity": None if release.severity is None else release.severity.value,
        "owner": release.owner,
        "flags": list(release.flags),
        "commit": release.commit,
        "branch": release.branch,
        "pull_requests": [p.number for p in release.pull_requests],
        "rollback_plan": release.rollback_plan,
        "communication_plan": release.communication_plan,
        "stage": release.stage,
        "status": release.status.value,
        "content_version": release.content_version,
        "labels": list(release.labels),
    }


class ReleaseService:
    def __init__(
        self, store: Store, clock: Clock, notifications: Notifications | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._notifications = notifications

    # -- policy -----------------------------------------------------------------------

    def policy_for(self, tx: Transaction, project: Project, source: str | None = None) -> Policy:
        """The project's policy: ``source`` (or the applied shipwise.toml) over the
        defaults for its pipeline and time zone."""
        return project_policy(tx, project, source)

    # -- releases ---------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        project_key: str,
        *,
        title: str,
        kind: str,
        key: str | None = None,
        owner: str | None = None,
        severity: str | None = None,
        flags: Sequence[str] = (),
        commit: str | None = None,
        branch: str | None = None,
        pull_requests: Sequence[PullRequest] = (),
        rollback_plan: str | None = None,
        communication_plan: str | None = None,
        justification: str | None = None,
        authors: Sequence[str] = (),
    ) -> Release:
        commit = None if commit is None else _commit(commit)
        change = _enum(ChangeKind, kind, "kind")
        level = None if severity is None else _enum(Severity, severity, "severity")
        if change is not ChangeKind.FEATURE and level is None:
            raise Invalid(
                "a bug fix or hotfix needs a severity: critical, high, medium or low",
                field="severity",
            )
        if key is not None:
            check_key(key, rule=RELEASE_KEY)
        now = self._clock()
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_RELEASES, project)
            for flag in flags:
                if tx.get_flag(project.id, flag) is None:
                    raise Invalid(f"no flag {flag!r} in project {project_key!r}", field="flags")
            key = key or f"rel-{tx.next_release_number(project.id)}"
            if tx.get_release(project.id, key) is not None:
                raise Conflict(f"release {key!r} already exists in project {project_key!r}")
            person = owner or principal.person
            release = tx.add_release(
                project.id,
                Release(
                    id=0,
                    project=project_key,
                    key=key,
                    title=title,
                    kind=change,
                    owner=person,
                    created_at=now,
                    content_changed_at=now,
                    severity=level,
                    flags=tuple(flags),
                    commit=commit,
                    branch=branch,
                    pull_requests=tuple(pull_requests),
                    rollback_plan=rollback_plan,
                    communication_plan=communication_plan,
                    justification=justification,
                    authors=tuple(dict.fromkeys([person, *authors])),
                ),
            )
            audit(
                tx,
                principal,
                "release.create",
                "release",
                key,
                project=project_key,
                after=_release_dict(release),
            )
        return release

    def _load(
        self, tx: Transaction, principal: Principal, project_key: str, key: str, action: Action
    ) -> tuple[Project, Release]:
        project = project_or_404(tx, project_key)
        principal.require(action, project)
        release = tx.get_release(project.id, key, for_update=action is not Action.READ)
        if release is None:
            raise NotFound(f"no release {key!r} in project {project_key!r}")
        return project, release

    def _others(self, tx: Transaction, project: Project, release: Release) -> list[OtherRelease]:
        return [
            OtherRelease(r.key, r.kind, r.status, frozenset({r.stage}) if r.stage else frozenset())
            for r in tx.list_releases(project.id)
            if r.id != release.id and r.status is ReleaseStatus.IN_PROGRESS
        ]

    def _decide(
        self, tx: Transaction, project: Project, release: Release, target: str | None
    ) -> tuple[PromotionDecision | None, Policy, Evidence]:
        policy = self.policy_for(tx, project)
        evidence = tx.evidence(project.id, release)
        if target is not None:  # a typo names no environment: a mistake, not a closed gate
            environment_or_404(tx, project, target)
        target = target or next_stage(release, policy)
        if target is None:
            return None, policy, evidence
        decision = gates.evaluate_promotion(
            release, target, policy, evidence, self._others(tx, project, release), self._clock()
        )
        return decision, policy, evidence

    def show(self, principal: Principal, project_key: str, key: str) -> ReleaseView:
        with self._store.read() as tx:
            project, release = self._load(tx, principal, project_key, key, Action.READ)
            decision, _policy, evidence = self._decide(tx, project, release, None)
            return ReleaseView(
                release, evidence, None if decision is None else decision.target, decision
            )

    def all(self, principal: Principal, project_key: str) -> list[Release]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.list_releases(project.id)

    def gate_check(
        self, principal: Principal, project_key: str, key: str, target: str | None
    ) -> PromotionDecision:
        with self._store.read() as tx:
            project, release = self._load(tx, principal, project_key, key, Action.READ)
            decision, _policy, _evidence = self._decide(tx, project, release, target)
            if decision is None:
                raise Invalid(f"{key} is already in the last environment", field="env")
            return decision

    def update(
        self, principal: Principal, project_key: str, key: str, changes: Mapping[str, Any]
    ) -> Release:
        """Change what is being released. Content changes withdraw approvals, sign-offs
        and drills (they count only for the content they saw)."""
        with self._store.transaction() as tx:
            project, release = self._load(tx, principal, project_key, key, Action.MANAGE_RELEASES)
            for flag in changes.get("flags") or ():
                if tx.get_flag(project.id, flag) is None:
                    raise Invalid(f"no flag {flag!r} in project {project_key!r}", field="flags")
            unknown = set(changes) - _CONTENT_FIELDS
            if unknown:
                raise Invalid(f"cannot change {sorted(unknown)} of a release", field=min(unknown))
            if changes.get("commit") is not None:
                changes = {**changes, "commit": _commit(changes["commit"])}
            try:
                changed = release_flow.change_content(release, now=self._clock(), **dict(changes))
            except release_flow.TransitionRefused as error:
                raise Conflict(str(error)) from None
            except ValueError as error:
                raise Invalid(str(error)) from None
            saved = tx.save_release(changed)
            audit(
                tx,
                principal,
                "release.update",
                "release",
                key,
                project=project_key,
                before=_release_dict(release),
                after=_release_dict(saved),
            )
        return saved

    def _record(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        *,
        action: Action,
        kind: str,
        stage: str | None,
        data: dict[str, Any],
    ) -> Release:
        with self._store.transaction() as tx:
            project, release = self._load(tx, principal, project_key, key, action)
            policy = self.policy_for(tx, project)
            stage = stage or next_stage(release, policy) or release.stage or ""
            if policy.stage(stage) is None:
                raise Invalid(f"no environment {stage!r} in the pipeline", field="stage")
            if kind == "approval":
                if principal.person in release.authors:
                    raise Conflict(
                        f"{principal.person} wrote {key} and cannot approve it; ask a reviewer"
                    )
                data = {"roles": sorted(r.value for r in _roles_of(principal, policy))}
            tx.add_evidence(release, kind, stage, principal.person, self._clock(), data)
            audit(
                tx,
                principal,
                f"release.{kind}",
                "release",
                key,
                project=project_key,
                environment=stage,
                after={**data, "by": principal.person, "content_version": release.content_version},
            )
        return release

    def approve(
        self, principal: Principal, project_key: str, key: str, stage: str | None = None
    ) -> Release:
        return self._record(
            principal,
            project_key,
            key,
            action=Action.APPROVE,
            kind="approval",
            stage=stage,
            data={},
        )

    def check_item(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        item: str,
        note: str | None = None,
        stage: str | None = None,
    ) -> Release:
        if not item.strip():
            raise Invalid("name the checklist item", field="item")
        return self._record(
            principal,
            project_key,
            key,
            action=Action.MANAGE_RELEASES,
            kind="check",
            stage=stage,
            data={"item": item, "note": note},
        )

    def sign_off(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        kind: str = "qa",
        stage: str = "staging",
    ) -> Release:
        return self._record(
            principal,
            project_key,
            key,
            action=Action.SIGN_OFF,
            kind="signoff",
            stage=stage,
            data={"kind": kind},
        )

    def record_drill(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        stage: str,
        succeeded: bool,
        detail: str = "",
    ) -> Release:
        return self._record(
            principal,
            project_key,
            key,
            action=Action.PROMOTE,
            kind="drill",
            stage=stage,
            data={"succeeded": succeeded, "detail": detail},
        )

    def promote(
        self, principal: Principal, project_key: str, key: str, target: str | None = None
    ) -> tuple[Release, PromotionDecision, list[str]]:
        """The promoted release, the gates it passed, and the flags it switched on for
        the target stage's testers (none in a protected stage: its rollout plan decides)."""
        with self._store.transaction() as tx:
            project, release = self._load(tx, principal, project_key, key, Action.PROMOTE)
            decision, policy, evidence = self._decide(tx, project, release, target)
            if decision is None:
                raise Invalid(f"{key} is already in the last environment", field="env")
            if not decision.allowed:
                raise PromotionRefused(decision)
            after: dict[str, Any] = {"gates": [g.gate for g in decision.gates]}
            if release_flow.is_hotfix_path(decision):
                hotfix = release_flow.hotfix_decision(release, policy, evidence, self._clock())
                moved = release_flow.promote(release, hotfix, self._clock())
                effects = hotfix.effects
                # Recorded for the notifier and the rollout runner (later issues act on it).
                after["hotfix"] = {
                    "label": effects.label,
                    "notify_team": effects.notify_team,
                    "close_monitoring": effects.close_monitoring,
                    "skipped": list(effects.skipped),
                    "bypassed": list(effects.bypassed),
                }
                if effects.notify_team and self._notifications is not None:
                    skipped = ", ".join(effects.skipped) or "nothing"
                    self._notifications.announce(
                        tx,
                        Notification(
                            kind="release.hotfix",
                            project=project_key,
                            title=f"HOTFIX {key} ({release.title}) promoted to {decision.target}",
                            text=(
                                f"By {principal.person}, skipping {skipped}. "
                                f"Why: {release.justification or 'no justification given'}. "
                                f"Watch {decision.target} closely for the next 24 hours."
                            ),
                            at=self._clock(),
                            release=key,
                            environment=decision.target,
                            severity="critical",
                            data={"skipped": list(effects.skipped), "by": principal.person},
                        ),
                    )
            else:
                moved = release_flow.promote(release, decision, self._clock())
            promoted = tx.save_release(moved)
            after["stage"] = promoted.stage
            stage = policy.stage(decision.target)  # the hotfix path too: the rule is by stage
            switched = switch_on_for_testers(tx, principal, project, release, stage)
            if switched and stage is not None:
                after["switched_on"] = {"flags": switched, "testers": stage.testers}
            audit(
                tx,
                principal,
                "release.promote",
                "release",
                key,
                project=project_key,
                environment=decision.target,
                before={"stage": release.stage},
                after=after,
                reason=release.justification if "hotfix" in after else None,
            )
        return promoted, decision, switched

    def abandon(self, principal: Principal, project_key: str, key: str, reason: str) -> Release:
        if not reason.strip():
            raise Invalid("say why the release is abandoned", field="reason")
        with self._store.transaction() as tx:
            project, release = self._load(tx, principal, project_key, key, Action.MANAGE_RELEASES)
            running = [
                plan
                for plan in tx.list_plans(project.id, release_id=release.id, active_only=True)
                if plan.state.status is not PlanStatus.PAUSED
            ]
            if running:
                # An abandoned release ships nothing, but its plan would go on widening the
                # flag under the release's authority: the feature is taken back first. (A
                # paused plan waits for a person, and resuming re-checks the release.)
                plans = ", ".join(f"#{p.id} ({p.flag} in {p.environment})" for p in running)
                raise Conflict(
                    f"{key} is still rolling out (rollout plan {plans}): roll it back first "
                    f"(`shipwise rollback {key} --reason WHY -p {project_key}`), then abandon "
                    "it; nothing changed",
                    field="status",
                )
            try:
                abandoned = release_flow.abandon(release, self._clock())
            except release_flow.TransitionRefused as error:
                raise Conflict(str(error)) from None
            saved = tx.save_release(abandoned)
            audit(
                tx,
                principal,
                "release.abandon",
                "release",
                key,
                project=project_key,
                before={"status": release.status.value},
                after={"status": saved.status.value},
                reason=reason,
            )
        return saved

    def pr_body(self, principal: Principal, project_key: str, key: str) -> str:
        with self._store.read() as tx:
            project, release = self._load(tx, principal, project_key, key, Action.READ)
            decision, policy, _evidence = self._decide(tx, project, release, None)
            return render_pr_body(release, policy, decision)

    # -- evidence from CI ---------------------------------------------------------------

    def report_deploy(
        self,
        principal: Principal,
        project_key: str,
        environment: str,
        commit: str,
        succeeded: bool = True,
    ) -> None:
        commit = _commit(commit)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.REPORT, project)
            if tx.get_environment(project.id, environment) is None:
                raise NotFound(f"no environment {environment!r} in project {project_key!r}")
            tx.add_deploy(
                project.id, environment, commit, succeeded, principal.actor, self._clock()
            )
            audit(
                tx,
                principal,
                "deploy.report",
                "deploy",
                commit,
                project=project_key,
                environment=environment,
                after={"commit": commit, "succeeded": succeeded},
            )

    def report_ci(
        self, principal: Principal, project_key: str, commit: str, context: str, state: str
    ) -> None:
        if state not in {"success", "failure", "pending", "error"}:
            raise Invalid("state must be success, failure, pending or error", field="state")
        commit = _commit(commit)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.REPORT, project)
            tx.add_ci_result(project.id, commit, context, state, self._clock())
            audit(
                tx,
                principal,
                "ci.report",
                "commit",
                commit,
                project=project_key,
                after={"context": context, "state": state},
            )


def _commit(value: str) -> str:
    """The full lower-case SHA every edge stores, so the gates' exact comparison (and
    SQL's) holds; a short or malformed one is a 422 naming the field."""
    try:
        return normalize_commit(value)
    except ValueError as problem:
        raise Invalid(str(problem), field="commit") from None


def _enum(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise Invalid(f"unknown {field} {value!r}; choose one of {choices}", field=field) from None
