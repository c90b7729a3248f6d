"""The Unleash client API, so Unleash's server-side SDKs (UnleashClient, unleash-client-node,
the Java, Go, .NET... SDKs) and Unleash Edge work against Shipwise unchanged.

Auth is a server key, as ``Authorization: <key>`` (Unleash's form) or ``Bearer <key>``.

GET  /api/client/features         the environment's flags and segments (Unleash's version 2
                                  document, pre-encoded once per revision); ETag and
                                  If-None-Match → 304. ``project`` and ``namePrefix``
                                  filter it as in Unleash.
GET  /api/client/features/{name}  one flag, or 404
GET  /api/client/delta            the same state as delta events (one ``hydration``), for
                                  SDKs polling in delta mode; ETag → 304
GET  /api/client/streaming        server-sent events for SDKs in streaming mode:
                                  ``unleash-connected`` with the state, then
                                  ``unleash-updated`` with the new state on every change
POST /api/client/register         an SDK announcing itself: accepted (202), not stored
POST /api/client/metrics          an SDK's counts, ``bucket.toggles.{flag}: {yes, no,
                                  variants}``: recorded as exposures (202)

The hot handlers are ``async`` and check the key inline (``authenticate_sdk``) rather than
through a FastAPI dependency: FastAPI runs synchronous dependencies in its thread pool,
which costs these endpoints about two thirds of their throughput.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shipwise.engine import FlagState, Snapshot, state_to_unleash
from shipwise.server.api.auth import (
    SERVER,
    SdkKey,
    ServerKey,
    ServicesDep,
    authenticate_sdk,
    published_for,
    services,
)
from shipwise.server.api.stream import Broadcaster
from shipwise.server.services.errors import NotFound
from shipwise.server.services.evaluation import PerSnapshot, etag_matches
from shipwise.server.services.snapshots import PublishedSnapshot

router = APIRouter(prefix="/api/client", tags=["unleash"])
HEARTBEAT_SECONDS = 15.0
JSON = "application/json"


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "no-cache"}


def _filtered(published: PublishedSnapshot, project: str | None, prefix: str | None) -> bytes:
    """The features document restricted as Unleash's ``project``/``namePrefix`` do."""
    document = json.loads(published.unleash_document)
    features = document["features"]
    if project is not None and project != published.project:
        features = []
    if prefix:
        features = [f for f in features if str(f.get("name", "")).startswith(prefix)]
    document["features"] = features
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


@router.get("/features", summary="The environment's flags, as Unleash's client API serves them")
async def features(request: Request) -> Response:
    published = await published_for(request, SERVER)
    etag = published.etag
    body = published.unleash_document
    if request.scope["query_string"]:
        query = request.query_params
        project, prefix = query.get("project"), query.get("namePrefix")
        if project is not None or prefix:
            body = _filtered(published, project, prefix)
            digest = hashlib.blake2b(f"{project}\0{prefix}".encode(), digest_size=6).hexdigest()
            etag = f'{etag[:-1]}-{digest}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=_headers(etag))
    return Response(body, media_type=JSON, headers=_headers(etag))


@router.get("/features/{name}", summary="One flag, as Unleash's client API serves it")
async def feature(name: str, request: Request) -> Response:
    published = await published_for(request, SERVER)
    flag = published.engine.state.flags.get(name)
    if flag is None:
        raise NotFound(f"no flag {name!r} in {published.project}/{published.environment}")
    document = state_to_unleash(FlagState(flags={name: flag}))["features"][0]
    return Response(json.dumps(document, separators=(",", ":")).encode(), media_type=JSON)


def _hydration(snapshot: Snapshot, revision: int) -> dict[str, Any]:
    state = snapshot.to_unleash()
    return {
        "type": "hydration",
        "eventId": revision,
        "features": state["features"],
        "segments": state["segments"],
    }


