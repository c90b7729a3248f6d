"""Telling people: notifications go into an outbox in the same transaction as what they
report, and are delivered afterwards by every configured notifier and to every channel
of the project, with retries.

A crash after a rollback but before the webhook went out loses nothing: the outbox row
committed with the rollback, and the next delivery round sends it. A notifier that is
down is retried with growing pauses, then given up on (the failure stays recorded).

A project's channels (``channels.py``) each get their own outbox item
(``channel:<id>``), queued by ``announce`` in the caller's unit of work. Each
destination is delivered in its own thread: one that is down (a 500, a 429, a timeout)
delays only its own messages. A channel's queue goes in
order and stops at its first failure for the round; it is paced (Slack: one message a
second) and waits out a 429's ``Retry-After``. Delivery runs in the runner's rounds,
never in a request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.server.ports import (
    ChannelSenders,
    ChannelStore,
    Clocked,
    Notification,
    NotificationFailed,
    Notifier,
    OutboxItem,
    OutboxStore,
    ProjectStore,
    SecretBox,
    SecretsUnavailable,
    StoreOf,
)
from shipwise.server.services.channel_secrets import config_of

log = logging.getLogger(__name__)

# Pauses before the 2nd, 3rd, ... attempt; after the last, the notification is given up.
RETRY_AFTER = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
CHANNEL_PREFIX = "channel:"
MAX_PARALLEL = 8  # destinations delivered at once
PER_ROUND = 5  # messages one paced channel gets in a round (the rest: the next rounds)


class AnnounceTx(OutboxStore, ChannelStore, ProjectStore, Protocol):
    """What announcing touches: the outbox, and the project's channels to queue for."""


class OutboxTx(OutboxStore, ChannelStore, ProjectStore, Clocked, Protocol):
    """What delivering touches: the outbox, the project's channels (and their threads),
    and the store's clock that says what is due and when it went out."""


