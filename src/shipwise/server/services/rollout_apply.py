"""Carrying out one rollout decision inside one transaction: the flag change, the plan's
new state, its timeline line, the audit record and the notifications commit together,
or none of them does. Shared by people's actions (``rollouts``) and the runner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain import release_flow
from shipwise.domain.guardrails import Judgement
from shipwise.domain.releases import ReleaseStatus
from shipwise.domain.rollout import Decision, DecisionKind, PlanState, step_label
from shipwise.server.ports import (
    AuditStore,
    ProjectStore,
    ReleaseStore,
    RolloutCheck,
    RolloutPlanRecord,
    RolloutPlanStore,
    SegmentStore,
)
from shipwise.server.services._common import audit
from shipwise.server.services.errors import Invalid
from shipwise.server.services.flag_changes import (
    ConfigChange,
    FlagChangeTx,
    Target,
    apply_change_in,
)
from shipwise.server.services.notifications import AnnounceTx
from shipwise.server.services.principal import Principal
from shipwise.server.services.rollout_news import RolloutNews
from shipwise.server.services.rollout_rules import rules_for_step, switched_off


class CarryOutTx(FlagChangeTx, RolloutPlanStore, AnnounceTx, Protocol):
    """What a decision touches: the flag change (``FlagChangeTx``), the plan and its
    timeline, the release it follows, and the outbox."""


class _FollowTx(ReleaseStore, ProjectStore, AuditStore, Protocol):
    """What following a release reads and writes: the release, the pipeline, the audit."""


def judgements_dict(judgements: Mapping[str, Judgement]) -> dict[str, Any]:
    return {name: {**asdict(j), "verdict": j.verdict.value} for name, j in judgements.items()}


def plan_target(plan: RolloutPlanRecord) -> str:
    """How the audit log names a plan: ``new-checkout@production#7``."""
    return f"{plan.flag}@{plan.environment}#{plan.id}"


def segment_ids(
    tx: SegmentStore, project_id: int, names: tuple[str, ...], where: str
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for position, name in enumerate(names):
        segment = tx.get_segment(project_id, name)
        if segment is None:
            raise Invalid(
                f"no segment {name!r} in this project: create it (e.g. your beta testers) "
                "or take it out of the step's audiences",
                field=f"{where}.audiences[{position}]",
            )
        ids[name] = segment.id
    return ids


def set_flag_for_step(
    tx: FlagChangeTx, actor: Principal, plan: RolloutPlanRecord, step_index: int, project_id: int
) -> None:
    step = plan.spec.steps[step_index]
    ids = segment_ids(tx, project_id, step.audiences, f"steps[{step_index}]")
    change = ConfigChange(
        "flag.rollout",
        lambda current: rules_for_step(current.rules(), plan.flag, step, ids),
        reason=f"rollout plan #{plan.id}: step {step_index + 1}, {step_label(step)}",
        # A plan's steps are how a release reaches more users of a protected environment;
        # the plan was allowed to start (or resume) only for a release that got there.
        authority=f"rollout plan #{plan.id}",
    )
    apply_change_in(tx, actor, Target(plan.project, plan.flag, plan.environment), change)


def switch_off(tx: FlagChangeTx, actor: Principal, target: Target, why: str) -> None:
    """The flag off in one environment, audited as a rollback (by a plan or a person)."""
    change = ConfigChange(
        "flag.rollback", lambda current: switched_off(current.rules()), reason=why
    )
    apply_change_in(tx, actor, target, change)


def carry_out(
    tx: CarryOutTx,
    news: RolloutNews,
    actor: Principal,
    plan: RolloutPlanRecord,
    state: PlanState,
    decision: Decision,
    *,
    now: datetime,
    next_check_at: datetime | None,
    judgements: Mapping[str, Judgement] | None = None,
    project_id: int,
    action: str | None = None,
    announce: bool = True,
) -> RolloutPlanRecord:
    """Apply ``decision`` (already made by the domain) and record it everywhere."""
    if decision.kind in (DecisionKind.ADVANCE, DecisionKind.BAKE) and decision.step is not None:
        set_flag_for_step(tx, actor, plan, decision.step, project_id)
    elif decision.kind is DecisionKind.ROLLBACK:
        target = Target(plan.project, plan.flag, plan.environment)
        switch_off(tx, actor, target, f"rollout plan #{plan.id} rolled back: {decision.reason}")
    as_dicts = judgements_dict(judgements) if judgements is not None else None
    saved = tx.save_plan(plan, state, next_check_at, as_dicts)
    tx.add_check(
        RolloutCheck(plan.id, now, state.step, decision.kind.value, decision.reason, as_dicts or {})
    )
    audit(
        tx,
        actor,
        action or f"rollout.{decision.kind.value}",
        "rollout",
        plan_target(plan),
        project=plan.project,
        environment=plan.environment,
        before={"status": plan.state.status.value, "step": plan.state.step + 1},
        after={"status": state.status.value, "step": state.step + 1},
        reason=decision.reason,
    )
    if plan.release is not None and decision.kind in (DecisionKind.RELEASE, DecisionKind.ROLLBACK):
        _follow_release(tx, actor, plan, decision, project_id, now)
    if announce and decision.kind is not DecisionKind.HOLD:
        news.announce(tx, saved, decision, now, judgements)
    return saved


def _follow_release(
    tx: _FollowTx,
    actor: Principal,
    plan: RolloutPlanRecord,
    decision: Decision,
    project_id: int,
    now: datetime,
) -> None:
    """A plan on a release's flag decides for the release too: rolled back when the plan
    is, released when the plan finishes in the last environment the release reached."""
    release = tx.get_release(project_id, plan.release or "", for_update=True)
    if release is None or release.status is not ReleaseStatus.IN_PROGRESS:
        return
    environments = tx.list_environments(project_id)
    last = max(environments, key=lambda e: e.position).key if environments else None
    if decision.kind is DecisionKind.ROLLBACK and release.stage is not None:
        changed = release_flow.mark_rolled_back(release, now)
    elif decision.kind is DecisionKind.RELEASE and release.stage == last == plan.environment:
        changed = replace(release, status=ReleaseStatus.RELEASED)
    else:
        return
    tx.save_release(changed)
    audit(
        tx,
        actor,
        f"release.{changed.status.value}",
        "release",
        release.key,
        project=plan.project,
        environment=plan.environment,
        before={"status": release.status.value},
        after={"status": changed.status.value, "plan": plan.id},
        reason=decision.reason,
    )
