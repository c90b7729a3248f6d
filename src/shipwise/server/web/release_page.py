"""The release page: the next stage's gates with their state and remedy, the evidence
(approvals, sign-offs, drills; CI results and deploys per commit), linked pull requests,
the rollback plan, its in-app announcements and this release's audit trail, and the
actions a person may take.

GET /projects/{p}/releases/{key}

``show`` is also how an action answers when the service refused it: the same page,
re-read (nothing changed), with the refusal in place and the action's status (409 with
every gate of a refused promotion, 422 with the message beside the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response

from shipwise.domain.releases import Evidence, PromotionDecision
from shipwise.server.bootstrap import Services
from shipwise.server.ports import AuditFilter
from shipwise.server.services.calendar_feeds import CreatedFeed
from shipwise.server.services.errors import ServiceError
from shipwise.server.web.announcement_view import announcement_section
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.mailout_view import mailout_section
from shipwise.server.web.routing import web_router
from shipwise.server.web.schedule_view import schedule_section
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import render

__all__ = ["AUDIT_SHOWN", "Failure", "release_url", "router", "show"]

router = web_router()
AUDIT_SHOWN = 50  # the newest records of this release; the audit log has the rest


def release_url(project: str, key: str) -> str:
    return f"/projects/{project}/releases/{key}"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an action did not happen, to show in place: ``action`` names its form; the
    message goes beside ``field`` when it names one of the form's fields, else at the
    top of the form; a refused promotion brings its ``decision`` (every gate)."""

    action: str
    error: ServiceError
    decision: PromotionDecision | None = None
    values: Mapping[str, str] = field(default_factory=dict)  # what was typed, kept

    @property
    def errors(self) -> dict[str, str]:
        return {self.error.field or "form": self.error.message}


@dataclass(frozen=True, slots=True)
class CommitEvidence:
    commit: str
    ci: list[Any]
    deploys: list[Any]


def _by_commit(evidence: Evidence, current: str | None) -> list[CommitEvidence]:
    """CI results and deploys grouped by commit, the release's current commit first."""
    found: dict[str, CommitEvidence] = {}
    if current:
        found[current] = CommitEvidence(current, [], [])
    for result in sorted(evidence.ci, key=lambda r: r.at):
        found.setdefault(result.commit, CommitEvidence(result.commit, [], [])).ci.append(result)
    for deploy in sorted(evidence.deploys, key=lambda d: d.at):
        found.setdefault(deploy.commit, CommitEvidence(deploy.commit, [], [])).deploys.append(
            deploy
        )
    return list(found.values())


def show(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    key: str,
    failure: Failure | None = None,
    feed: CreatedFeed | None = None,
) -> Response:
    """The release page as it stands now, with ``failure`` shown in place (its status);
    ``feed``: a calendar feed link just made, its address shown this once (201)."""
    view = services.releases.show(viewer.principal, project, key)
    query = AuditFilter(project=project, target_type="release", target_key=key, limit=AUDIT_SHOWN)
    trail = services.audit.all(viewer.principal, query)
    decision = view.decision
    if failure is not None and failure.decision is not None:
        decision = failure.decision  # the refusal's own judgement, gate by gate
    return render(
        request,
        "release.html",
        viewer,
        status=(200 if feed is None else 201) if failure is None else failure.error.status,
        project=project,
        nav="board",
        view=view,
        release=view.release,
        decision=decision,
        commits=_by_commit(view.evidence, view.release.commit),
        trail=trail,
        plans=services.rollouts.all(viewer.principal, project, release=key),
        announcements=announcement_section(services, viewer.principal, project, key),
        mailouts=mailout_section(services, viewer, project, key),
        schedule=schedule_section(services, viewer.principal, project, key),
        created_feed=feed,
        failure=failure,
        url=release_url(project, key),
    )


@router.get("/projects/{project}/releases/{key}")
def release_page(
    request: Request, project: str, key: str, viewer: SignedIn, services: ServicesDep
) -> Response:
    return show(request, viewer, services, project, key)
