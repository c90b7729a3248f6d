"""The success report of a released release, and the request for its learnings.

When a release's plan is released in the last environment (the release becomes
RELEASED there), the team hears ``release.report``: the report in words
(``domain.success_report``) with the link to the release's page; then
``learnings.requested`` asks the release's owner, by name, for the learnings, with the
link to the learnings form. It is a sweep the runner's loop runs each round (like
``fix_sweep``), so the rollout code is untouched: the outbox's dedupe keys make each
message once per release, across restarts and instances, and the sweep remembers what it
told, so a quiet round only reads.

``gather`` is what the report, the learnings' timeline and the release record share:
the release's plans with their timelines and every audit record about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.domain.events import EventKind
from shipwise.domain.releases import ChangeKind, Release, ReleaseStatus
from shipwise.domain.rollout import PlanStatus
from shipwise.domain.success_report import (
    Act,
    CheckLine,
    OtherRelease,
    PlanRun,
    SuccessReport,
    build_report,
)
from shipwise.server.ports import (
    AuditFilter,
    AuditStore,
    Clocked,
    Project,
    ProjectStore,
    ReleaseStore,
    RolloutPlanRecord,
    RolloutPlanStore,
    StoreOf,
)
from shipwise.server.services.errors import NotFound
from shipwise.server.services.notifications import AnnounceTx
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_news import ReleaseNews, named
from shipwise.server.services.rollout_apply import plan_target

RECENT = timedelta(days=7)  # a release released longer ago than this is not announced late
NEWEST = 20  # released releases a sweep looks at per project (the rest were told long ago)
MAX_AUDIT = 2000  # records read per release or plan for a report or a timeline
MAX_CHECKS = 5000  # timeline lines read per plan (samples included)


class GatherTx(ProjectStore, ReleaseStore, RolloutPlanStore, AuditStore, Protocol):
    """What a report reads: the release, its plans and their timelines, the audit."""


class ReportTx(GatherTx, AnnounceTx, Clocked, Protocol):
    """And what announcing it writes: the outbox."""


@dataclass(frozen=True, slots=True)
class Gathered:
    """A release's plans (oldest first), each as it ran, and the audit records about
    the release and its plans, oldest first."""

    release: Release
    plans: tuple[tuple[RolloutPlanRecord, PlanRun], ...]
    acts: tuple[Act, ...]
    report: SuccessReport | None  # of the plan in the furthest environment, if any


def learnings_url(news: ReleaseNews, release: Release) -> str:
    return f"{news.links.release(release.project, release.key)}/learnings"


def run_of(tx: RolloutPlanStore, plan: RolloutPlanRecord) -> PlanRun:
    checks = tuple(
        CheckLine(c.at, c.step, c.decision, c.reason, c.judgements)
        for c in tx.list_checks(plan.id, MAX_CHECKS, samples=True)
    )
    return PlanRun(plan.id, plan.flag, plan.environment, plan.spec, plan.state, checks)


def _acts(tx: AuditStore, project: str, target_type: str, key: str) -> list[Act]:
    query = AuditFilter(project=project, target_type=target_type, target_key=key, limit=MAX_AUDIT)
    return [
        Act(
            r.at,
            r.entry.actor,
            r.entry.action,
            r.entry.reason,
            r.entry.environment,
            r.entry.after,
            r.id,
        )
        for r in tx.list_audit(query)
    ]


def gather(tx: GatherTx, project: Project, release: Release) -> Gathered:
    plans = tx.list_plans(project.id, release_id=release.id)
    runs = tuple((plan, run_of(tx, plan)) for plan in sorted(plans, key=lambda p: p.id))
    acts = _acts(tx, project.key, "release", release.key)
    for plan, _run in runs:
        acts += _acts(tx, project.key, "rollout", plan_target(plan))
    acts.sort(key=lambda a: (a.at, a.seq))
    return Gathered(release, runs, tuple(acts), _report(tx, project, release, runs, acts))


def _report(
    tx: GatherTx,
    project: Project,
    release: Release,
    runs: tuple[tuple[RolloutPlanRecord, PlanRun], ...],
    acts: list[Act],
) -> SuccessReport | None:
    """The report of the release's newest plan in the furthest environment it reached."""
    if not runs:
        return None
    position = {e.key: e.position for e in tx.list_environments(project.id)}
    plan, run = max(runs, key=lambda pr: (position.get(pr[0].environment, -1), pr[0].id))
    earlier = [
        run_of(tx, p)
        for p in tx.list_plans(project.id)
        if p.flag == plan.flag and p.environment == plan.environment and p.id < plan.id
    ]
    hotfixes = [
        OtherRelease(r.key, r.title, r.created_at)
        for r in tx.list_releases(project.id)
        if r.kind is ChangeKind.HOTFIX and plan.flag in r.flags and r.key != release.key
    ]
    mine = [a for a in acts if a.action.startswith("release.") or _about(a, plan)]
    return build_report(
        release=release.key,
        title=release.title,
        created_at=release.created_at,
        plan=run,
        acts=mine,
        earlier=earlier,
        hotfixes=hotfixes,
    )


