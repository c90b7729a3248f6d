"""Evidence the gates ask about, recorded one way whoever gives it: an approval, a
checklist check, a sign-off or a rollback drill about a release (``EvidenceKind``), a CI
result or a deploy about a commit. Each is stored with who gave it and audited in the
same transaction, whether a person gives it through the API, GitHub through a webhook
delivery (``github_intake``) or a rollback drill (``rollback``).

``record_*_in`` work inside the caller's transaction, stamped with the caller's ``now``;
``EvidenceService`` is the API's way in: it checks the principal's role, finds the
release and the stage, and calls them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.commits import normalize_commit
from shipwise.domain.events import EventKind
from shipwise.domain.github import CiState
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import EvidenceKind, Release
from shipwise.domain.vercel_deployments import deployment_problem
from shipwise.server.ports import (
    AuditEntry,
    AuditStore,
    Clocked,
    Project,
    ReleaseStore,
    StoreOf,
)
from shipwise.server.ports.vercel import VercelDeployment, VercelDrainStore
from shipwise.server.services._common import project_or_404
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.notifications import AnnounceTx
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_news import ReleaseNews, named
from shipwise.server.services.release_policy import ReleasePolicy
from shipwise.server.services.upcoming import UpcomingNotice, UpcomingTx

__all__ = [
    "ApprovedTx",
    "EvidenceService",
    "EvidenceTx",
    "Witness",
    "announce_approved",
    "record_ci_in",
    "record_deploy_in",
    "record_evidence_in",
    "valid_commit",
    "valid_vercel_deployment",
]


class EvidenceTx(ReleaseStore, AuditStore, Protocol):
    """What recording evidence touches: the release's records and the audit log."""


class ApprovedTx(AnnounceTx, ReleaseStore, Protocol):
    """What telling of an approval reads: the release's approvals, and the outbox."""


class EvidenceServiceTx(UpcomingTx, AnnounceTx, EvidenceTx, VercelDrainStore, Clocked, Protocol):
    """What the API's evidence reads first: the project, its pipeline and its policy
    (``ProjectStore``, through ``AnnounceTx``); stamped by the store's clock; the outbox
    that tells of an approval or a drill; what the upcoming-release notice reads; the
    Vercel deployment a deploy report names."""


@dataclass(frozen=True, slots=True)
class Witness:
    """Who records evidence: ``actor`` as the audit log names it (a token, or
    ``github:<login>``), ``person`` as the evidence names them (the approver, the
    tester), and the audit record's ``reason`` (GitHub: which delivery)."""

    actor: str
    person: str
    reason: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Witness:
        return cls(principal.actor, principal.person)


def _audit(
    tx: AuditStore,
    by: Witness,
    action: str,
    target: tuple[str, str],
    project: str,
    after: Mapping[str, Any],
    environment: str | None = None,
) -> None:
    target_type, target_key = target
    tx.append_audit(
        AuditEntry(
            actor=by.actor,
            action=action,
            target_type=target_type,
            target_key=target_key,
            project=project,
            environment=environment,
            after=after,
            reason=by.reason,
        )
    )


def record_evidence_in(
    tx: EvidenceTx,
    by: Witness,
    release: Release,
    kind: EvidenceKind,
    stage: str,
    now: datetime,
    data: dict[str, Any],
) -> None:
    """``kind`` of evidence about ``release`` for ``stage``, counting for the content it
    saw (``content_version``), audited as ``release.<kind>``."""
    tx.add_evidence(release, kind, stage, by.person, now, data)
    after = {**data, "by": by.person, "content_version": release.content_version}
    _audit(tx, by, f"release.{kind.value}", ("release", release.key), release.project, after, stage)


def record_ci_in(
    tx: EvidenceTx,
    by: Witness,
    project: Project,
    commit: str,
    check: tuple[str, str],
    now: datetime,
    event_at: datetime | None = None,
) -> None:
    """A CI check's ``(context, state)`` on ``commit``; ``event_at`` is when the
    reporter says it happened (GitHub's payload time), kept to order late deliveries."""
    context, state = check
    tx.add_ci_result(project.id, commit, context, state, now, event_at=event_at)
    after: dict[str, Any] = {"context": context, "state": state}
    if event_at is not None:
        after["event_at"] = event_at.isoformat()
    _audit(tx, by, "ci.report", ("commit", commit), project.key, after)


