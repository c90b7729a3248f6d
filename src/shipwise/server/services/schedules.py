"""A release's monitoring schedule in production, read where it is needed: the upcoming-
release notice, the API and the CLI, the release page and the calendar feed.

Which plan: the release's rollout plan in production (the newest, running or not), else
a plan running in production on one of the release's flags, else the project's default
rollout template (``rollouts.DEFAULT_TEMPLATE``, or ``DEFAULT_PLAN`` when none is
saved), estimated from ``now``. Who watches: the release's owner and the people whose
approval for production counts for its current content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

from shipwise.domain.access import Action
from shipwise.domain.gates import evaluate_promotion
from shipwise.domain.monitoring_schedule import MonitoringSchedule, Progress, schedule
from shipwise.domain.policy_model import Policy
from shipwise.domain.policy_watch import plan_watch
from shipwise.domain.releases import Evidence, Release, ReleaseStatus
from shipwise.domain.rollout import DEFAULT_PLAN, PlanSpec
from shipwise.server.ports import (
    Clocked,
    PolicySourceStore,
    Project,
    ProjectStore,
    ReleaseStore,
    RolloutPlanRecord,
    RolloutPlanStore,
    StoreOf,
    TemplateStore,
)
from shipwise.server.services.errors import Conflict
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import project_policy
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_news import Links
from shipwise.server.services.rollouts import DEFAULT_TEMPLATE

__all__ = [
    "ENTERING",
    "ReleaseSchedule",
    "ScheduleService",
    "ScheduleTx",
    "api_calendar_url",
    "calendar_url",
    "feed_schedules",
    "production_approved",
    "production_of",
    "release_schedule_in",
]

ENTERING = frozenset({"advance", "bake"})  # timeline decisions that put a plan on a step


class ScheduleTx(
    ProjectStore, ReleaseStore, PolicySourceStore, RolloutPlanStore, TemplateStore, Protocol
):
    """What a schedule reads: the release, its evidence and policy, its plans and their
    timelines, and the project's templates."""


class _ReadTx(ScheduleTx, Clocked, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class ReleaseSchedule:
    release: Release
    environment: str  # production: the pipeline's last environment
    schedule: MonitoringSchedule
    source: str  # which plan, in words: "rollout plan #3 (running)", "the default template"
    plan_id: int | None
    version: int  # the plan's version (0 for an estimate): a calendar's SEQUENCE
    zone: ZoneInfo
    url: str  # the release's page
    ics_url: str  # the schedule as iCal from the API (for scripts: needs a token)
    spec: PlanSpec  # the plan the schedule is of: each step's percentage, for a page


def production_of(policy: Policy) -> str | None:
    return policy.stages[-1].environment if policy.stages else None


def calendar_url(links: Links, project: str, key: str) -> str:
    """The schedule as a calendar file, on the dashboard: a person following the link
    from a message is signed in there (the API's route wants a token)."""
    return f"{links.release(project, key)}/schedule.ics"


def api_calendar_url(links: Links, project: str, key: str) -> str:
    base = links.base.rstrip("/")
    return f"{base}/api/v1/projects/{quote(project)}/releases/{quote(key)}/schedule.ics"


def production_approved(
    release: Release, policy: Policy, evidence: Evidence, now: datetime
) -> bool:
    """Whether the production approvals gate is met for the release's current content
    (judged by the gate itself); with no such gate, whether anyone approved it for
    production."""
    production = production_of(policy)
    if production is None:
        return False
    decision = evaluate_promotion(release, production, policy, evidence, (), now)
    gate = next((g for g in decision.gates if g.gate == "approvals"), None)
    if gate is not None:
        return gate.passed
    return any(
        a.stage == production and a.content_version == release.content_version
        for a in evidence.approvals
    )


def watchers(release: Release, evidence: Evidence, production: str) -> tuple[str, ...]:
    approvers = [
        a.approver
        for a in sorted(evidence.approvals, key=lambda a: a.at)
        if a.stage == production and a.content_version == release.content_version
    ]
    return tuple(dict.fromkeys([release.owner, *approvers]))


def _plan(
    tx: ScheduleTx, project: Project, release: Release, production: str
) -> RolloutPlanRecord | None:
    own = [
        p for p in tx.list_plans(project.id, release_id=release.id) if p.environment == production
    ]
    if own:
        return max(own, key=lambda p: p.id)
    environment = tx.get_environment(project.id, production)
    if environment is None:
        return None
    running = tx.list_plans(project.id, environment_id=environment.id, active_only=True)
    return next((p for p in running if p.flag in release.flags), None)


def _entered(tx: ScheduleTx, plan: RolloutPlanRecord) -> dict[int, datetime]:
    entered: dict[int, datetime] = {}
    for check in tx.list_checks(plan.id):
        if check.decision in ENTERING:
            entered.setdefault(check.step, check.at)
    return entered


def release_schedule_in(
    tx: ScheduleTx, project: Project, release: Release, now: datetime, links: Links
) -> ReleaseSchedule | None:
    """The release's schedule in production as of ``now``; None without a pipeline."""
    policy = project_policy(tx, project)
    production = production_of(policy)
    if production is None:
        return None
    evidence = tx.evidence(project.id, release)
    who = watchers(release, evidence, production)
    zone = ZoneInfo(policy.timezone)
    plan = _plan(tx, project, release, production)
    if plan is not None:
        progress = Progress(plan.state, _entered(tx, plan), now)
        spec = plan.spec
        found = schedule(spec, plan.state.started_at, who, progress=progress)
        source = f"rollout plan #{plan.id} of {plan.flag} ({plan.state.status})"
        version = plan.version
    else:
        spec = tx.get_template(project.id, DEFAULT_TEMPLATE) or DEFAULT_PLAN
        spec = plan_watch(spec, policy.watch)  # as ``rollouts.start`` would watch it
        found = schedule(spec, now, who)
        source = f"the {DEFAULT_TEMPLATE} rollout template, estimated from {now:%Y-%m-%d %H:%M} UTC"
        version = 0
    return ReleaseSchedule(
        release,
        production,
        found,
        source,
        None if plan is None else plan.id,
        version,
        zone,
        links.release(project.key, release.key),
        api_calendar_url(links, project.key, release.key),
        spec,
    )


def feed_schedules(
    tx: ScheduleTx, project: Project, now: datetime, links: Links
) -> list[ReleaseSchedule]:
    """The schedules a project's calendar feed shows: releases with a rollout plan in
    production that runs, and releases still on their way whose production approvals
    are in (the upcoming ones)."""
    policy = project_policy(tx, project)
    production = production_of(policy)
    if production is None:
        return []
    shown: list[ReleaseSchedule] = []
    for release in tx.list_releases(project.id, status=ReleaseStatus.IN_PROGRESS):
        plan = _plan(tx, project, release, production)
        running = plan is not None and plan.state.active
        upcoming = plan is None and production_approved(
            release, policy, tx.evidence(project.id, release), now
        )
        if running or upcoming:
            found = release_schedule_in(tx, project, release, now, links)
            if found is not None:
                shown.append(found)
    return shown


class ScheduleService:
    def __init__(self, store: StoreOf[_ReadTx], links: Links) -> None:
        self._store = store
        self._links = links

    def for_release(self, principal: Principal, project_key: str, key: str) -> ReleaseSchedule:
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            found = release_schedule_in(tx, project, release, tx.now(), self._links)
        if found is None:
            raise Conflict(f"project {project_key!r} has no environments: no production to watch")
        return found