class Notifications:
    def __init__(
        self,
        store: StoreOf[OutboxTx],
        notifiers: Mapping[str, Notifier],
        senders: ChannelSenders | None = None,
        box: SecretBox | None = None,
    ) -> None:
        self._store = store
        self._notifiers = dict(notifiers)
        self._senders = senders
        self._box = box
        # Per channel, the monotonic time before which it gets nothing (Slack's one
        # message a second): real seconds, whatever the store's clock says.
        self._quiet_until: dict[str, float] = {}
        # Per channel whose oldest message failed, when (the store's clock) it is retried:
        # its later messages wait too, so they never overtake it (a 429's Retry-After).
        self._resting: dict[str, datetime] = {}
        self._pacing = threading.Lock()

    @property
    def channels(self) -> list[str]:
        return sorted(self._notifiers)

    def announce(self, tx: AnnounceTx, notification: Notification) -> None:
        """Queue ``notification`` (of any kind) for every notifier and every channel of
        its project, inside the caller's transaction."""
        for channel in self._notifiers:
            tx.enqueue(channel, notification)
        if self._senders is None:
            return
        project = tx.get_project(notification.project)
        for record in tx.list_channels(project.id) if project is not None else []:
            tx.enqueue(f"{CHANNEL_PREFIX}{record.id}", notification)

    def deliver_due(self, limit: int = 100) -> int:
        """Send what is due; returns how many were delivered."""
        with self._store.read() as tx:
            now = tx.now()
            due = tx.due_outbox(now, limit)
        queues: defaultdict[str, list[OutboxItem]] = defaultdict(list)
        for item in due:
            queues[item.channel].append(item)
        if len(queues) <= 1:
            return sum(self._deliver_queue(items, now) for items in queues.values())
        with ThreadPoolExecutor(min(MAX_PARALLEL, len(queues)), "shipwise-notify") as pool:
            return sum(pool.map(lambda items: self._deliver_queue(items, now), queues.values()))

    def _deliver_queue(self, items: list[OutboxItem], now: datetime) -> int:
        """One destination's due items, oldest first, until one fails."""
        delivered = 0
        channel = items[0].channel
        with self._pacing:
            resting = self._resting.get(channel)
        if resting is not None and now < resting and items[0].next_attempt_at < resting:
            return 0  # a later message may not overtake the one that failed
        for sent, item in enumerate(items):
            with self._pacing:
                wait = self._quiet_until.get(channel, 0.0) - time.monotonic()
            if wait > 0 and sent >= PER_ROUND:
                return delivered  # the rest: the next rounds
            if wait > 0:
                time.sleep(wait)  # at most the channel's interval, in its own thread
            error, retry_after, interval = self._attempt(item)
            with self._pacing:
                self._quiet_until[channel] = time.monotonic() + interval
            if error is None:
                delivered += 1
                with self._pacing:
                    self._resting.pop(channel, None)
                continue
            retry = self._failed(item, error, now, retry_after)
            if channel.startswith(CHANNEL_PREFIX):
                with self._pacing:
                    self._resting[channel] = retry or now

                # The rest of a channel's queue waits: a rollout's Slack message must not
                # get step 3 before step 2, and a channel that is down costs one timeout.
                return delivered
        return delivered

    def _attempt(self, item: OutboxItem) -> tuple[str | None, float | None, float]:
        """Send one item; (error or None, seconds asked to wait, pacing interval)."""
        if item.channel.startswith(CHANNEL_PREFIX):
            return self._to_channel(item)
        notifier = self._notifiers.get(item.channel)
        if notifier is None:
            return f"no notifier {item.channel!r} is configured any more", None, 0.0
        try:
            notifier.send(item.notification)
        except NotificationFailed as failure:
            return str(failure), failure.retry_after, 0.0
        except Exception as failure:  # a notifier bug must not stop the others
            log.exception("notifier %s failed", item.channel)
            return f"{type(failure).__name__}: {failure}", None, 0.0
        with self._store.transaction() as tx:
            tx.outbox_delivered(item.id, tx.now())  # when it went out, after sending
        return None, None, 0.0

    def _to_channel(self, item: OutboxItem) -> tuple[str | None, float | None, float]:
        channel_id = int(item.channel.removeprefix(CHANNEL_PREFIX))
        with self._store.read() as tx:
            record = tx.get_channel(channel_id)
            if record is None or self._senders is None or self._box is None:
                return "the channel was removed", None, 0.0
            try:
                sender = self._senders.sender(config_of(self._box, record))
            except (SecretsUnavailable, ValueError) as error:
                return str(error), None, 0.0
            key = sender.thread_key(item.notification)
            thread = tx.channel_thread(channel_id, key) if key is not None else None
        try:
            answer = sender.send(item.notification, thread)
        except NotificationFailed as failure:
            return str(failure), failure.retry_after, sender.min_interval
        except Exception as failure:  # a sender bug must not stop the others
            log.exception("channel %s failed", record.name)
            return f"{type(failure).__name__}: {failure}", None, sender.min_interval
        finally:
            sender.close()
        with self._store.transaction() as tx:
            if key is not None and answer.thread is not None and answer.thread != thread:
                tx.set_channel_thread(channel_id, key, answer.thread)
            tx.outbox_delivered(item.id, tx.now())
        return None, None, sender.min_interval

    def _failed(
        self, item: OutboxItem, error: str, now: datetime, retry_after: float | None
    ) -> datetime | None:
        """Record the failure; when it is retried (None: given up)."""
        if retry_after is not None:  # the receiver said when: a 429 is not a failure
            retry: datetime | None = now + timedelta(seconds=retry_after)
        else:
            retry = now + RETRY_AFTER[item.attempts] if item.attempts < len(RETRY_AFTER) else None
        with self._store.transaction() as tx:
            tx.outbox_failed(item.id, error, retry)
        log.warning(
            "notification %r to %s failed (attempt %d): %s%s",
            item.notification.title,
            item.channel,
            item.attempts + 1,
            error,
            "" if retry else "; giving up",
        )
        return retry