def record_deploy_in(
    tx: EvidenceTx,
    by: Witness,
    project: Project,
    environment: str,
    commit: str,
    succeeded: bool,
    now: datetime,
    event_at: datetime | None = None,
    noted: Mapping[str, Any] | None = None,
) -> None:
    """A deploy of ``commit`` to ``environment``, reported by ``by.actor``; ``noted``
    adds what the reporter knows to the audit record (GitHub's environment name)."""
    tx.add_deploy(project.id, environment, commit, succeeded, by.actor, now, event_at=event_at)
    after: dict[str, Any] = {"commit": commit, "succeeded": succeeded, **(noted or {})}
    if event_at is not None:
        after["event_at"] = event_at.isoformat()
    _audit(tx, by, "deploy.report", ("deploy", commit), project.key, after, environment)


def valid_commit(value: str) -> str:
    """The full lower-case SHA every edge stores, so the gates' exact comparison (and
    SQL's) holds; a short or malformed one is a 422 naming the field."""
    try:
        return normalize_commit(value)
    except ValueError as problem:
        raise Invalid(str(problem), field="commit") from None


def valid_vercel_deployment(value: str) -> str:
    """Vercel's deployment id as given; anything else is a 422 naming the field."""
    problem = deployment_problem(value)
    if problem is not None:
        raise Invalid(problem, field="vercel_deployment")
    return value


class EvidenceService:
    """Evidence given through the API, each by the principal who calls."""

    def __init__(
        self,
        store: StoreOf[EvidenceServiceTx],
        policy: ReleasePolicy,
        news: ReleaseNews | None = None,
        upcoming: UpcomingNotice | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._news = news
        self._upcoming = upcoming

    def _record(
        self,
        principal: Principal,
        where: tuple[str, str],
        action: Action,
        kind: EvidenceKind,
        stage: str | None,
        data: dict[str, Any],
    ) -> Release:
        project_key, key = where
        with self._store.transaction() as tx:
            project, release = release_or_404(tx, principal, project_key, key, action)
            policy = self._policy.policy_for(tx, project)
            stage = stage or self._default_stage(kind, release, policy)
            if policy.stage(stage) is None:
                raise Invalid(f"no environment {stage!r} in the pipeline", field="stage")
            if kind is EvidenceKind.APPROVAL:
                if principal.person in release.authors:
                    raise Conflict(
                        f"{principal.person} wrote {key} and cannot approve it; ask a reviewer"
                    )
                data = {"roles": sorted(r.value for r in self._policy.roles_of(principal, policy))}
            now = tx.now()
            record_evidence_in(tx, Witness.of(principal), release, kind, stage, now, data)
            if self._news is not None and kind is EvidenceKind.APPROVAL:
                self._announce_approved(tx, principal, (project, release), policy, stage, now)
            if self._upcoming is not None and kind is EvidenceKind.APPROVAL:
                self._upcoming.after_approval(tx, project, release, policy, stage, now)
            if self._news is not None and kind is EvidenceKind.DRILL:
                succeeded, detail = bool(data["succeeded"]), str(data.get("detail") or "")
                announce_drill(self._news, tx, release, stage, (succeeded, detail), now)
        return release

    def _announce_approved(
        self,
        tx: EvidenceServiceTx,
        principal: Principal,
        where: tuple[Project, Release],
        policy: Policy,
        stage: str,
        now: datetime,
    ) -> None:
        assert self._news is not None
        announce_approved(self._news, tx, principal.person, where, policy, (stage, now))

    def _default_stage(self, kind: EvidenceKind, release: Release, policy: Policy) -> str:
        """An approval or a check is for where the release goes next; a sign-off or a
        drill for where it is tested before production."""
        if kind in {EvidenceKind.SIGNOFF, EvidenceKind.DRILL}:
            tested = self._policy.testing_stage(policy)
        else:
            tested = None
        return tested or self._policy.next_stage(release, policy) or release.stage or ""

    def approve(
        self, principal: Principal, project_key: str, key: str, stage: str | None = None
    ) -> Release:
        where = (project_key, key)
        return self._record(principal, where, Action.APPROVE, EvidenceKind.APPROVAL, stage, {})

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
        data = {"item": item, "note": note}
        where = (project_key, key)
        return self._record(
            principal, where, Action.MANAGE_RELEASES, EvidenceKind.CHECK, stage, data
        )

    def sign_off(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        kind: str = "qa",
        stage: str | None = None,
    ) -> Release:
        """``stage`` defaults to where the pipeline tests before production."""
        where = (project_key, key)
        data = {"kind": kind}
        return self._record(principal, where, Action.SIGN_OFF, EvidenceKind.SIGNOFF, stage, data)

    def record_drill(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        stage: str | None,
        succeeded: bool,
        detail: str = "",
    ) -> Release:
        """A drill run elsewhere; ``stage`` defaults like a sign-off's."""
        where = (project_key, key)
        data = {"succeeded": succeeded, "detail": detail}
        return self._record(principal, where, Action.PROMOTE, EvidenceKind.DRILL, stage, data)

    def report_deploy(
        self,
        principal: Principal,
        project_key: str,
        environment: str,
        commit: str,
        succeeded: bool = True,
        vercel_deployment: str | None = None,
    ) -> VercelDeployment | None:
        """Records the deploy; with ``vercel_deployment`` (Vercel's ``dpl_...`` id) a
        successful one also ties that deployment to the commit and environment, so its
        drained records can be read as this deploy's. Returns the link, if one was made."""
        commit = valid_commit(commit)
        if vercel_deployment is not None:
            valid_vercel_deployment(vercel_deployment)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.REPORT, project)
            if tx.get_environment(project.id, environment) is None:
                raise NotFound(f"no environment {environment!r} in project {project_key!r}")
            by = Witness.of(principal)
            now = tx.now()
            noted = {} if vercel_deployment is None else {"vercel_deployment": vercel_deployment}
            record_deploy_in(tx, by, project, environment, commit, succeeded, now, noted=noted)
            # A failed deploy's deployment served nobody: linked, its (few, stray) records
            # would stand for the commit in a before/after comparison it never took part in.
            if vercel_deployment is None or not succeeded:
                return None
            link = VercelDeployment(project.id, vercel_deployment, environment, commit, now)
            tx.link_vercel_deployment(link)
            return link

    def report_ci(
        self, principal: Principal, project_key: str, commit: str, context: str, state: str
    ) -> None:
        if state not in set(CiState):
            raise Invalid("state must be success, failure, pending or error", field="state")
        commit = valid_commit(commit)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.REPORT, project)
            record_ci_in(tx, Witness.of(principal), project, commit, (context, state), tx.now())


