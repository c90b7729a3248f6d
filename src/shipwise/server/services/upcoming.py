"""The upcoming-release notice: when an approval completes a release's production
approvals gate (the count the policy asks for, for the current content), the team hears
what ships, the notes, who approved, the rollback plan and the monitoring schedule, with
links to the release's page and to the schedule as a calendar.

Announced in the approval's own unit of work (an approval through the API, or a GitHub
review), once per release and content version (``event_key``): a repeated or a third
approval sends nothing more, a content change that withdraws the approvals makes the
next completed gate news again. The text is kept short enough for one Slack message
(its plain-text form is cut at 3,000 characters): at most ``MAX_NOTES`` entries of the
notes and ``MAX_PULLS`` pull requests, each line bounded, then how many more and where
the rest is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shipwise.domain.events import EventKind
from shipwise.domain.monitoring_schedule import schedule_lines
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_notes import apply_edits
from shipwise.domain.release_notes_render import arrange
from shipwise.domain.releases import Evidence, Release
from shipwise.server.ports import Project, ReleaseNotesStore
from shipwise.server.services.notifications import AnnounceTx
from shipwise.server.services.release_news import ReleaseNews, named
from shipwise.server.services.schedules import (
    ReleaseSchedule,
    ScheduleTx,
    production_approved,
    production_of,
    release_schedule_in,
)

__all__ = ["MAX_NOTES", "MAX_PULLS", "UpcomingNotice", "UpcomingTx"]

MAX_NOTES = 10
MAX_PULLS = 10
MAX_LINE = 120  # characters of one entry or pull request title


class UpcomingTx(AnnounceTx, ScheduleTx, ReleaseNotesStore, Protocol):
    """What the notice reads and writes: the release, its evidence, notes and schedule,
    and the outbox."""


def _short(text: str, limit: int = MAX_LINE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _more(shown: int, total: int) -> list[str]:
    return [f"… and {total - shown} more"] if total > shown else []


def _what_ships(release: Release) -> list[str]:
    lines = [f"What ships: the {release.kind.value} {named(release)}, owned by {release.owner}."]
    if release.flags:
        lines.append(f"Flags: {', '.join(release.flags)}.")
    if release.commit:
        branch = f" on {release.branch}" if release.branch else ""
        lines.append(f"Commit: {release.commit[:12]}{branch}.")
    pulls = release.pull_requests
    if pulls:
        lines.append("Pull requests:")
        lines += [f"- #{p.number} {_short(p.title)}".rstrip() for p in pulls[:MAX_PULLS]]
        lines += _more(min(len(pulls), MAX_PULLS), len(pulls))
    return lines


def _notes(tx: UpcomingTx, project: Project, release: Release) -> list[str]:
    full = f"the full notes: `shipwise release notes {release.key} -p {project.key}`"
    stored = tx.get_release_notes(release.id)
    if stored is None:
        if tx.get_repository(project.id) is None:
            return [
                "Release notes: none, the project has no git repository set "
                f"(`shipwise project repo set PATH_OR_URL -p {project.key}`)."
            ]
        return [f"Release notes: not drawn from git yet; {full}."]
    entries = [
        entry
        for section in arrange(apply_edits(stored.entries, tx.list_note_edits(release.id)))
        for group in section.groups
        for entry in group.entries
    ]
    if not entries:
        return [f"Release notes: no changes listed; {full}."]
    lines = [f"Release notes ({len(entries)} change{'s' if len(entries) != 1 else ''}):"]
    for entry in entries[:MAX_NOTES]:
        kind = "breaking" if entry.breaking else entry.type
        pull = f" (#{entry.pull_request})" if entry.pull_request else ""
        lines.append(f"- {kind}: {_short(entry.text)}{pull}")
    lines += _more(min(len(entries), MAX_NOTES), len(entries))
    lines.append(f"Read {full}.")
    return lines


def _approvers(release: Release, evidence: Evidence, production: str) -> list[str]:
    named_roles: dict[str, str] = {}
    for approval in sorted(evidence.approvals, key=lambda a: a.at):
        if approval.stage != production or approval.content_version != release.content_version:
            continue
        roles = ", ".join(sorted(r.value for r in approval.roles)) or "no listed role"
        named_roles.setdefault(approval.approver, roles)
    who = "; ".join(f"{name} ({roles})" for name, roles in named_roles.items())
    return [f"Approved for {production} by {who}."]


def _rollback(release: Release, evidence: Evidence) -> list[str]:
    plan = release.rollback_plan
    lines = [
        f"Rollback plan: {_short(plan, 600)}"
        if plan
        else f"Rollback plan: none written (`shipwise release update {release.key} "
        "--rollback-plan TEXT`)."
    ]
    drills = [d for d in evidence.drills if d.content_version == release.content_version]
    if drills:
        drill = max(drills, key=lambda d: d.at)
        verdict = "passed" if drill.succeeded else "failed"
        lines.append(
            f"Rollback drill: {verdict} in {drill.environment} on {drill.at:%Y-%m-%d %H:%M} UTC."
        )
    else:
        lines.append("Rollback drill: none done for this content.")
    return lines


def _schedule(found: ReleaseSchedule) -> list[str]:
    lines = [f"Monitoring schedule in {found.environment} (from {found.source}):"]
    lines += schedule_lines(found.schedule, found.zone)
    # The dashboard's file: a person following the link is signed in there.
    lines.append(f"Calendar: {found.url}/schedule.ics")
    return lines


class UpcomingNotice:
    """Announces ``release.upcoming`` through ``ReleaseNews``."""

    def __init__(self, news: ReleaseNews) -> None:
        self._news = news

    def after_approval(
        self,
        tx: UpcomingTx,
        project: Project,
        release: Release,
        policy: Policy,
        stage: str,
        now: datetime,
    ) -> bool:
        """Announce the notice if the approval just recorded for ``stage`` leaves the
        production approvals gate met; True when it was queued (or already had been)."""
        production = production_of(policy)
        if production is None or stage != production:
            return False
        evidence = tx.evidence(project.id, release)
        if not production_approved(release, policy, evidence, now):
            return False
        found = release_schedule_in(tx, project, release, now, self._news.links)
        lines = _what_ships(release)
        lines += _notes(tx, project, release)
        lines += _approvers(release, evidence, production)
        lines += _rollback(release, evidence)
        if found is not None:
            lines += _schedule(found)
        self._news.announce(
            tx,
            EventKind.RELEASE_UPCOMING,
            release,
            f"Upcoming in {production}: {named(release)}",
            lines,
            now=now,
            event_key=f"{production}|v{release.content_version}",
            environment=production,
            data={
                "approvers": sorted(
                    {
                        a.approver
                        for a in evidence.approvals
                        if a.stage == production and a.content_version == release.content_version
                    }
                ),
                "content_version": release.content_version,
                "schedule": None if found is None else found.ics_url,
            },
        )
        return True
