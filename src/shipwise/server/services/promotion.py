"""Promoting a release: only when every gate of the target stage passes
(``domain.gates``), audited; on the hotfix path the team is told.

A refused promotion changes nothing and says, gate by gate, what would satisfy it; the
refusal is told afterwards in a small unit of work of its own (``promotion.refused``,
once per release, target and set of failing gates). A release entering the stage where
it is tested before production asks for its sign-off (``signoff.requested``), naming who
can give it. Each decision reads the clock once (the transaction's injected clock): the
gates, the promotion's stamp and the notices all see the same ``now``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain import gates, release_flow, release_route
from shipwise.domain.access import Action
from shipwise.domain.events import DEFAULT_SEVERITY, EventKind
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import (
    Evidence,
    GateResult,
    OtherRelease,
    PromotionDecision,
    Release,
    ReleaseStatus,
)
from shipwise.server.ports import (
    Clocked,
    Notification,
    Project,
    ProjectStore,
    ReleaseStore,
    StoreOf,
    TokenStore,
)
from shipwise.server.services._common import audit, environment_or_404
from shipwise.server.services.errors import Invalid, ServiceError
from shipwise.server.services.flag_changes import FlagChangeTx
from shipwise.server.services.notifications import AnnounceTx, Notifications
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_news import (
    ReleaseNews,
    named,
    roles_that_can,
    unmet_lines,
    who_can,
)
from shipwise.server.services.release_policy import ReleasePolicy
from shipwise.server.services.release_testers import switch_on_for_testers

__all__ = [
    "DecideTx",
    "Decided",
    "PromoteTx",
    "PromotionRefused",
    "PromotionService",
    "decide",
    "gate_dict",
]


log = logging.getLogger(__name__)


class DecideTx(ProjectStore, ReleaseStore, Protocol):
    """What judging a promotion reads: the pipeline and the policy, the release's
    evidence and the other releases in progress."""


class PromoteTx(DecideTx, FlagChangeTx, AnnounceTx, TokenStore, Clocked, Protocol):
    """What a promotion touches: the gates (``DecideTx``), the release, its flags for the
    stage's testers (``FlagChangeTx``), the audit log, the notices, and the project's
    tokens (who can sign off)."""


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
    found = {"gate": gate.gate, "passed": gate.passed, "detail": gate.detail, "remedy": gate.remedy}
    return found | {"bypassed": gate.bypassed, "hotfix_path": gate.hotfix_path}


@dataclass(frozen=True, slots=True)
class Decided:
    """The gates of the next (or the named) promotion, if there is one, and what they
    were judged on."""

    decision: PromotionDecision | None
    policy: Policy
    evidence: Evidence


def _others(tx: ReleaseStore, project: Project, release: Release) -> list[OtherRelease]:
    in_progress = tx.list_releases(project.id, status=ReleaseStatus.IN_PROGRESS)
    return [
        OtherRelease(r.key, r.kind, r.status, frozenset({r.stage}) if r.stage else frozenset())
        for r in in_progress
        if r.id != release.id
    ]


def decide(
    tx: DecideTx,
    policies: ReleasePolicy,
    project: Project,
    release: Release,
    target: str | None,
    now: datetime,
) -> Decided:
    """The gates of promoting ``release`` into ``target`` (default: its next stage)."""
    policy = policies.policy_for(tx, project)
    evidence = tx.evidence(project.id, release)
    if target is not None:  # a typo names no environment: a mistake, not a closed gate
        environment_or_404(tx, project, target)
    target = target or policies.next_stage(release, policy)
    if target is None:
        return Decided(None, policy, evidence)
    others = _others(tx, project, release)
    decision = gates.evaluate_promotion(release, target, policy, evidence, others, now)
    return Decided(decision, policy, evidence)


class PromotionService:
    def __init__(
        self,
        store: StoreOf[PromoteTx],
        policy: ReleasePolicy,
        notifications: Notifications | None = None,
        news: ReleaseNews | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._notifications = notifications
        self._news = news

    def promote(
        self, principal: Principal, project_key: str, key: str, target: str | None = None
    ) -> tuple[Release, PromotionDecision, list[str]]:
        """The promoted release, the gates it passed, and the flags it switched on for
        the target stage's testers (none in a protected stage: its rollout plan decides)."""
        try:
            return self._promote(principal, project_key, key, target)
        except PromotionRefused as refused:
            # The refusal rolled its unit of work back (it changes nothing); it is told
            # in one of its own, after it.
            self._announce_refused(principal, project_key, key, refused.decision)
            raise

    def _promote(
        self, principal: Principal, project_key: str, key: str, target: str | None
    ) -> tuple[Release, PromotionDecision, list[str]]:
        with self._store.transaction() as tx:
            now = tx.now()
            project, release = release_or_404(tx, principal, project_key, key, Action.PROMOTE)
            decided = decide(tx, self._policy, project, release, target, now)
            decision, policy = decided.decision, decided.policy
            if decision is None:
                raise Invalid(f"{key} is already in the last environment", field="env")
            if not decision.allowed:
                raise PromotionRefused(decision)
            after: dict[str, Any] = {"gates": [g.gate for g in decision.gates]}
            if release_flow.is_hotfix_path(decision):
                hotfix = release_flow.hotfix_decision(release, policy, decided.evidence, now)
                moved = release_flow.promote(release, hotfix, now)
                effects = hotfix.effects
                # Recorded for the notifier and the rollout runner (later issues act on it).
                after["hotfix"] = {
                    "label": effects.label,
                    "notify_team": effects.notify_team,
                    "close_monitoring": effects.close_monitoring,
                    "skipped": list(effects.skipped),
                    "bypassed": list(effects.bypassed),
                }
                if effects.notify_team:
                    self._announce_hotfix(tx, principal, release, decision, effects, now)
            else:
                moved = release_flow.promote(release, decision, now)
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
            if "hotfix" not in after:  # a hotfix's own notice says it was promoted
                self._announce_done(tx, principal, promoted, decision.target, now)
            self._ask_for_signoff(tx, promoted, decision.target, policy, now)
        return promoted, decision, switched

    def _announce_refused(
        self, principal: Principal, project_key: str, key: str, decision: PromotionDecision
    ) -> None:
        """``promotion.refused`` with the gates not met: once per release, target and set
        of failing gates, so retrying the same promotion tells nobody twice. Telling is
        best effort: the person who tried hears the refusal whatever happens here."""
        if self._news is None:
            return
        failing = sorted(g.gate for g in decision.unmet)
        try:
            with self._store.transaction() as tx:
                project = tx.get_project(project_key)
                release = None if project is None else tx.get_release(project.id, key)
                if release is None:
                    return
                self._news.announce(
                    tx,
                    EventKind.PROMOTION_REFUSED,
                    release,
                    f"{named(release)} cannot go to {decision.target} yet",
                    [
                        f"{principal.person} tried to promote it; "
                        f"{len(failing)} gate(s) are not met:",
                        *unmet_lines(decision.gates),
                    ],
                    now=tx.now(),
                    event_key=f"{decision.target}|{','.join(failing)}",
                    environment=decision.target,
                    data={"by": principal.person, "refused_by": failing},
                )
        except Exception:  # never instead of the refusal: the caller must still hear it
            log.exception("telling the refusal of %s to %s failed", key, decision.target)

    def _ask_for_signoff(
        self, tx: PromoteTx, release: Release, target: str, policy: Policy, now: datetime
    ) -> None:
        """``signoff.requested`` when ``release`` enters the stage where it is tested
        before production and a later stage asks for a sign-off there: what to sign off,
        who can, and how."""
        if self._news is None or target != release_route.pre_production(policy):
            return
        kinds = sorted(
            {kind for s in policy.stages for kind, where in s.signoffs if where == target}
        )
        if not kinds:
            return
        project = tx.get_project(release.project)
        people = who_can(tx.list_tokens(project.id), Action.SIGN_OFF, now) if project else []
        roles = ", ".join(roles_that_can(Action.SIGN_OFF))
        lines = [
            f"{named(release)} is in {target} to be tested; it needs a "
            f"{' and a '.join(kinds)} sign-off there before it can go on.",
            f"Who can sign off: {', '.join(people) or 'nobody has a token yet'} "
            f"(the roles {roles}).",
            f"Sign off on its page, or `shipwise release signoff {release.key} "
            f"-p {release.project} --kind {kinds[0]}`.",
        ]
        self._news.announce(
            tx,
            EventKind.SIGNOFF_REQUESTED,
            release,
            f"{named(release)} waits for {' and '.join(kinds).upper()} sign-off in {target}",
            lines,
            now=now,
            event_key=f"{target}|v{release.content_version}",
            environment=target,
            data={"kinds": kinds, "who": people, "roles": roles_that_can(Action.SIGN_OFF)},
        )

    def _announce_done(
        self, tx: AnnounceTx, principal: Principal, release: Release, target: str, now: datetime
    ) -> None:
        if self._notifications is None:
            return
        self._notifications.announce(
            tx,
            Notification(
                kind=EventKind.PROMOTION_DONE.value,
                project=release.project,
                title=f"{release.key} ({release.title}) promoted to {target}",
                text=f"Promoted by {principal.person}.",
                at=now,
                release=release.key,
                environment=target,
                severity=DEFAULT_SEVERITY[EventKind.PROMOTION_DONE].label,
                data={"by": principal.person, "flags": list(release.flags)},
            ),
        )

    def _announce_hotfix(
        self,
        tx: AnnounceTx,
        principal: Principal,
        release: Release,
        decision: PromotionDecision,
        effects: release_flow.HotfixEffects,
        now: datetime,
    ) -> None:
        if self._notifications is None:
            return
        skipped = ", ".join(effects.skipped) or "nothing"
        self._notifications.announce(
            tx,
            Notification(
                kind="release.hotfix",
                project=release.project,
                title=f"HOTFIX {release.key} ({release.title}) promoted to {decision.target}",
                text=(
                    f"By {principal.person}, skipping {skipped}. "
                    f"Why: {release.justification or 'no justification given'}. "
                    f"Watch {decision.target} closely for the next 24 hours."
                ),
                at=now,
                release=release.key,
                environment=decision.target,
                severity="critical",
                data={"skipped": list(effects.skipped), "by": principal.person},
            ),
        )
