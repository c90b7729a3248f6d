"""The dashboard's live updates: ``GET /projects/{p}/live``, a server-sent event stream
that names what changed in the project ("release:rel-3 board"), so an open page fetches
itself again and swaps the regions that show it (``static/live.js``).

Where changes come from: the audit log. Every change (API, CLI, a page, the rollout
runner, a GitHub webhook, another server instance, a CLI writing the database directly)
appends an audit record in its own transaction, and appends are serialised by the chain
head's row lock, so record ids become visible in order: "every record after id N" never
skips one that commits late. One ``LiveHub`` per server instance reads the records after
the newest it has seen every ``POLL_SECONDS`` while any stream is open (one indexed
query for all open pages, none when nobody watches), and at once when the bus reports a
flag change or a request that may have written to this instance has answered (``LiveSince``:
a change made here reaches open pages in milliseconds, not up to a poll later). No
service had to learn to publish anything new, and a second instance on PostgreSQL sees
the same log.

Bounds: a comment every ``HEARTBEAT_SECONDS`` (proxies keep the stream, a dead one is
found), ``MAX_PER_SESSION`` streams a session (a browser gives a site 6 connections; the
oldest stream is told "replaced" and stops), ``MAX_STREAMS`` an instance (then 503), and
topics waiting for a slow reader are a set, collapsing to ``*`` past ``MAX_PENDING``.
A stream ends with ``event: bye`` when its session does: re-checked at once when a
session or token record appears (sign-out, revocation) and every heartbeat (expiry).
When the server is asked to stop, every stream simply ends (``close_all``, no "bye"), so
the browser reconnects, to the next server.

Nothing that happened between a page's render and its stream's start is lost:
``LiveSince`` notes, before a page reads anything, the newest record id (one indexed
query); the page carries it (``data-live-since`` on the script tag, via the template
global ``live_since``) and the stream replays the project's records after it (the
browser's ``Last-Event-ID`` does the same on a reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from shipwise.server.bootstrap import Services
from shipwise.server.ports import AuditFilter, AuditRecord, StorageUnavailable
from shipwise.server.services.errors import Unauthenticated, Unavailable
from shipwise.server.services.principal import SYSTEM, Principal
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.live_topics import ANYTHING, SESSION_TARGETS, topics_of
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import COOKIE, current_session
from shipwise.server.web.templating import templates

__all__ = ["LiveHub", "install", "router"]

log = logging.getLogger(__name__)
router = web_router()

POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
MAX_PER_SESSION = 4
MAX_STREAMS = 1000
MAX_PENDING = 64
READ_LIMIT = 500  # records one poll reads; a fuller read means "*" (some were skipped)
CATCH_UP_LIMIT = 200
RETRY_MS = 2000
MAX_ID_TEXT = 20  # an audit id's digits; anything longer is not one of ours

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LiveStream:
    """One open page's stream: the topics waiting to be sent, and why it must end."""

    __slots__ = (
        "cookie",
        "ended",
        "farewell",
        "last_id",
        "pending",
        "project",
        "session_id",
        "wake",
    )

    def __init__(self, project: str, session_id: str, cookie: str) -> None:
        self.project = project
        self.session_id = session_id
        self.cookie = cookie  # re-checks the session; never logged, never sent
        self.pending: set[str] = set()
        self.last_id = 0
        self.ended = False
        self.farewell: str | None = None  # why, in a last "bye": the page stops for good
        self.wake = asyncio.Event()

    def offer(self, topics: set[str] | frozenset[str], last_id: int) -> None:
        if len(self.pending) + len(topics) > MAX_PENDING:
            self.pending = {ANYTHING}
        else:
            self.pending |= topics
        self.last_id = max(self.last_id, last_id)
        self.wake.set()

    def end(self, why: str | None) -> None:
        """End the stream; with ``why``, a "bye" tells the page not to reconnect."""
        self.ended = True
        self.farewell = why
        self.wake.set()

    def take(self) -> set[str]:
        taken, self.pending = self.pending, set()
        return taken


