"""The release state machine as pure functions: each takes a ``Release`` and returns a new
one, or raises ``TransitionRefused`` saying why. Whether a promotion may happen is the
gates' question (``domain.gates``); this module only applies an allowed answer.

    in-progress ──promote──────────▶ in-progress, one environment on (hotfix: straight on)
    in-progress ──mark_released────▶ released      (from the last environment only)
    in-progress ──mark_rolled_back─▶ rolled-back   (once deployed somewhere)
    released    ──mark_rolled_back─▶ rolled-back
    in-progress ──abandon──────────▶ abandoned

Reaching the last environment does not make a release "released": its rollout runs
there first, and ``mark_released`` ends it.

The hotfix path: ``hotfix_decision`` judges a critical fix from ``main`` going straight to
production, and its ``HotfixEffects`` tell the service to label the release, notify the
team and switch on close monitoring. Hotfixes bypass business hours and freezes (an outage
does not wait for Monday) and the decision records that they did.

Exceptions::

    ValueError                 misuse: a naive ``now``, a malformed flag key
     └── TransitionRefused     the release is not in a state that allows the change
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from shipwise.domain.commits import normalize_commit
from shipwise.domain.gates import hotfix_gates
from shipwise.domain.keys import FLAG_KEY
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_route import is_hotfix_eligible, next_environment
from shipwise.domain.releases import (
    Evidence,
    PromotionDecision,
    PullRequest,
    Release,
    ReleaseStatus,
)

__all__ = [
    "HotfixDecision",
    "HotfixEffects",
    "TransitionRefused",
    "abandon",
    "change_content",
    "hotfix_decision",
    "is_hotfix_eligible",
    "is_hotfix_path",
    "mark_released",
    "mark_rolled_back",
    "promote",
]


class TransitionRefused(ValueError):
    """The release's state does not allow this change; the message says why."""


@dataclass(frozen=True, slots=True)
class HotfixEffects:
    """What the service does when a hotfix goes through, besides moving the stage."""

    label: str  # added to the release's labels (and its pull request)
    notify_team: bool
    close_monitoring: bool  # watch the target closely, as PRODUCT.md's first 24 hours
    skipped: tuple[str, ...]  # environments the hotfix did not pass through
    bypassed: tuple[str, ...]  # gates that would have refused now: "business-hours", "freeze"


@dataclass(frozen=True, slots=True)
class HotfixDecision:
    decision: PromotionDecision
    effects: HotfixEffects

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


def hotfix_decision(
    release: Release, policy: Policy, evidence: Evidence, now: datetime
) -> HotfixDecision:
    """The hotfix path's gates (eligibility, justification, ``policy.hotfix.approvals``,
    CI) and, when they all pass, the effects the service must carry out."""
    decision = hotfix_gates(release, policy, evidence, now)
    environments = [s.environment for s in policy.stages]
    start = environments.index(release.stage) + 1 if release.stage in environments else 0
    skipped = tuple(environments[start : environments.index(decision.target)])
    bypassed = decision.bypassed
    allowed = decision.allowed
    effects = HotfixEffects(policy.hotfix.label, allowed, allowed, skipped, bypassed)
    return HotfixDecision(decision, effects)


def is_hotfix_path(decision: PromotionDecision) -> bool:
    """Whether ``decision`` was taken on the hotfix path (``gates.evaluate_promotion``
    answers with the hotfix gates for an eligible release aimed at production)."""
    return decision.hotfix_path


def promote(
    release: Release, decision: PromotionDecision | HotfixDecision, now: datetime
) -> Release:
    """``release`` moved into ``decision.target``. Refused unless the decision is about
    this release and allowed. A hotfix needs its ``HotfixDecision`` (not the bare
    ``PromotionDecision``), so that it is labelled and its effects are not forgotten."""
    _aware(now)
    verdict = decision.decision if isinstance(decision, HotfixDecision) else decision
    if verdict.release != release.key:
        raise TransitionRefused(f"the decision is for {verdict.release}, not {release.key}")
    _require(release, {ReleaseStatus.IN_PROGRESS}, f"promoted to {verdict.target}")
    if not verdict.allowed:
        unmet = "; ".join(f"{g.gate}: {g.remedy or g.detail}" for g in verdict.unmet)
        raise TransitionRefused(f"{release.key} cannot go to {verdict.target}: {unmet}")
    if release.stage == verdict.target:
        raise TransitionRefused(f"{release.key} is already in {verdict.target}")
    labels = release.labels
    if isinstance(decision, HotfixDecision):
        if decision.effects.label not in labels:
            labels = (*labels, decision.effects.label)
    elif is_hotfix_path(verdict):
        raise TransitionRefused(
            f"{release.key} goes to {verdict.target} on the hotfix path: promote it with "
            "hotfix_decision(), so it is labelled, the team notified and monitoring switched on"
        )
    return replace(release, stage=verdict.target, labels=labels)


