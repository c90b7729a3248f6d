"""Shipwise's own SDK API: the snapshot (with ETag), a stream of snapshots, and metrics.

GET  /sdk/v1/snapshot   server key → the environment's snapshot; If-None-Match → 304
GET  /sdk/v1/stream     server key → text/event-stream: the snapshot now, then on
                        every change (``event: snapshot``, ``id: <revision>``), with
                        a ``: ping`` comment every 15 s
POST /sdk/v1/metrics    any SDK key → exposure counts (202)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from shipwise.server.api.auth import AnySdkKey, ServerKey, ServicesDep

router = APIRouter(prefix="/sdk/v1", tags=["sdk"])


@router.get("/snapshot", summary="The environment's flag snapshot")
async def snapshot(
    services: ServicesDep,
    who: ServerKey,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    published = services.snapshots.current(who.environment_id)
    headers = {"ETag": published.etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and published.etag in {
        t.strip() for t in if_none_match.split(",")
    }:
        return Response(status_code=304, headers=headers)
    return Response(published.document, media_type="application/json", headers=headers)


class FlagCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    yes: int = Field(ge=0)
    no: int = Field(ge=0)
    variants: dict[str, int] = Field(default_factory=dict)


class MetricsBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    app_name: str | None = Field(default=None, alias="appName", max_length=200)
    instance_id: str | None = Field(default=None, alias="instanceId", max_length=200)
    flags: dict[str, FlagCounts] = Field(default_factory=dict)


@router.post("/metrics", status_code=202, summary="Exposure counts from an SDK")
async def metrics(batch: MetricsBatch, services: ServicesDep, who: AnySdkKey) -> dict[str, Any]:
    accepted = services.metrics.record_exposures(
        who.environment_id,
        batch.app_name,
        {name: (c.yes, c.no, dict(c.variants)) for name, c in batch.flags.items()},
    )
    return {"accepted": accepted}
