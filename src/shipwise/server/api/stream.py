"""The SDK stream: every change to an environment reaches all of this instance's
``GET /sdk/v1/stream`` connections within milliseconds.

One sender task owns every write to every stream, in order: welcomes (the current
snapshot for a new connection), fan-outs (a new snapshot to each subscriber of its
environment) and heartbeats. Writes go straight to each connection's ASGI ``send``
with the event encoded once, so a change costs one ``send`` per subscriber, not a task
wake-up, a generator step and a response wrapper each. A subscriber that cannot take a
write within ``SEND_TIMEOUT`` is dropped (its SDK reconnects and starts from the
snapshot), so one stalled client never holds up the rest.

A stream lives only as long as its key: when the key is revoked (on any instance: the
bus carries revocations too) or reaches its expiry time (a timer set when the stream
opens), the stream gets a last ``rejected`` event saying why, in the API's error shape,
and is closed; reconnecting gets a 401. And it lives only as long as the server: when
the server is asked to stop, every stream simply ends (``close_streams``), so the SDKs
reconnect (to the next server) and uvicorn's graceful shutdown has nothing to wait for.

The bus may report changes from any thread; they hop onto the event loop here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shipwise.domain.access import TokenKind
from shipwise.server.api.errors import error_body, service_error_response
from shipwise.server.ports import Change, StorageUnavailable
from shipwise.server.services.errors import Forbidden, ServiceError, Unavailable
from shipwise.server.services.snapshots import PublishedSnapshot, SnapshotService
from shipwise.server.services.tokens import TokenService

log = logging.getLogger(__name__)

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
HEARTBEAT_SECONDS = 15.0
SEND_TIMEOUT = 2.0
_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


REVOKED = "this SDK key was revoked; create a new one with `shipwise token create`"
EXPIRED = "this SDK key has expired; create a new one with `shipwise token create`"


def _body(data: bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": True}


def rejected_event(message: str) -> bytes:
    """The stream's last event: why the server stopped accepting its key (401)."""
    data = json.dumps(error_body(401, message, None), separators=(",", ":"))
    return f"event: rejected\ndata: {data}\n\n".encode()


class Subscriber:
    __slots__ = ("closed", "environment_id", "send", "sent", "token_id")

    def __init__(self, environment_id: int, send: Send, token_id: int | None = None) -> None:
        self.environment_id = environment_id
        self.send = send
        self.token_id = token_id
        self.sent = 0  # newest revision this subscriber has been sent
        self.closed = asyncio.Event()