def _about(act: Act, plan: RolloutPlanRecord) -> bool:
    return act.environment == plan.environment


class SuccessReports:
    def __init__(self, store: StoreOf[ReportTx], news: ReleaseNews) -> None:
        self._store = store
        self._news = news
        self._told: set[int] = set()  # release ids told here

    def report(self, principal: Principal, project_key: str, key: str) -> SuccessReport:
        """The release's success report (of its plan in the furthest environment; a plan
        still running gives the report so far)."""
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            found = gather(tx, project, release).report
        if found is None:
            raise NotFound(
                f"{key} has no rollout plan yet: a success report is made of its plan "
                f"(`shipwise rollout start {release.flags[0] if release.flags else 'FLAG'} "
                f"--release {key}`)",
                field="key",
            )
        return found

    def sweep(self) -> int:
        """Announce the reports of releases released since the last sweep; how many
        messages were queued."""
        with self._store.read() as tx:
            now = tx.now()
            due = [r for r in self._released(tx, now) if r.id not in self._told]
        told = 0
        for release in due:
            with self._store.transaction() as tx:
                told += self._announce(tx, release, tx.now())
            self._told.add(release.id)
        return told

    def _released(self, tx: ReportTx, now: datetime) -> list[Release]:
        found: list[Release] = []
        for project in tx.list_projects():
            for release in tx.newest_releases(project.id, ReleaseStatus.RELEASED, NEWEST):
                plans = tx.list_plans(project.id, release_id=release.id)
                done = [
                    p
                    for p in plans
                    if p.environment == release.stage
                    and p.state.status is PlanStatus.RELEASED
                    and p.state.finished_at is not None
                    and now - p.state.finished_at <= RECENT
                ]
                if done:
                    found.append(release)
        return found

    def _announce(self, tx: ReportTx, release: Release, now: datetime) -> int:
        project = tx.get_project(release.project)
        if project is None:
            return 0
        report = gather(tx, project, release).report
        if report is None:
            return 0
        self._news.announce(
            tx,
            EventKind.RELEASE_REPORT,
            release,
            f"{named(release)} is released: the success report",
            report.lines(),
            now=now,
            event_key="report",
            environment=report.environment,
            data={"plan": report.plan, "incidents": len(report.incidents)},
        )
        form = learnings_url(self._news, release)
        self._news.announce(
            tx,
            EventKind.LEARNINGS_REQUESTED,
            release,
            f"{named(release)}: {release.owner}, please write its learnings",
            [
                f"{release.owner}, {release.key} reached everyone in {report.environment}. "
                "Please write down what went well, what did not, the contributing factors "
                "and the action items (each with an owner and a due date); the timeline "
                "is already filled from the audit record.",
                f"Learnings form: {form}",
            ],
            now=now,
            event_key="learnings",
            environment=report.environment,
            data={"owner": release.owner, "learnings_url": form},
        )
        return 2
