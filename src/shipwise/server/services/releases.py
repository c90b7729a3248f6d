"""Releases through the pipeline: create, change, show and abandon, all audited.

The rest of the release process lives along its seams: the policy's questions in
``release_policy``, approvals, checks, sign-offs, drills, CI results and deploys in
``evidence``, and promotion through the gates in ``promotion``. The names importers knew
here (``PromotionRefused``, ``gate_dict``, ``next_stage``) are re-exported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shipwise.domain import release_flow
from shipwise.domain.access import Action
from shipwise.domain.events import EventKind
from shipwise.domain.keys import RELEASE_KEY
from shipwise.domain.policy_model import Policy
from shipwise.domain.pr_body import render_pr_body
from shipwise.domain.releases import (
    ChangeKind,
    Evidence,
    PromotionDecision,
    PullRequest,
    Release,
    ReleaseStatus,
    Severity,
    people_labels,
)
from shipwise.domain.rollout import PlanStatus
from shipwise.server.ports import (
    AuditStore,
    Clocked,
    FlagStore,
    Project,
    RolloutPlanStore,
    StoreOf,
)
from shipwise.server.services._common import audit, check_key, creating, project_or_404
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.evidence import valid_commit
from shipwise.server.services.notifications import AnnounceTx
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import PolicyReader
from shipwise.server.services.promotion import DecideTx, PromotionRefused, decide, gate_dict
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_news import ReleaseNews, named
from shipwise.server.services.release_policy import ReleasePolicy, next_stage

__all__ = [
    "PromotionRefused",
    "ReleaseService",
    "ReleaseView",
    "gate_dict",
    "next_stage",
]

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


class ReleaseTx(DecideTx, FlagStore, AuditStore, RolloutPlanStore, AnnounceTx, Clocked, Protocol):
    """What a release's life touches: the gates it shows (``DecideTx``), the flags it
    names, its audit records, the rollout plans that keep it from being abandoned, and
    the outbox that tells the team it exists."""


@dataclass(frozen=True, slots=True)
class ReleaseView:
    release: Release
    evidence: Evidence
    next_stage: str | None
    decision: PromotionDecision | None  # the gates of the next promotion, if any


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
        self, store: StoreOf[ReleaseTx], policy: ReleasePolicy, news: ReleaseNews | None = None
    ) -> None:
        self._store = store
        self._policy = policy
        self._news = news

    def policy_for(self, tx: PolicyReader, project: Project, source: str | None = None) -> Policy:
        """The project's policy (``ReleasePolicy.policy_for``), for the services that
        reach it through this one (change requests, policies)."""
        return self._policy.policy_for(tx, project, source)

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
        labels: Sequence[str] = (),
    ) -> Release:
        commit = None if commit is None else valid_commit(commit)
        change = _enum(ChangeKind, kind, "kind")
        level = None if severity is None else _enum(Severity, severity, "severity")
        if change is not ChangeKind.FEATURE and level is None:
            raise Invalid(
                "a bug fix or hotfix needs a severity: critical, high, medium or low",
                field="severity",
            )
        if key is not None:
            check_key(key, rule=RELEASE_KEY)
        # The unique key decides a race the check below cannot: a 409, never a 500.
        with creating(self._store, "key") as tx:
            now = tx.now()
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_RELEASES, project)
            for flag in flags:
                if tx.get_flag(project.id, flag) is None:
                    raise Invalid(f"no flag {flag!r} in project {project_key!r}", field="flags")
            release_key = key or f"rel-{tx.next_release_number(project.id)}"
            if tx.get_release(project.id, release_key) is not None:
                raise Conflict(f"release {release_key!r} already exists in project {project_key!r}")
            person = owner or principal.person
            given = self._labels(tx, project, labels, ())
            release = tx.add_release(
                project.id,
                Release(
                    id=0,
                    project=project_key,
                    key=release_key,
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
                    labels=given,
                ),
            )
            audit(
                tx,
                principal,
                "release.create",
                "release",
                release_key,
                project=project_key,
                after=_release_dict(release),
            )
            if self._news is not None:
                self._announce_created(tx, principal, release, project)
        return release

    def _announce_created(
        self, tx: ReleaseTx, principal: Principal, release: Release, project: Project
    ) -> None:
        """``release.created``: what it is, whose, what it carries and where it goes."""
        assert self._news is not None
        kind = "bug fix" if release.kind is ChangeKind.BUGFIX else release.kind.value
        if release.severity is not None:
            kind = f"{release.severity.value}-severity {kind}"
        lines = [f"A {kind} owned by {release.owner}, created by {principal.person}."]
        if release.flags:
            lines.append(f"Behind the flag(s): {', '.join(release.flags)}.")
        if release.commit:
            branch = f" on {release.branch}" if release.branch else ""
            lines.append(f"Commit {release.commit[:12]}{branch}.")
        first = next_stage(release, self._policy.policy_for(tx, project))
        if first is not None:
            lines.append(f"It goes to {first} first, once its gates there are met.")
        self._news.announce(
            tx,
            EventKind.RELEASE_CREATED,
            release,
            f"New release {named(release)}",
            lines,
            now=release.created_at,
            event_key="created",
            data={"by": principal.person, "kind": release.kind.value},
        )

    def show(self, principal: Principal, project_key: str, key: str) -> ReleaseView:
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            decided = decide(tx, self._policy, project, release, None, tx.now())
            decision = decided.decision
            target = None if decision is None else decision.target
            return ReleaseView(release, decided.evidence, target, decision)

    def all(
        self,
        principal: Principal,
        project_key: str,
        *,
        stage: str | None = None,
        status: str | None = None,
    ) -> list[Release]:
        """The project's releases, oldest first; only those in ``stage`` and with
        ``status`` when given (filtered by the database, not after loading)."""
        wanted = None if status is None else _enum(ReleaseStatus, status, "status")
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.list_releases(project.id, stage=stage, status=wanted)

    def gate_check(
        self, principal: Principal, project_key: str, key: str, target: str | None
    ) -> PromotionDecision:
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            decision = decide(tx, self._policy, project, release, target, tx.now()).decision
            if decision is None:
                raise Invalid(f"{key} is already in the last environment", field="env")
            return decision

    def update(
        self, principal: Principal, project_key: str, key: str, changes: Mapping[str, Any]
    ) -> Release:
        """Change what is being released. Content changes withdraw approvals, sign-offs
        and drills (they count only for the content they saw)."""
        with self._store.transaction() as tx:
            action = Action.MANAGE_RELEASES
            project, release = release_or_404(tx, principal, project_key, key, action)
            for flag in changes.get("flags") or ():
                if tx.get_flag(project.id, flag) is None:
                    raise Invalid(f"no flag {flag!r} in project {project_key!r}", field="flags")
            changes = dict(changes)
            # Labels say what kind of change it is (``major``), not what is released:
            # they withdraw no approval.
            labels = changes.pop("labels", None)
            unknown = set(changes) - _CONTENT_FIELDS
            if unknown:
                raise Invalid(f"cannot change {sorted(unknown)} of a release", field=min(unknown))
            if changes.get("commit") is not None:
                changes = {**changes, "commit": valid_commit(changes["commit"])}
            try:
                changed = (
                    release_flow.change_content(release, now=tx.now(), **changes)
                    if changes
                    else release
                )
            except release_flow.TransitionRefused as error:
                raise Conflict(str(error)) from None
            except ValueError as error:
                raise Invalid(str(error)) from None
            if labels is not None:
                changed = replace(changed, labels=self._labels(tx, project, labels, release.labels))
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

    def _labels(
        self, tx: PolicyReader, project: Project, given: Sequence[str], kept: Sequence[str]
    ) -> tuple[str, ...]:
        reserved = self._policy.policy_for(tx, project).hotfix.label
        try:
            return people_labels(given, reserved=reserved, kept=kept)
        except ValueError as error:
            raise Invalid(str(error), field="labels") from None

    def abandon(self, principal: Principal, project_key: str, key: str, reason: str) -> Release:
        if not reason.strip():
            raise Invalid("say why the release is abandoned", field="reason")
        with self._store.transaction() as tx:
            action = Action.MANAGE_RELEASES
            project, release = release_or_404(tx, principal, project_key, key, action)
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
                abandoned = release_flow.abandon(release, tx.now())
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
            project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            decided = decide(tx, self._policy, project, release, None, tx.now())
            return render_pr_body(release, decided.policy, decided.decision)


def _enum(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise Invalid(f"unknown {field} {value!r}; choose one of {choices}", field=field) from None
