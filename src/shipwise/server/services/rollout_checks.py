"""What a rollout plan must satisfy before it shows a flag to more users.

In a protected environment a plan ships a release that has passed its gates into it
(``domain.protected_paths``), when it starts and again whenever it goes on by hand
(resume, skip): the release may have been rolled back meanwhile. Where the stage has
``one_feature_rolling_out``, at most ``max_feature_rollouts`` feature plans run at once,
counted when a plan starts (the promotion gate counts releases; this counts plans, so a
plan started without a release is held too).
"""

from __future__ import annotations

from typing import Protocol

from shipwise.domain.policy_model import Policy
from shipwise.domain.protected_paths import plan_release_refusal, rollouts_busy_refusal
from shipwise.domain.releases import ChangeKind, Release
from shipwise.server.ports import (
    Environment,
    FlagRecord,
    FlagStore,
    Project,
    ReleaseStore,
    RolloutPlanRecord,
    RolloutPlanStore,
)
from shipwise.server.services._common import flag_or_404
from shipwise.server.services.errors import Refused
from shipwise.server.services.project_policy import PolicyReader, project_policy


class PlanChecksTx(ReleaseStore, RolloutPlanStore, PolicyReader, FlagStore, Protocol):
    """What the checks read: releases, the environment's plans, the policy, the flag."""


def require_release_there(
    tx: ReleaseStore,
    project: Project,
    flag: FlagRecord,
    environment: str,
    release: Release | None,
    policy: Policy,
    lead: str = "",
) -> None:
    """In a protected environment a plan ships a release that has passed its gates into
    it; anything else is refused, naming the way that gets there."""
    if not policy.is_protected(environment):
        return
    why = plan_release_refusal(
        project=project.key,
        flag=flag.key,
        kind=flag.kind,
        environment=environment,
        release=release,
        releases=tx.list_releases(project.id) if release is None else (),
        policy=policy,
        lead=lead,
    )
    if why is not None:
        raise Refused(why, field="release")


def require_room(
    tx: PlanChecksTx,
    project: Project,
    flag: FlagRecord,
    environment: Environment,
    release: Release | None,
    policy: Policy,
) -> None:
    """``max_feature_rollouts`` at start, not only at promotion: the environment's active
    plans of other flags, feature rollouts all (a plan without a release counts as one;
    a bug fix's or hotfix's does not, as in the promotion gate)."""
    stage = policy.stage(environment.key)
    if stage is None or not stage.one_feature_rolling_out:
        return
    if release is not None and release.kind is not ChangeKind.FEATURE:
        return
    kinds = {r.key: r.kind for r in tx.list_releases(project.id)}
    others = [
        plan
        for plan in tx.list_plans(project.id, environment_id=environment.id, active_only=True)
        if plan.flag != flag.key
        and (plan.release is None or kinds.get(plan.release) is ChangeKind.FEATURE)
    ]
    if len(others) < policy.max_feature_rollouts:
        return
    running = [
        f"rollout plan #{p.id} ({p.flag}{f', {p.release}' if p.release else ''}, "
        f"{p.state.status.value})"
        for p in others
    ]
    message = rollouts_busy_refusal(
        project=project.key,
        environment=environment.key,
        limit=policy.max_feature_rollouts,
        running=running,
    )
    raise Refused(message, field="flag")


def still_shipping(tx: PlanChecksTx, project: Project, plan: RolloutPlanRecord) -> None:
    """A plan that goes on in a protected environment must still ship a release there
    (one rolled back or abandoned since it paused does not)."""
    policy = project_policy(tx, project)
    if not policy.is_protected(plan.environment):
        return
    flag = flag_or_404(tx, project, plan.flag)
    release = None if plan.release is None else tx.get_release(project.id, plan.release)
    lead = f"rollout plan #{plan.id} cannot go on: "
    require_release_there(tx, project, flag, plan.environment, release, policy, lead)
