"""Shipwise's own SDK API: the snapshot (with ETag), a stream of snapshots, and metrics.

GET  /sdk/v1/snapshot   server key → the environment's snapshot; If-None-Match → 304
GET  /sdk/v1/stream     server key → text/event-stream: the snapshot now, then on
                        every change (``event: snapshot``, ``id: <revision>``), with
                        a ``: ping`` comment every 15 s
POST /sdk/v1/metrics    any SDK key → exposure counts (202)
POST /sdk/v1/events     any SDK key → tracked events per flag and arm (202): what
                        guardrails on ``sdk`` metrics compare
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shipwise.server.api.auth import AnySdkKey, ServerKey, services

router = APIRouter(prefix="/sdk/v1", tags=["sdk"])


@router.get("/snapshot", summary="The environment's flag snapshot")
async def snapshot(
    request: Request,
    who: ServerKey,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    # Services from the request, not the ``ServicesDep`` dependency: FastAPI runs a plain
    # ``def`` dependency in a worker thread, and a cache hit must not pay for that hop.
    snapshots = services(request).snapshots
    published = snapshots.cached(who.environment_id)
    if published is None:  # the database, off the event loop (a lock may hold it 10 s)
        published = await asyncio.to_thread(snapshots.current, who.environment_id)
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
async def metrics(batch: MetricsBatch, request: Request, who: AnySdkKey) -> dict[str, Any]:
    # A write: in a worker thread, so a locked or slow database holds this request only.
    accepted = await asyncio.to_thread(
        services(request).metrics.record_exposures,
        who.environment_id,
        batch.app_name,
        {name: (c.yes, c.no, dict(c.variants)) for name, c in batch.flags.items()},
    )
    return {"accepted": accepted}


def _storable(value: str) -> str:
    """Text both databases can store: no NUL, no lone UTF-16 surrogate halves."""
    if "\x00" in value:
        raise ValueError("contains a NUL character, which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone UTF-16 surrogate, which cannot be stored") from None
    return value


SdkName = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)]


TOTAL_LIMIT = 1e100
MAX_EVENT_LINES = 10_000


def _summable(value: float) -> float:
    """Finite, and far from where the database's sums would overflow."""
    if abs(value) > TOTAL_LIMIT:
        raise ValueError(f"must be between -{TOTAL_LIMIT:g} and {TOTAL_LIMIT:g}, got {value:g}")
    return value


Count = Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)]  # a whole number, per line
Total = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_summable)]


class TrackedLine(BaseModel):
    """One (flag, arm, event) line: calls, calls with a value, their sum and sum of squares."""

    model_config = ConfigDict(extra="ignore")
    flag: SdkName
    arm: Literal["on", "off"]
    event: SdkName
    count: Count
    valued: Count = 0
    sum: Total = 0.0
    sum_sq: Total = Field(default=0.0, ge=0, alias="sumSq")


class EventsBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    app_name: SdkName | None = Field(default=None, alias="appName")
    instance_id: SdkName = Field(alias="instanceId")
    events: list[TrackedLine] = Field(default_factory=list, max_length=MAX_EVENT_LINES)


@router.post("/events", status_code=202, summary="Tracked events from an SDK")
async def events(batch: EventsBatch, request: Request, who: AnySdkKey) -> dict[str, Any]:
    lines = [line.model_dump(by_alias=True) for line in batch.events]
    accepted = await asyncio.to_thread(
        services(request).metric_catalog.record_tracked, who.environment_id, batch.app_name, lines
    )
    return {"accepted": accepted}
