"""Fan-out of snapshot changes to this instance's SDK streams.

The bus may call ``on_change`` from any thread (PostgreSQL's listener, a request's
worker thread); the change hops onto the event loop, the new snapshot is built once
(off the loop) and its pre-encoded event is handed to every subscriber of that
environment. Each subscriber holds at most the newest event: a slow client skips
intermediate snapshots instead of slowing everyone down.
"""

from __future__ import annotations

import asyncio
import logging

from shipwise.server.ports import Change
from shipwise.server.services.snapshots import PublishedSnapshot, SnapshotService

log = logging.getLogger(__name__)


class Subscription:
    __slots__ = ("environment_id", "queue")

    def __init__(self, environment_id: int) -> None:
        self.environment_id = environment_id
        self.queue: asyncio.Queue[PublishedSnapshot] = asyncio.Queue(maxsize=1)

    def offer(self, snapshot: PublishedSnapshot) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # superseded by the newer snapshot
        self.queue.put_nowait(snapshot)


class Broadcaster:
    def __init__(self, snapshots: SnapshotService) -> None:
        self._snapshots = snapshots
        self._subscriptions: dict[int, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def on_change(self, change: Change) -> None:
        """Bus listener; safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._schedule, change)

    def _schedule(self, change: Change) -> None:
        if not self._subscriptions.get(change.environment_id):
            return
        task = asyncio.ensure_future(self._fan_out(change))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fan_out(self, change: Change) -> None:
        try:
            snapshot = await asyncio.to_thread(self._snapshots.current, change.environment_id)
        except Exception:
            log.exception("could not build the snapshot for %s", change)
            return
        for subscription in list(self._subscriptions.get(change.environment_id, ())):
            subscription.offer(snapshot)

    def subscribe(self, environment_id: int) -> Subscription:
        subscription = Subscription(environment_id)
        self._subscriptions.setdefault(environment_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscriptions.get(subscription.environment_id)
        if subscribers is not None:
            subscribers.discard(subscription)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscriptions.values())
