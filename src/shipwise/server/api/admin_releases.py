"""Releases: one change moving through the pipeline, promoted only through its gates.

GET   /projects/{p}/releases                    ?stage=&status=
POST  /projects/{p}/releases
GET   /projects/{p}/releases/{key}              with the next promotion's gates
PATCH /projects/{p}/releases/{key}              content changes withdraw approvals
POST  /projects/{p}/releases/{key}/approve | check | signoff | drills | abandon
POST  /projects/{p}/releases/{key}/promote      409 with every gate when one is unmet
GET   /projects/{p}/releases/{key}/gates        ?environment= (changes nothing)
GET   /projects/{p}/releases/{key}/pr-body      text/markdown
POST  /projects/{p}/ci                          a CI result (deploys: admin_deploys.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from shipwise.domain.access import Action
from shipwise.domain.commits import normalize_commit
from shipwise.domain.keys import ENVIRONMENT_KEY
from shipwise.domain.releases import PullRequest
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import (
    MayApprove,
    MayKill,
    MayManageReleases,
    MayPromote,
    MayRead,
    MayReport,
    MaySignOff,
    ServicesDep,
    may,
)
from shipwise.server.api.release_schemas import (
    DecisionOut,
    PromotionOut,
    ReleaseDetail,
    ReleaseList,
    ReleaseOut,
)
from shipwise.server.api.schemas import (
    Branch,
    FlagKeyIn,
    Key,
    Name,
    ProjectKey,
    Reason,
    ReleaseKey,
    ReleaseKeyIn,
    StrictBody,
    Title,
    errors,
    follows,
)
from shipwise.server.services.principal import Principal

router = admin_router("releases")
# A drill switches flags off and back on, and counts as rehearsing the promotion.
MayRehearseRollback = Annotated[Principal, may(Action.PROMOTE, Action.WRITE_FLAGS)]


@dataclass(frozen=True, slots=True)
class ReleaseAt:
    """The release a route is about: its project and its key, from the path."""

    project: str
    key: str


def _release_at(project: ProjectKey, key: ReleaseKey) -> ReleaseAt:
    return ReleaseAt(project, key)


# Every route under /releases/{key} takes the pair in one parameter.
AtRelease = Annotated[ReleaseAt, Depends(_release_at)]
# Where the pipeline tests before production (staging by default, qa in dev → qa → prod).
TESTED_STAGE = "Default: the stage before production"


def _commit(value: str) -> str:
    """The full lower-case SHA (see domain/commits.py); anything else is a 422 in words."""
    try:
        return normalize_commit(value)
    except ValueError as problem:
        # A custom error keeps pydantic's "Value error, " prefix out of the message.
        raise PydanticCustomError("commit", "{problem}", {"problem": str(problem)}) from None


Commit = Annotated[
    str,
    Field(max_length=100, description="A git commit SHA: full, 40 (or 64) hex digits"),
    AfterValidator(_commit),
]
Text = Annotated[str, Field(max_length=20_000)]


class PullRequestIn(StrictBody):
    number: int = Field(ge=1)
    title: Title = ""
    url: str | None = Field(default=None, max_length=500)


LabelIn = Annotated[str, Field(min_length=1, max_length=40)]


class ReleaseIn(StrictBody):
    title: Name
    kind: str = Field(description="feature, bugfix or hotfix")
    key: ReleaseKeyIn | None = None
    severity: str | None = Field(default=None, description="critical, high, medium, low")
    owner: Name | None = None
    flags: list[FlagKeyIn] = Field(default_factory=list, max_length=50)
    commit: Commit | None = None
    branch: Branch | None = None
    pull_requests: list[PullRequestIn] = Field(default_factory=list, max_length=50)
    rollback_plan: Text | None = None
    communication_plan: Text | None = None
    justification: Text | None = None
    authors: list[Name] = Field(default_factory=list, max_length=20)
    labels: list[LabelIn] = Field(
        default_factory=list, max_length=20, description="What kind of change, e.g. major"
    )


class ReleaseChange(StrictBody):
    title: Name | None = None
    flags: list[FlagKeyIn] | None = Field(default=None, max_length=50)
    commit: Commit | None = None
    branch: Branch | None = None
    pull_requests: list[PullRequestIn] | None = Field(default=None, max_length=50)
    rollback_plan: Text | None = None
    communication_plan: Text | None = None
    justification: Text | None = None
    labels: list[LabelIn] | None = Field(
        default=None, max_length=20, description="Replaces people's labels; approvals stay"
    )


class StageIn(StrictBody):
    stage: Key | None = Field(default=None, description="Default: the next environment")


class CheckIn(StageIn):
    item: Name
    note: Reason | None = None


class SignOffIn(StrictBody):
    kind: Key = "qa"
    stage: Key | None = Field(default=None, description=TESTED_STAGE)


class DrillIn(StrictBody):
    environment: Key | None = Field(default=None, description=TESTED_STAGE)
    succeeded: bool
    detail: Reason = ""


class AbandonIn(StrictBody):
    reason: Reason


class PromoteIn(StrictBody):
    environment: Key | None = Field(default=None, description="Default: the next environment")


class CiIn(StrictBody):
    commit: Commit
    context: Name
    state: str = Field(pattern=r"^(success|failure|pending|error)$")


def _pulls(items: list[PullRequestIn]) -> list[PullRequest]:
    return [PullRequest(p.number, p.title, p.url) for p in items]


@router.get("/projects/{project}/releases", summary="Releases", responses=errors(404))
def list_releases(
    project: ProjectKey,
    services: ServicesDep,
    who: MayRead,
    stage: Annotated[str | None, Query(max_length=63)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> ReleaseList:
    releases = services.releases.all(who, project, stage=stage, status=status)
    return ReleaseList(releases=[ReleaseOut.of(r) for r in releases])


@router.post(
    "/projects/{project}/releases",
    status_code=201,
    summary="Start a release",
    responses=errors(404, 409),
)
def create_release(
    project: ProjectKey, body: ReleaseIn, services: ServicesDep, who: MayManageReleases
) -> ReleaseOut:
    fields = body.model_dump(exclude={"pull_requests"})
    release = services.releases.create(
        who, project, pull_requests=_pulls(body.pull_requests), **fields
    )
    return ReleaseOut.of(release)


@router.get(
    "/projects/{project}/releases/{key}",
    summary="A release and its next gates",
    responses=errors(404),
)
def show_release(at: AtRelease, services: ServicesDep, who: MayRead) -> ReleaseDetail:
    view = services.releases.show(who, at.project, at.key)
    decision = view.decision
    return ReleaseDetail(
        release=ReleaseOut.of(view.release),
        next_stage=view.next_stage,
        allowed=None if decision is None else decision.allowed,
        gates=[] if decision is None else DecisionOut.of(decision).gates,
    )


@router.patch(
    "/projects/{project}/releases/{key}",
    summary="Change what is released",
    responses=errors(404, 409),
)
def change_release(
    at: AtRelease, body: ReleaseChange, services: ServicesDep, who: MayManageReleases
) -> ReleaseOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"pull_requests"})
    for listed in ("flags", "title", "labels"):  # null there means "leave it", not "empty it"
        if changes.get(listed, "") is None:
            del changes[listed]
    if "flags" in changes:
        changes["flags"] = tuple(changes["flags"])
    if body.pull_requests is not None:
        changes["pull_requests"] = tuple(_pulls(body.pull_requests))
    return ReleaseOut.of(services.releases.update(who, at.project, at.key, changes))


@router.post(
    "/projects/{project}/releases/{key}/approve", summary="Approve", responses=errors(404, 409)
)
def approve(at: AtRelease, body: StageIn, services: ServicesDep, who: MayApprove) -> ReleaseOut:
    return ReleaseOut.of(services.evidence.approve(who, at.project, at.key, body.stage))


@router.post(
    "/projects/{project}/releases/{key}/check",
    summary="Check a checklist item",
    responses=errors(404),
)
def check(
    at: AtRelease, body: CheckIn, services: ServicesDep, who: MayManageReleases
) -> ReleaseOut:
    release = services.evidence.check_item(
        who, at.project, at.key, body.item, body.note, body.stage
    )
    return ReleaseOut.of(release)


@router.post(
    "/projects/{project}/releases/{key}/signoff", summary="Sign off (QA)", responses=errors(404)
)
def sign_off(at: AtRelease, body: SignOffIn, services: ServicesDep, who: MaySignOff) -> ReleaseOut:
    release = services.evidence.sign_off(who, at.project, at.key, body.kind, body.stage)
    return ReleaseOut.of(release)


@router.post(
    "/projects/{project}/releases/{key}/drills",
    summary="Record a rollback drill",
    responses=errors(404),
)
def drill(at: AtRelease, body: DrillIn, services: ServicesDep, who: MayPromote) -> ReleaseOut:
    release = services.evidence.record_drill(
        who, at.project, at.key, body.environment, body.succeeded, body.detail
    )
    return ReleaseOut.of(release)


@router.post(
    "/projects/{project}/releases/{key}/abandon", summary="Abandon", responses=errors(404, 409)
)
def abandon(
    at: AtRelease, body: AbandonIn, services: ServicesDep, who: MayManageReleases
) -> ReleaseOut:
    return ReleaseOut.of(services.releases.abandon(who, at.project, at.key, body.reason))


@router.post(
    "/projects/{project}/releases/{key}/promote",
    summary="Promote through the gates",
    responses=errors(404, 409),
)
def promote(at: AtRelease, body: PromoteIn, services: ServicesDep, who: MayPromote) -> PromotionOut:
    release, decision, switched = services.promotion.promote(
        who, at.project, at.key, body.environment
    )
    out = DecisionOut.of(decision)
    return PromotionOut(
        release=ReleaseOut.of(release),
        target=out.target,
        allowed=out.allowed,
        gates=out.gates,
        switched_on=switched,
    )


@router.get(
    "/projects/{project}/releases/{key}/gates",
    summary="May it be promoted now?",
    responses=errors(404),
)
def gates(
    at: AtRelease,
    services: ServicesDep,
    who: MayRead,
    environment: Annotated[str | None, follows(ENVIRONMENT_KEY), Query()] = None,
) -> DecisionOut:
    return DecisionOut.of(services.releases.gate_check(who, at.project, at.key, environment))


@router.get(
    "/projects/{project}/releases/{key}/pr-body",
    summary="The pull-request description",
    response_class=PlainTextResponse,
    responses=errors(404),
)
def pr_body(at: AtRelease, services: ServicesDep, who: MayRead) -> PlainTextResponse:
    text = services.releases.pr_body(who, at.project, at.key)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.post(
    "/projects/{project}/ci", status_code=201, summary="Record a CI result", responses=errors(404)
)
def report_ci(
    project: ProjectKey, body: CiIn, services: ServicesDep, who: MayReport
) -> dict[str, bool]:
    services.evidence.report_ci(who, project, body.commit, body.context, body.state)
    return {"recorded": True}


class RollbackIn(StrictBody):
    reason: Reason


class RollbackOut(BaseModel):
    release: ReleaseOut
    switched_off: list[dict[str, str]] = Field(description="Each flag and environment")
    plans_stopped: list[int]
    git_commands: list[str] = Field(description="How to revert the code, newest merge first")
    still_to_do: list[str] = Field(description="What a person still has to do")


class DrillRunIn(StrictBody):
    environment: Key | None = Field(default=None, description=TESTED_STAGE)
    sample: int = Field(default=500, ge=10, le=100_000, description="Users evaluated per flag")


class DrillRunOut(BaseModel):
    release: str
    environment: str
    succeeded: bool
    checked: int
    still_on: dict[str, int]
    restored: list[str]
    detail: str


@router.post(
    "/projects/{project}/releases/{key}/rollback",
    summary="Roll the release back: flags off everywhere it is out, plans stopped",
    responses=errors(404, 409),
)
def rollback(at: AtRelease, body: RollbackIn, services: ServicesDep, who: MayKill) -> RollbackOut:
    report = services.rollback.rollback(who, at.project, at.key, body.reason)
    return RollbackOut(
        release=ReleaseOut.of(report.release),
        switched_off=[{"flag": f, "environment": e} for f, e in report.switched_off],
        plans_stopped=report.plans_stopped,
        git_commands=report.git_commands,
        still_to_do=report.still_to_do,
    )


@router.post(
    "/projects/{project}/releases/{key}/rollback-drill",
    summary="Rehearse the rollback in an environment, verify through the SDK, restore",
    responses=errors(404, 409),
)
def rollback_drill(
    at: AtRelease, body: DrillRunIn, services: ServicesDep, who: MayRehearseRollback
) -> DrillRunOut:
    report = services.rollback.drill(who, at.project, at.key, body.environment, body.sample)
    return DrillRunOut(
        release=report.release,
        environment=report.environment,
        succeeded=report.succeeded,
        checked=report.checked,
        still_on=report.still_on,
        restored=report.restored,
        detail=report.detail,
    )