def mark_released(release: Release, policy: Policy, now: datetime) -> Release:
    """Done: in the last environment and rolled out."""
    _aware(now)
    _require(release, {ReleaseStatus.IN_PROGRESS}, "marked released")
    remaining = next_environment(policy, release.stage)
    if release.stage is None or remaining is not None:
        where = release.stage or "no environment yet"
        raise TransitionRefused(
            f"{release.key} is in {where}: it is released only from the last environment"
        )
    return replace(release, status=ReleaseStatus.RELEASED)


def mark_rolled_back(release: Release, now: datetime) -> Release:
    """Taken back out: from a release in progress that reached an environment, or a
    released one."""
    _aware(now)
    _require(release, {ReleaseStatus.IN_PROGRESS, ReleaseStatus.RELEASED}, "rolled back")
    if release.stage is None:
        raise TransitionRefused(
            f"{release.key} was never promoted anywhere: nothing to roll back; abandon it instead"
        )
    return replace(release, status=ReleaseStatus.ROLLED_BACK)


def abandon(release: Release, now: datetime) -> Release:
    """Given up before it was released."""
    _aware(now)
    _require(release, {ReleaseStatus.IN_PROGRESS}, "abandoned")
    return replace(release, status=ReleaseStatus.ABANDONED)


class _Unset(Enum):
    UNSET = "unset"


_UNSET = _Unset.UNSET


def change_content(
    release: Release,
    *,
    now: datetime,
    commit: str | _Unset | None = _UNSET,
    flags: Iterable[str] | _Unset = _UNSET,
    pull_requests: Iterable[PullRequest] | _Unset = _UNSET,
    rollback_plan: str | _Unset | None = _UNSET,
    communication_plan: str | _Unset | None = _UNSET,
    title: str | _Unset = _UNSET,
    justification: str | _Unset | None = _UNSET,
) -> Release:
    """``release`` with the given fields changed. A change to what is released (commit,
    flags, pull requests, rollback or communication plan) bumps ``content_version`` and
    ``content_changed_at``, withdrawing approvals, sign-offs and drills of the old
    content. The title and the justification are words about the release: no bump.
    Setting a field to what it already is changes nothing (same value back)."""
    _aware(now)
    _require(release, {ReleaseStatus.IN_PROGRESS}, "changed")
    # One spelling per commit (domain/commits.py), so "the same commit" is equality.
    new_commit = release.commit if isinstance(commit, _Unset) else _text(commit)
    if new_commit is not None and new_commit != release.commit:
        new_commit = normalize_commit(new_commit)
    new_flags = release.flags if isinstance(flags, _Unset) else _flag_keys(flags)
    prs = release.pull_requests if isinstance(pull_requests, _Unset) else tuple(pull_requests)
    plan = release.rollback_plan if isinstance(rollback_plan, _Unset) else _text(rollback_plan)
    comms = (
        release.communication_plan
        if isinstance(communication_plan, _Unset)
        else _text(communication_plan)
    )
    changed = (
        new_commit != release.commit
        or set(new_flags) != set(release.flags)
        # The same pull requests, merged or retitled since, are the same content.
        or {p.number for p in prs} != {p.number for p in release.pull_requests}
        or plan != _text(release.rollback_plan)
        or comms != _text(release.communication_plan)
    )
    if not isinstance(title, _Unset) and not title.strip():
        raise ValueError("a release needs a title: say what it changes")
    updated = replace(
        release,
        commit=new_commit,
        flags=new_flags,
        pull_requests=prs,
        rollback_plan=plan,
        communication_plan=comms,
        title=release.title if isinstance(title, _Unset) else title.strip(),
        justification=(
            release.justification if isinstance(justification, _Unset) else _text(justification)
        ),
    )
    if changed:
        return replace(
            updated,
            content_version=release.content_version + 1,
            content_changed_at=max(now, release.content_changed_at),
        )
    return release if updated == release else updated


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _flag_keys(flags: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(flags))
    for flag in wanted:
        if problem := FLAG_KEY.problem(flag):
            raise ValueError(problem)
    return wanted


def _require(release: Release, allowed: set[ReleaseStatus], verb: str) -> None:
    if release.status not in allowed:
        states = " or ".join(sorted(s.value for s in allowed))
        raise TransitionRefused(
            f"{release.key} is {release.status.value}: only a release that is {states} "
            f"can be {verb}"
        )


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