def announce_drill(
    news: ReleaseNews,
    tx: AnnounceTx,
    release: Release,
    environment: str,
    outcome: tuple[bool, str],
    now: datetime,
) -> None:
    """``drill.done``: a rollback drill of ``release`` in ``environment``, passed or
    failed and why (a failed one is a warning: the production gate stays closed). Each
    drill is its own event (a drill run again is news again)."""
    succeeded, detail = outcome
    verdict = "passed" if succeeded else "failed"
    lines = [f"Rollback drill of {named(release)} in {environment} {verdict}."]
    if detail:
        lines.append(f"{detail[0].upper()}{detail[1:].rstrip('.')}.")
    if not succeeded:
        lines.append("The production gate that asks for a drill stays closed until one passes.")
    news.announce(
        tx,
        EventKind.DRILL_DONE,
        release,
        f"Rollback drill of {named(release)} {verdict} in {environment}",
        lines,
        now=now,
        event_key=f"{environment}|{now.isoformat()}",
        environment=environment,
        severity="info" if succeeded else "warning",
        data={"succeeded": succeeded, "detail": detail},
    )


def announce_approved(
    news: ReleaseNews,
    tx: ApprovedTx,
    person: str,
    where: tuple[Project, Release],
    policy: Policy,
    when: tuple[str, datetime],
) -> None:
    """``release.approved``: who approved it for where, and how many approvals that
    makes of those the stage asks for. One event per approver, stage and content."""
    stage, now = when
    project, release = where
    version = release.content_version
    approvers = {
        a.approver
        for a in tx.evidence(project.id, release).approvals
        if a.stage == stage and a.content_version == version
    }
    gates = policy.stage(stage)
    rule = None if gates is None else gates.approvals
    lines = [f"{person} approved {named(release)} for {stage}."]
    if rule is not None:
        lines.append(
            f"Approvals for {stage}: {len(approvers)} of the {rule.count} its gate asks for."
        )
    news.announce(
        tx,
        EventKind.RELEASE_APPROVED,
        release,
        f"{named(release)} approved for {stage} by {person}",
        lines,
        now=now,
        event_key=f"{stage}|v{version}|{person}",
        environment=stage,
        data={"by": person, "approvals": sorted(approvers)},
    )