class LiveHub:
    """Every live stream of this instance, fed from the audit log (module docstring)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.position: int | None = None  # newest audit id delivered to open streams
        self._streams: list[LiveStream] = []  # oldest first
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._poller: asyncio.Task[None] | None = None
        self._closing = False  # the server is stopping: streams end, none opens

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def nudge(self, _message: object = None) -> None:
        """Bus listener (any thread): something committed, read the log now."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(wake.set)

    # -- streams ------------------------------------------------------------------------

    async def open(self, stream: LiveStream, since: int | None) -> None:
        """Add ``stream``: from now on it hears of every record after ``position``."""
        if self._closing:  # ends at once, and its page comes back in RETRY_MS
            stream.end(None)
            return
        if len(self._streams) >= MAX_STREAMS:
            raise Unavailable("this server follows as many live pages as it may; retry soon")
        if self.position is None and since is None:
            newest = await asyncio.to_thread(self._newest)
            self.position = newest if self.position is None else self.position
        same = [s for s in self._streams if s.session_id == stream.session_id]
        for old in same[: max(0, len(same) - MAX_PER_SESSION + 1)]:
            self.close(old, "replaced")
        if self.position is None and since is not None:
            self.position = since  # the first poll starts where this page's data did
        self._streams.append(stream)
        if self._poller is None or self._poller.done():
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._poller = asyncio.create_task(self._poll(), name="shipwise-live-poll")

    def close(self, stream: LiveStream, why: str | None = None) -> None:
        with contextlib.suppress(ValueError):
            self._streams.remove(stream)
        if why is not None:
            stream.end(why)

    def close_all(self) -> None:
        """The server is stopping: end every stream now, and any that opens from now on
        at once, without a "bye": each page's EventSource reconnects (to the next
        server), and none holds up uvicorn's graceful shutdown. Call on the event loop."""
        self._closing = True
        for stream in list(self._streams):
            self.close(stream)
            stream.end(None)
        if self._wake is not None:
            self._wake.set()  # the poll sees nobody left, and finishes

    async def catch_up(self, stream: LiveStream, principal: Principal, since: int) -> None:
        """Offer ``stream`` what its project recorded after ``since``."""
        query = AuditFilter(project=stream.project, after_id=since, limit=CATCH_UP_LIMIT)
        records = await asyncio.to_thread(self._services.audit.all, principal, query)
        if records:
            topics = _topics(records) if len(records) < CATCH_UP_LIMIT else {ANYTHING}
            stream.offer(topics, records[0].id)

    async def since_for_page(self) -> int:
        """The newest record now, before the page reads anything: the page shows it and
        every older one, and its stream replays whatever comes after. (The position the
        streams were fed to would do too, but it lags by up to a poll, and the page would
        then refresh at once for a change it already shows: the one a form just made.)"""
        return await asyncio.to_thread(self._newest)

    # -- the poll -----------------------------------------------------------------------

    def _newest(self) -> int:
        newest = self._services.audit.all(SYSTEM, AuditFilter(limit=1))
        return newest[0].id if newest else 0

    def _read_after(self, position: int) -> list[AuditRecord]:
        return self._services.audit.all(SYSTEM, AuditFilter(after_id=position, limit=READ_LIMIT))

    async def _poll(self) -> None:
        wake = self._wake
        assert wake is not None  # set by open, with the task
        loop = asyncio.get_running_loop()
        next_check = loop.time() + HEARTBEAT_SECONDS
        while self._streams:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await wake.wait()
            wake.clear()
            try:
                records = await asyncio.to_thread(self._read_after, self.position or 0)
                sessions_changed = self._deliver(records)
                if sessions_changed or loop.time() >= next_check:
                    next_check = loop.time() + HEARTBEAT_SECONDS
                    await self._check_sessions()
            except StorageUnavailable as error:  # pages will say so; the streams wait
                log.warning("live updates paused: %s", error)
                await asyncio.sleep(1)
        self.position = None  # nobody watches: the next stream starts from its own page

    def _deliver(self, records: list[AuditRecord]) -> bool:
        """Offer each stream its project's topics; whether a session may have ended."""
        if not records:
            return False
        newest = records[0].id
        overflow = len(records) >= READ_LIMIT
        by_project: dict[str, set[str]] = {}
        for record in records:
            if record.entry.project is not None:
                by_project.setdefault(record.entry.project, set()).update(topics_of(record.entry))
        self.position = newest
        for stream in list(self._streams):
            topics = {ANYTHING} if overflow else by_project.get(stream.project)
            if topics:
                stream.offer(topics, newest)
        return overflow or any(r.entry.target_type in SESSION_TARGETS for r in records)

    async def _check_sessions(self) -> None:
        live: dict[str, str | None] = {}
        for cookie in {s.cookie for s in self._streams}:
            active = await asyncio.to_thread(self._services.web_sessions.session, cookie)
            live[cookie] = None if active is None else str(active.session_id)
        for stream in list(self._streams):
            if stream.cookie in live and live[stream.cookie] != stream.session_id:
                self.close(stream, "signed-out")


