"""Segments: named constraint sets a project's flags share by id.

GET  /projects/{project}/segments
POST /projects/{project}/segments          409 if the name is taken
GET  /projects/{project}/segments/{name}   with ETag: "<version>"
PUT  /projects/{project}/segments/{name}   If-Match required, like a flag's rules
DELETE /projects/{project}/segments/{name} 409 while a flag or rollout plan uses it
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel, Field

from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, MayWriteFlags, ServicesDep
from shipwise.server.api.schemas import (
    Description,
    IfMatch,
    JsonObject,
    ProjectKey,
    SegmentName,
    SegmentNameIn,
    StrictBody,
    errors,
    etag,
    with_etag,
)
from shipwise.server.ports import SegmentRecord
from shipwise.server.services.flag_changes import parse_if_match, require_if_match

router = admin_router("segments")

_CONSTRAINTS = "Unleash constraint objects: contextName, operator, values or value, inverted, …"


class SegmentIn(StrictBody):
    name: SegmentNameIn
    description: Description | None = None
    constraints: list[JsonObject] = Field(
        default_factory=list, max_length=100, description=_CONSTRAINTS
    )


class SegmentUpdate(StrictBody):
    """The segment's whole content; it replaces the current one."""

    description: Description | None = None
    constraints: list[JsonObject] = Field(max_length=100, description=_CONSTRAINTS)


class SegmentOut(BaseModel):
    id: int = Field(description="What strategies refer to in their `segments`")
    name: str
    description: str | None
    constraints: list[dict[str, Any]]
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, segment: SegmentRecord) -> SegmentOut:
        return cls(
            id=segment.id,
            name=segment.name,
            description=segment.description,
            constraints=segment.constraints,
            version=segment.version,
            updated_at=segment.updated_at,
        )


class SegmentList(BaseModel):
    segments: list[SegmentOut]


def _answer(response: Response, segment: SegmentRecord) -> SegmentOut:
    response.headers["ETag"] = etag(segment.version)
    return SegmentOut.of(segment)


@router.get(
    "/projects/{project}/segments", summary="The project's segments", responses=errors(404, 422)
)
def list_segments(project: ProjectKey, services: ServicesDep, who: MayRead) -> SegmentList:
    return SegmentList(segments=[SegmentOut.of(s) for s in services.segments.all(who, project)])


@router.post(
    "/projects/{project}/segments",
    status_code=201,
    summary="Create a segment",
    responses=errors(404, 409, 422),
)
def create_segment(
    project: ProjectKey,
    body: SegmentIn,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
) -> SegmentOut:
    segment = services.segments.create(who, project, body.name, body.constraints, body.description)
    return _answer(response, segment)


@router.get(
    "/projects/{project}/segments/{name}",
    summary="One segment",
    responses={**with_etag("The segment and its version"), **errors(404, 422)},
)
def get_segment(
    project: ProjectKey,
    name: SegmentName,
    response: Response,
    services: ServicesDep,
    who: MayRead,
) -> SegmentOut:
    return _answer(response, services.segments.get(who, project, name))


@router.put(
    "/projects/{project}/segments/{name}",
    summary="Replace a segment's constraints (If-Match required)",
    responses={**with_etag("The new segment and version"), **errors(404, 409, 422, 428)},
)
def put_segment(
    project: ProjectKey,
    name: SegmentName,
    body: SegmentUpdate,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> SegmentOut:
    version = require_if_match(if_match)
    segment = services.segments.update(
        who, project, name, body.constraints, body.description, version
    )
    return _answer(response, segment)


@router.delete(
    "/projects/{project}/segments/{name}",
    summary="Delete a segment that no flag or active rollout plan uses (If-Match optional)",
    responses=errors(404, 409, 422),
)
def delete_segment(
    project: ProjectKey,
    name: SegmentName,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> SegmentOut:
    version = None if if_match is None else parse_if_match(if_match)
    return SegmentOut.of(services.segments.delete(who, project, name, version))
