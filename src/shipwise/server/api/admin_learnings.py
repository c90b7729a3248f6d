"""After a release: its success report, its learnings and its whole record.

GET  /projects/{p}/releases/{key}/report      the success report (JSON)
GET  /projects/{p}/releases/{key}/learnings   the learnings, the timeline, the version
PUT  /projects/{p}/releases/{key}/learnings   {"version": N, "went_well", "went_badly",
                                              "contributing_factors", "action_items":
                                              [{"what", "owner", "due"}], "timeline":
                                              [{"at", "who", "what"}]} (lines people add)
                                              409 when N is not the current version
GET  /projects/{p}/releases/{key}/record.md   the whole record, text/markdown
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from shipwise.domain.learnings import (
    MAX_ITEM_TEXT,
    MAX_ITEMS,
    MAX_LINES,
    MAX_OWNER,
    MAX_TEXT,
)
from shipwise.domain.success_report import SuccessReport
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayManageReleases, MayRead, ServicesDep
from shipwise.server.api.schemas import ProjectKey, ReleaseKey, StrictBody, errors
from shipwise.server.services.learnings import MAX_VERSION, LearningsView

router = admin_router("releases")


class ActionItemIn(StrictBody):
    what: str = Field(max_length=MAX_ITEM_TEXT)
    owner: str = Field(max_length=MAX_OWNER, description="Who sees it done, by name")
    due: date = Field(description="By when, e.g. 2026-12-31")


class TimelineLineIn(StrictBody):
    at: datetime = Field(description="When, with a time zone (Z for UTC)")
    who: str = Field(max_length=MAX_OWNER)
    what: str = Field(max_length=MAX_ITEM_TEXT)


class LearningsIn(StrictBody):
    version: int = Field(
        ge=0, le=MAX_VERSION, description="The version you read (0 before the first save)"
    )
    went_well: str = Field("", max_length=MAX_TEXT)
    went_badly: str = Field("", max_length=MAX_TEXT)
    contributing_factors: str = Field("", max_length=MAX_TEXT)
    action_items: list[ActionItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    timeline: list[TimelineLineIn] = Field(
        default_factory=list, max_length=MAX_LINES, description="Lines people add"
    )


class TimelineLineOut(BaseModel):
    at: str
    who: str
    what: str
    added: bool = Field(description="Written by a person (else read from the audit record)")


class LearningsOut(BaseModel):
    release: str
    version: int = Field(description="Send it back with a change; 0: never saved")
    updated_by: str | None
    updated_at: str | None
    went_well: str
    went_badly: str
    contributing_factors: str
    action_items: list[dict[str, str]]
    timeline: list[TimelineLineOut] = Field(description="The audit record's and people's")

    @classmethod
    def of(cls, view: LearningsView) -> LearningsOut:
        data = view.draft.to_data()
        return cls(
            release=view.release.key,
            version=view.version,
            updated_by=view.updated_by,
            updated_at=None if view.updated_at is None else view.updated_at.isoformat(),
            went_well=data["went_well"],
            went_badly=data["went_badly"],
            contributing_factors=data["contributing_factors"],
            action_items=data["action_items"],
            timeline=[
                TimelineLineOut(
                    at=line.at.isoformat(), who=line.who, what=line.what, added=line.added
                )
                for line in view.timeline
            ],
        )


def report_data(report: SuccessReport) -> dict[str, Any]:
    def at(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    took = report.rollout_took
    return {
        "release": report.release,
        "title": report.title,
        "plan": report.plan,
        "flag": report.flag,
        "environment": report.environment,
        "status": report.status,
        "started_at": at(report.started_at),
        "finished_at": at(report.finished_at),
        "rollout_seconds": None if took is None else took.total_seconds(),
        "steps": [
            {
                "step": s.number,
                "label": s.label,
                "percentage": s.percentage,
                "audiences": list(s.audiences),
                "entered_at": at(s.entered_at),
                "left_at": at(s.left_at),
                "exposures_with": s.with_feature,
                "exposures_without": s.without_feature,
                "guardrails": [
                    {"name": g.name, "verdict": g.verdict, "summary": g.summary}
                    for g in s.guardrails
                ],
            }
            for s in report.steps
        ],
        "guardrails": [
            {"name": g.name, "verdict": g.verdict, "step": g.step, "summary": g.summary}
            for g in report.guardrails
        ],
        "incidents": [
            {"at": at(i.at), "kind": i.kind.value, "text": i.text} for i in report.incidents
        ],
        "people": [{"at": at(p.at), "person": p.person, "what": p.what} for p in report.people],
        "text": "\n".join(report.lines()),
    }


@router.get(
    "/projects/{project}/releases/{key}/report",
    summary="The success report of a release's rollout",
    responses=errors(404),
)
def report(project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayRead) -> Any:
    return report_data(services.success_reports.report(who, project, key))


@router.get(
    "/projects/{project}/releases/{key}/learnings",
    summary="A release's learnings, with the timeline from the audit record",
    responses=errors(404),
)
def show_learnings(
    project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayRead
) -> LearningsOut:
    return LearningsOut.of(services.learnings.show(who, project, key))


@router.put(
    "/projects/{project}/releases/{key}/learnings",
    summary="Save a release's learnings (409 when someone saved since you read them)",
    responses=errors(404, 409),
)
def save_learnings(
    project: ProjectKey,
    key: ReleaseKey,
    body: LearningsIn,
    services: ServicesDep,
    who: MayManageReleases,
) -> LearningsOut:
    data = body.model_dump(mode="json", exclude={"version"})
    view = services.learnings.save(who, project, key, data, body.version)
    return LearningsOut.of(view)


@router.get(
    "/projects/{project}/releases/{key}/record.md",
    summary="The whole release record as Markdown",
    response_class=PlainTextResponse,
    responses=errors(404),
)
def record(
    project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayRead
) -> PlainTextResponse:
    markdown = services.release_records.markdown(who, project, key)
    return PlainTextResponse(markdown, media_type="text/markdown; charset=utf-8")