def _encode(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class _Deltas:
    """The delta API's and the stream's bodies for one snapshot, encoded once."""

    def __init__(self, snapshot: Snapshot) -> None:
        revision = int(snapshot.state.revision or 0)
        events = _encode({"events": [_hydration(snapshot, revision)]})
        self.body = events
        self.connected = b"event: unleash-connected\nid: %d\ndata: %s\n\n" % (revision, events)
        self.updated = b"event: unleash-updated\nid: %d\ndata: %s\n\n" % (revision, events)


_deltas: PerSnapshot[_Deltas] = PerSnapshot(_Deltas)


@router.get("/delta", summary="The environment's state as Unleash delta events")
async def delta(request: Request) -> Response:
    published = await published_for(request, SERVER)
    etag = published.etag
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=_headers(etag))
    body = _deltas.get(published.environment_id, published.engine).body
    return Response(body, media_type=JSON, headers=_headers(etag))


@router.get("/streaming", summary="Server-sent events: the state, then every change")
async def streaming(request: Request) -> StreamingResponse:
    key = await authenticate_sdk(request, SERVER)
    environment_id = key.environment_id
    broadcaster: Broadcaster = request.app.state.broadcaster
    expires_in = services(request).tokens.seconds_left(key.expires_at)
    # Before reading: miss nothing. It ends when the key is revoked or expires.
    subscription = broadcaster.subscribe(environment_id, key.token_id, expires_in)
    snapshots = services(request).snapshots
    initial = snapshots.cached(environment_id)
    if initial is None:  # the database, off the event loop
        initial = await asyncio.to_thread(snapshots.current, environment_id)

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 1000\n\n" + _deltas.get(environment_id, initial.engine).connected
            sent = initial.revision
            while True:
                try:
                    published = await asyncio.wait_for(subscription.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if published is None:
                    return  # the key was revoked or has expired: reconnecting gets a 401
                if published.revision > sent:
                    sent = published.revision
                    yield _deltas.get(environment_id, published.engine).updated
        finally:
            broadcaster.unsubscribe(subscription)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


class Registration(BaseModel):
    model_config = ConfigDict(extra="allow")
    app_name: str = Field(alias="appName", min_length=1, max_length=200)
    instance_id: str | None = Field(default=None, alias="instanceId", max_length=200)


@router.post("/register", status_code=202, summary="An SDK announces itself (not stored)")
async def register(registration: Registration, who: ServerKey) -> Response:
    return Response(status_code=202)


MAX_COUNT = 2**31 - 1  # what the database's integer columns hold
FlagName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class ToggleCounts(BaseModel):
    model_config = ConfigDict(extra="ignore")
    yes: Count = 0
    no: Count = 0
    variants: dict[str, Count] = Field(default_factory=dict)


class Bucket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    start: str | None = None
    stop: str | None = None
    toggles: dict[FlagName, ToggleCounts] = Field(default_factory=dict)


class ClientMetrics(BaseModel):
    """Unleash's metrics body: ``{appName, instanceId, bucket: {start, stop, toggles}}``."""

    model_config = ConfigDict(extra="ignore")
    app_name: str | None = Field(default=None, alias="appName", max_length=200)
    instance_id: str | None = Field(default=None, alias="instanceId", max_length=200)
    bucket: Bucket | None = None


def record(services: ServicesDep, who: SdkKey, metrics: ClientMetrics) -> int:
    """Store an Unleash metrics body as exposures of the key's environment."""
    if metrics.bucket is None:
        return 0
    counts = {
        name: (c.yes, c.no, {k: v for k, v in c.variants.items() if v})
        for name, c in metrics.bucket.toggles.items()
    }
    return services.metrics.record_exposures(who.environment_id, metrics.app_name, counts)


@router.post("/metrics", status_code=202, summary="An SDK's evaluation counts")
async def metrics(metrics: ClientMetrics, request: Request, who: ServerKey) -> Response:
    # A write: in a worker thread, so a locked or slow database holds this request only.
    await asyncio.to_thread(record, services(request), who, metrics)
    return Response(status_code=202)