class Subscription:
    """A queue-fed subscription, for streams that render their own events (the Unleash
    streaming API). Holds only the newest snapshot: a slow reader skips stale ones.
    ``None`` in the queue ends the stream: its key was revoked or has expired, or the
    server is stopping."""

    __slots__ = ("environment_id", "expiry", "queue", "token_id")

    def __init__(self, environment_id: int, token_id: int | None = None) -> None:
        self.environment_id = environment_id
        self.token_id = token_id
        self.expiry: asyncio.TimerHandle | None = None
        self.queue: asyncio.Queue[PublishedSnapshot | None] = asyncio.Queue(maxsize=1)

    def offer(self, snapshot: PublishedSnapshot | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(snapshot)


class Broadcaster:
    def __init__(self, snapshots: SnapshotService) -> None:
        self._snapshots = snapshots
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._subscriptions: dict[int, set[Subscription]] = {}
        # Revocations this instance has heard of (a revoked token never comes back): a
        # stream whose key was checked just before its revocation, and that opens just
        # after the notice, is caught here when it subscribes.
        self._revoked_tokens: set[int] = set()
        self._leaving: set[Subscriber] = set()  # rejected, their last event not yet sent
        self._jobs: asyncio.Queue[Callable[[], Awaitable[None]]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False  # the server is stopping: streams end, none opens

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._jobs = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._sender(), name="shipwise-stream-sender"),
            asyncio.create_task(self._heartbeats(), name="shipwise-stream-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.close_streams()

    def close_streams(self) -> None:
        """The server is stopping: end every open stream now, and any that opens from
        now on at once. Each response completes (its SDK reconnects, to the next
        server), so none holds up uvicorn's graceful shutdown. Call on the event loop."""
        self._closing = True
        for subscribers in [*self._subscribers.values(), self._leaving]:
            for subscriber in list(subscribers):
                subscriber.closed.set()
        for subscriptions in self._subscriptions.values():
            for subscription in list(subscriptions):
                self._end(subscription)

    async def _sender(self) -> None:
        assert self._jobs is not None
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                log.exception("stream job failed")

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self._enqueue(self._ping_all)

    def _enqueue(self, job: Callable[[], Awaitable[None]]) -> None:
        if self._jobs is not None:
            self._jobs.put_nowait(job)

    # -- changes ----------------------------------------------------------------------

    def on_change(self, change: Change) -> None:
        """Bus listener; safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._changed, change)

    def _changed(self, change: Change) -> None:
        environment_id = change.environment_id
        if self._subscribers.get(environment_id) or self._subscriptions.get(environment_id):
            self._enqueue(lambda: self._fan_out(environment_id))

    async def _snapshot(self, environment_id: int) -> PublishedSnapshot:
        cached = self._snapshots.cached(environment_id)
        if cached is not None:
            return cached
        return await asyncio.to_thread(self._snapshots.current, environment_id)

    async def _fan_out(self, environment_id: int) -> None:
        snapshot = await self._snapshot(environment_id)
        message = _body(snapshot.stream_event)
        pending = [
            s for s in self._subscribers.get(environment_id, ()) if s.sent < snapshot.revision
        ]
        await self._write_all(pending, message, snapshot.revision)
        for subscription in list(self._subscriptions.get(environment_id, ())):
            subscription.offer(snapshot)

    async def _write_all(
        self, pending: list[Subscriber], message: dict[str, Any], revision: int | None
    ) -> None:
        """Write to each subscriber in turn. One deadline guards the whole pass (a timer
        per write would cost more than the write): it is pushed forward as writes
        complete, and whoever is being written when it expires is dropped."""
        loop = asyncio.get_running_loop()
        while pending:
            subscriber: Subscriber | None = None
            try:
                async with asyncio.timeout(SEND_TIMEOUT) as deadline:
                    while pending:
                        subscriber = pending.pop()
                        if subscriber.closed.is_set():
                            continue
                        try:
                            await subscriber.send(message)
                            if revision is not None:
                                subscriber.sent = revision
                        except (OSError, RuntimeError):
                            self._drop(subscriber)
                        if len(pending) % 256 == 0:
                            deadline.reschedule(loop.time() + SEND_TIMEOUT)
            except TimeoutError:
                if subscriber is not None:
                    log.warning("dropping a stream that stopped reading")
                    self._drop(subscriber)

    # -- keys that stop working -------------------------------------------------------

    def on_revoked(self, token_id: int) -> None:
        """Bus listener for revocations; safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._revoked, token_id)

    def _revoked(self, token_id: int) -> None:
        self._revoked_tokens.add(token_id)
        streams = [
            s
            for subscribers in self._subscribers.values()
            for s in subscribers
            if s.token_id == token_id
        ]
        if streams:
            self._reject(streams, REVOKED)
        for subscriptions in self._subscriptions.values():
            for subscription in list(subscriptions):
                if subscription.token_id == token_id:
                    self._end(subscription)

    def _end(self, subscription: Subscription) -> None:
        """End a queue-fed stream (its key stopped working, or the server is stopping):
        out of the fan-out now, then ``None`` tells its reader to close."""
        self.unsubscribe(subscription)
        subscription.offer(None)

    def _reject(self, streams: list[Subscriber], message: str) -> None:
        """Take ``streams`` out of every fan-out now, then (in turn, on the sender) send
        each its last event and close it."""
        for subscriber in streams:
            self._drop_from_fan_out(subscriber)
        self._leaving.update(streams)
        goodbye = _body(rejected_event(message))

        async def close() -> None:
            await self._write_all(list(streams), goodbye, None)
            for subscriber in streams:
                subscriber.closed.set()
            self._leaving.difference_update(streams)

        self._enqueue(close)

    async def _welcome(self, subscriber: Subscriber) -> None:
        snapshot = await self._snapshot(subscriber.environment_id)
        message = _body(b"retry: 1000\n\n" + snapshot.stream_event)
        await self._write_all([subscriber], message, snapshot.revision)

    async def _ping_all(self) -> None:
        everyone = [s for subscribers in self._subscribers.values() for s in subscribers]
        await self._write_all(everyone, _body(b": ping\n\n"), None)

    # -- subscribers ------------------------------------------------------------------

    def _add(self, subscriber: Subscriber) -> None:
        if self._closing:
            subscriber.closed.set()
            return
        if subscriber.token_id in self._revoked_tokens:
            self._reject([subscriber], REVOKED)  # not one snapshot for a revoked key
            return
        self._subscribers.setdefault(subscriber.environment_id, set()).add(subscriber)
        self._enqueue(lambda: self._welcome(subscriber))

    def _drop(self, subscriber: Subscriber) -> None:
        subscriber.closed.set()
        self._drop_from_fan_out(subscriber)

    def _drop_from_fan_out(self, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(subscriber.environment_id)
        if subscribers is not None:
            subscribers.discard(subscriber)

    def subscribe(
        self, environment_id: int, token_id: int | None = None, expires_in: float | None = None
    ) -> Subscription:
        """A queue-fed subscription for the key ``token_id``, good for ``expires_in``
        more seconds (call on the event loop)."""
        subscription = Subscription(environment_id, token_id)
        if self._closing or (token_id is not None and token_id in self._revoked_tokens):
            subscription.offer(None)
            return subscription
        self._subscriptions.setdefault(environment_id, set()).add(subscription)
        if expires_in is not None:
            loop = asyncio.get_running_loop()
            subscription.expiry = loop.call_later(expires_in, self._end, subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription.expiry is not None:
            subscription.expiry.cancel()
        subscriptions = self._subscriptions.get(subscription.environment_id)
        if subscriptions is not None:
            subscriptions.discard(subscription)

    def subscriber_count(self) -> int:
        direct = sum(len(s) for s in self._subscribers.values())
        return direct + sum(len(s) for s in self._subscriptions.values())

    async def serve(
        self,
        environment_id: int,
        send: Send,
        receive: Receive,
        *,
        token_id: int | None = None,
        expires_in: float | None = None,
    ) -> None:
        """Hold one stream open until the client leaves, the server stops, or the key
        (``token_id``, good for ``expires_in`` more seconds) stops working."""
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        subscriber = Subscriber(environment_id, send, token_id)
        self._add(subscriber)
        expiry = None
        if expires_in is not None:
            loop = asyncio.get_running_loop()
            expiry = loop.call_later(expires_in, self._reject, [subscriber], EXPIRED)

        async def wait_for_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            subscriber.closed.set()

        watcher = asyncio.create_task(wait_for_disconnect())
        try:
            await subscriber.closed.wait()
        finally:
            watcher.cancel()
            if expiry is not None:
                expiry.cancel()
            self._drop(subscriber)
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class StreamEndpoint:
    """``GET /sdk/v1/stream`` as a plain ASGI endpoint (see the module docstring)."""

    def __init__(self, broadcaster: Broadcaster, tokens: TokenService) -> None:
        self._broadcaster = broadcaster
        self._tokens = tokens

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
        scheme, _, rest = authorization.partition(" ")
        secret = rest.strip() if scheme.lower() == "bearer" and rest else authorization
        try:
            principal = self._tokens.peek(secret)
            if principal is None:  # not in the token cache: the database, in a worker thread
                principal = await asyncio.to_thread(self._tokens.authenticate, secret or None)
            if principal.kind is not TokenKind.SERVER or principal.environment_id is None:
                raise Forbidden(f"the stream needs a server key; this is a {principal.kind} token")
        except ServiceError as error:
            await _reply_error(send, error)
            return
        except StorageUnavailable as error:  # the key could not be looked up: a JSON 503
            await service_error_response(Unavailable.storage(error))(scope, receive, send)
            return
        await self._broadcaster.serve(
            principal.environment_id,
            send,
            receive,
            token_id=principal.token_id,
            expires_in=self._tokens.seconds_left(principal.expires_at),
        )


async def _reply_error(send: Send, error: ServiceError) -> None:
    body = json.dumps(error_body(error.status, error.message, error.field)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
