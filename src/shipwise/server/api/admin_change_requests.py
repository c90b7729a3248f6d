"""Change requests: a flag's rules in one environment or a segment's constraints, changed
only once other people approved (a policy change that weakens a rule comes here too,
from PUT /policy). The requester never reviews their own request.

POST /projects/{p}/change-requests                  {kind: flag|segment, ...}: 201
GET  /projects/{p}/change-requests                  ?state=&kind=&flag=&environment=
GET  /projects/{p}/change-requests/{id}             with the diff reviewers see
POST /projects/{p}/change-requests/{id}/approve     {comment?}
POST /projects/{p}/change-requests/{id}/reject      {reason}
POST /projects/{p}/change-requests/{id}/withdraw    {reason?}: the requester only
POST /projects/{p}/change-requests/{id}/apply       once approved; 409 if the target
                                                    changed since (the request goes stale)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import Depends, Path, Query
from pydantic import BaseModel, Field

from shipwise.server.api.admin_flag_rules import RulesIn
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, MayWriteFlags, ServicesDep
from shipwise.server.api.schemas import (
    Description,
    EnvironmentKeyIn,
    FlagKeyIn,
    JsonObject,
    ProjectKey,
    Reason,
    SegmentNameIn,
    StrictBody,
    errors,
)
from shipwise.server.services.change_requests import RequestView
from shipwise.server.services.errors import Invalid

router = admin_router("change-requests")
PATH = "/projects/{project}/change-requests"
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The change request's number")]


class ChangeRequestIn(StrictBody):
    """A flag's new rules in one environment (``flag``, ``environment``, ``rules``: the
    body of PUT …/flags/{key}/environments/{environment}), or a segment's new
    constraints (``segment``, ``constraints``, ``description``)."""

    kind: Literal["flag", "segment", "policy"]
    flag: FlagKeyIn | None = None
    environment: EnvironmentKeyIn | None = None
    rules: RulesIn | None = None
    segment: SegmentNameIn | None = None
    constraints: list[JsonObject] | None = Field(default=None, max_length=100)
    description: Description | None = None
    reason: Reason | None = Field(default=None, description="Why: reviewers read it")


class CommentIn(StrictBody):
    comment: Reason | None = None


class RejectIn(StrictBody):
    reason: Reason


class WithdrawIn(StrictBody):
    reason: Reason | None = None


class ReviewOut(BaseModel):
    person: str
    approved: bool
    at: datetime
    comment: str | None


class ChangeRequestOut(BaseModel):
    id: int
    project: str
    kind: str = Field(description="flag, segment or policy")
    state: str = Field(description="open, approved, applied, rejected, withdrawn or stale")
    target: str = Field(description="The flag's key, the segment's name or the project's key")
    environment: str | None
    what: str = Field(description="The target in words")
    requested_by: str
    reason: str | None
    base_version: int = Field(description="The target's version the request was made against")
    needs: int = Field(description="Approvals the policy in force asks for")
    approvals: list[str]
    waiting_for: str = Field(description='e.g. "1 of 2 approvals (bob)"')
    reviews: list[ReviewOut]
    closed_reason: str | None
    applied_version: int | None
    change: dict[str, Any] = Field(description="What the target becomes")
    before: dict[str, Any] = Field(description="The target when the request was made")
    diff: list[str] = Field(description="A unified diff of before and change")
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, view: RequestView) -> ChangeRequestOut:
        request = view.request
        return cls(
            id=request.id,
            project=request.project,
            kind=request.kind.value,
            state=request.state.value,
            target=request.target,
            environment=request.environment,
            what=request.what,
            requested_by=request.requested_by,
            reason=request.reason,
            base_version=request.base_version,
            needs=view.needs.count,
            approvals=list(request.approvers),
            waiting_for=view.waiting_for,
            reviews=[
                ReviewOut(person=r.person, approved=r.approved, at=r.at, comment=r.comment)
                for r in request.reviews
            ],
            closed_reason=request.closed_reason,
            applied_version=request.applied_version,
            change=dict(request.change),
            before=dict(request.before),
            diff=view.diff,
            created_at=request.created_at,
            updated_at=request.updated_at,
        )


class ChangeRequestList(BaseModel):
    change_requests: list[ChangeRequestOut]


def _required(value: Any, field: str, kind: str) -> Any:
    if value is None:
        raise Invalid(f"a {kind} change request needs {field!r}", field=field)
    return value


@router.post(
    PATH, status_code=201, summary="Request a change for review", responses=errors(404, 422)
)
def request_change(
    project: ProjectKey, body: ChangeRequestIn, services: ServicesDep, who: MayWriteFlags
) -> ChangeRequestOut:
    requests = services.change_requests
    if body.kind == "policy":
        raise Invalid(
            "a policy change is proposed by applying it: PUT /projects/{project}/policy "
            "(`shipwise policy apply FILE`); one that weakens a rule waits for review",
            field="kind",
        )
    if body.kind == "flag":
        rules: RulesIn = _required(body.rules, "rules", "flag")
        view = requests.request_flag(
            who,
            project,
            _required(body.flag, "flag", "flag"),
            _required(body.environment, "environment", "flag"),
            rules.model_dump(),
            body.reason,
        )
    else:
        view = requests.request_segment(
            who,
            project,
            _required(body.segment, "segment", "segment"),
            _required(body.constraints, "constraints", "segment"),
            body.description,
            body.reason,
        )
    return ChangeRequestOut.of(view)


@router.get(PATH, summary="Change requests, newest first", responses=errors(404, 422))
def list_requests(
    project: ProjectKey,
    services: ServicesDep,
    who: MayRead,
    state: Annotated[str | None, Query(max_length=16, description="open, approved, …")] = None,
    kind: Annotated[str | None, Query(max_length=16, description="flag, segment, policy")] = None,
    flag: Annotated[str | None, Query(max_length=200)] = None,
    environment: Annotated[str | None, Query(max_length=63)] = None,
) -> ChangeRequestList:
    found = services.change_requests.list(
        who, project, state=state, kind=kind, flag=flag, environment=environment
    )
    return ChangeRequestList(change_requests=[ChangeRequestOut.of(v) for v in found])


class RequestRef(NamedTuple):
    """The path's change request (``*ref`` is the services' ``project, request_id``)."""

    project: str
    request_id: int


def _ref(project: ProjectKey, request_id: RequestId) -> RequestRef:
    return RequestRef(project, request_id)


# The two path parameters, validated as before, in one parameter of each route below.
RequestRefDep = Annotated[RequestRef, Depends(_ref)]
_DECIDED = errors(404, 409)


@router.get(f"{PATH}/{{request_id}}", summary="One change request", responses=errors(404))
def show_request(ref: RequestRefDep, services: ServicesDep, who: MayRead) -> ChangeRequestOut:
    return ChangeRequestOut.of(services.change_requests.show(who, *ref))


@router.post(
    f"{PATH}/{{request_id}}/approve",
    summary="Approve (never your own request, never twice)",
    responses=_DECIDED,
)
def approve_request(
    ref: RequestRefDep, services: ServicesDep, who: MayWriteFlags, body: CommentIn | None = None
) -> ChangeRequestOut:
    comment = None if body is None else body.comment
    return ChangeRequestOut.of(services.change_requests.approve(who, *ref, comment))


@router.post(f"{PATH}/{{request_id}}/reject", summary="Reject, saying why", responses=_DECIDED)
def reject_request(
    ref: RequestRefDep, body: RejectIn, services: ServicesDep, who: MayWriteFlags
) -> ChangeRequestOut:
    return ChangeRequestOut.of(services.change_requests.reject(who, *ref, body.reason))


@router.post(
    f"{PATH}/{{request_id}}/withdraw", summary="Withdraw your own request", responses=_DECIDED
)
def withdraw_request(
    ref: RequestRefDep, services: ServicesDep, who: MayWriteFlags, body: WithdrawIn | None = None
) -> ChangeRequestOut:
    reason = None if body is None else body.reason
    return ChangeRequestOut.of(services.change_requests.withdraw(who, *ref, reason))


@router.post(
    f"{PATH}/{{request_id}}/apply", summary="Apply an approved request, once", responses=_DECIDED
)
def apply_request(
    ref: RequestRefDep, services: ServicesDep, who: MayWriteFlags
) -> ChangeRequestOut:
    return ChangeRequestOut.of(services.change_requests.apply(who, *ref))