def _topics(records: list[AuditRecord]) -> set[str]:
    found: set[str] = set()
    for record in records:
        found |= topics_of(record.entry)
    return found


def _audit_id(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() else None


def _event(stream: LiveStream, topics: set[str]) -> bytes:
    return f"id: {stream.last_id}\nevent: change\ndata: {' '.join(sorted(topics))}\n\n".encode()


async def _events(hub: LiveHub, stream: LiveStream) -> AsyncIterator[bytes]:
    try:
        yield f"retry: {RETRY_MS}\n: live\n\n".encode()
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    await stream.wake.wait()
            except TimeoutError:
                yield b": ping\n\n"
                continue
            stream.wake.clear()
            if stream.ended:
                if stream.farewell is not None:
                    yield f"event: bye\ndata: {stream.farewell}\n\n".encode()
                return
            topics = stream.take()
            if topics:
                yield _event(stream, topics)
    finally:
        hub.close(stream)


IdText = Annotated[str | None, Query(max_length=MAX_ID_TEXT)]
IdHeader = Annotated[str | None, Header(max_length=MAX_ID_TEXT)]


@router.get("/projects/{project}/live")
async def live(
    request: Request,
    project: str,
    services: ServicesDep,
    since: IdText = None,
    last_event_id: IdHeader = None,
) -> Response:
    """The project's changes as server-sent events (module docstring)."""
    active = await asyncio.to_thread(current_session, request)
    if active is None:  # an EventSource cannot follow a sign-in page: say why instead
        raise Unauthenticated("sign in to follow this project's changes live")
    await asyncio.to_thread(services.projects.get, active.principal, project)  # 404, 403
    hub: LiveHub = request.app.state.live
    stream = LiveStream(project, str(active.session_id), request.cookies[COOKIE])
    after = _audit_id(last_event_id) or _audit_id(since)
    await hub.open(stream, after)
    try:
        if after is not None:
            await hub.catch_up(stream, active.principal, after)
    except BaseException:
        hub.close(stream)
        raise
    return StreamingResponse(
        _events(hub, stream),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},  # a proxy must not hold events back
    )


class LiveSince:
    """ASGI middleware: before a project page reads anything, note where the live feed
    stands (``request.state.live_since``), so the page's stream can start from there;
    and after a request that may have written (API or page form, any method but
    GET/HEAD) has answered, wake the hub, so this instance's own changes reach open
    pages without waiting up to ``POLL_SECONDS`` (changes from elsewhere still do)."""

    def __init__(self, app: ASGIApp, hub: LiveHub) -> None:
        self._app = app
        self._hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method = scope.get("method")
        path = scope.get("path", "")
        if method == "GET" and path.startswith("/projects/") and not path.endswith("/live"):
            # Without it the page is simply not live; it still works.
            with contextlib.suppress(StorageUnavailable):
                since = await self._hub.since_for_page()
                scope.setdefault("state", {})["live_since"] = since
        try:
            await self._app(scope, receive, send)
        finally:
            # Its transaction committed before it answered. A read that finds nothing
            # costs one indexed query, and only while a page listens.
            if method not in {"GET", "HEAD"}:
                self._hub.nudge()


def live_since(request: Request) -> str:
    """The template global: the page's starting point, or "" (not a live page)."""
    since = getattr(request.state, "live_since", None)
    return "" if since is None else str(since)


templates.env.globals["live_since"] = live_since


def install(app: FastAPI) -> None:
    """The live stream, its hub and its middleware on ``app`` (after its services)."""
    services: Services = app.state.services
    hub = LiveHub(services)
    app.state.live = hub
    services.bus.subscribe(hub.nudge)
    services.bus.subscribe_revocations(hub.nudge)
    app.add_middleware(LiveSince, hub=hub)
    app.include_router(router)
