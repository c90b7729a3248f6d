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
second) and waits out a 429's ``Retry-After``. Delivery runs in its own loop
(``worker.py``), never in a request nor in the runner's rounds.

An email channel's daily digest (``digests.py``) is a destination of its own,
``digest:<id>``, whose items come due together at the digest's time and go out as one
email: claimed, sent and recorded together.

A destination that keeps failing (``FAILING_AFTER`` failed attempts of one message, or
a message given up) is announced once as ``delivery.failing`` to the notifiers and the
project's channels, until it delivers again; a person lists failed deliveries and sends
one again by hand (``deliveries.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.server.ports import (
    ChannelSenders,
    ChannelStore,
    Clocked,
    DigestSender,
    Notification,
    NotificationFailed,
    Notifier,
    OutboxItem,
    OutboxStore,
    SecretBox,
    SecretsUnavailable,
    StoreOf,
)
from shipwise.server.services import digests
from shipwise.server.services.channel_secrets import config_of
from shipwise.server.services.subscriptions import RoutingTx, dedupe_key, listeners

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
# Due messages one destination gets into a round's read: a channel that is down with a
# long backlog leaves the read room for the others.
PER_DESTINATION = 20
# How long an item taken for sending stays out of every instance's due list: longer
# than any send (a channel's timeout and pacing). Only a crash mid-send leaves it taken;
# it is sent again once this has passed.
CLAIM_FOR = timedelta(minutes=5)
FAILING_KIND = "delivery.failing"
FAILING_AFTER = 3  # failed attempts of one message before people hear the channel fails


class AnnounceTx(OutboxStore, RoutingTx, Protocol):
    """What announcing touches: the outbox, the project's channels and their
    subscriptions to route by, and the dedupe keys already queued."""


class OutboxTx(AnnounceTx, Clocked, Protocol):
    """What delivering touches: the outbox, the project's channels (and their threads),
    what announcing a failing channel touches, and the store's clock that says what is
    due and when it went out."""


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
        # Per channel whose oldest message failed, that message's id and when (the store's
        # clock) it is retried: its later messages wait too, so they never overtake it (a
        # 429's Retry-After). Retried by hand, it is due at once and goes first.
        self._resting: dict[str, tuple[int, datetime]] = {}
        # Destinations told about as failing since they last delivered: one notice each.
        self._told_failing: set[str] = set()
        self._pacing = threading.Lock()

    @property
    def channels(self) -> list[str]:
        return sorted(self._notifiers)

    def announce(self, tx: AnnounceTx, notification: Notification) -> None:
        """Queue ``notification`` (of any kind) for every server-wide notifier and for
        each channel of its project whose subscriptions hear it, inside the caller's
        transaction; never twice the same event for one destination (``dedupe_key``)."""
        key = dedupe_key(notification)
        destinations: list[tuple[str, datetime | None]] = [(n, None) for n in self._notifiers]
        project = tx.get_project(notification.project) if self._senders is not None else None
        if project is not None:
            timezone: str | None = None
            for route in listeners(tx, project, notification):
                if route.digest_at is None:
                    destinations.append((f"{CHANNEL_PREFIX}{route.channel.id}", None))
                    continue
                timezone = timezone or digests.timezone_of(tx, project)
                at = digests.due_at(notification.at, route.digest_at, timezone)
                destinations.append((digests.destination(route.channel.id), at))
        for destination, due_at in destinations:
            if key is None or tx.claim_dedupe(destination, key):
                tx.enqueue(destination, notification, due_at)

    def deliver_due(self, limit: int = 1000) -> int:
        """Send what is due, every destination at once, and wait for them all; returns
        how many were delivered. (The delivery loop, ``worker.py``, does not wait: it
        starts each destination's queue on its own.)"""
        now, queues = self.due_queues(limit)
        if len(queues) <= 1:
            return sum(self.deliver_queue(items, now) for items in queues.values())
        with ThreadPoolExecutor(min(MAX_PARALLEL, len(queues)), "shipwise-notify") as pool:
            return sum(pool.map(lambda items: self.deliver_queue(items, now), queues.values()))

    def due_queues(self, limit: int = 1000) -> tuple[datetime, dict[str, list[OutboxItem]]]:
        """What is due now, per destination, oldest first; and that now."""
        with self._store.read() as tx:
            now = tx.now()
            due = tx.due_outbox(now, limit, PER_DESTINATION)
        queues: defaultdict[str, list[OutboxItem]] = defaultdict(list)
        for item in due:
            queues[item.channel].append(item)
        return now, dict(queues)

    def deliver_queue(
        self, items: list[OutboxItem], now: datetime, may_send: Callable[[], bool] | None = None
    ) -> int:
        """One destination's due items, oldest first, until one fails, or until
        ``may_send()`` says no more (this instance lost the runner's lease: another may
        be sending the same items now)."""
        delivered = 0
        channel = items[0].channel
        if channel.startswith(digests.DIGEST_PREFIX):
            return 0 if may_send is not None and not may_send() else self._digest(channel)
        with self._pacing:
            resting = self._resting.get(channel)
        for sent, item in enumerate(items):
            if may_send is not None and not may_send():
                return delivered
            if resting is not None and now < resting[1] and item.id > resting[0]:
                return delivered  # a later message may not overtake the one that failed
            with self._pacing:
                wait = self._quiet_until.get(channel, 0.0) - time.monotonic()
            if wait > 0 and sent >= PER_ROUND:
                return delivered  # the rest: the next rounds
            if wait > 0:
                time.sleep(wait)  # at most the channel's interval, in its own thread
            if not self._claim(item):
                return delivered  # sent (or being sent) by the instance that holds the lease
            error, retry_after, interval = self._attempt(item)
            with self._pacing:
                self._quiet_until[channel] = time.monotonic() + interval
            if error is None:
                delivered += 1
                with self._pacing:
                    self._told_failing.discard(channel)
                    if resting is not None and resting[0] == item.id:
                        resting = None  # the one that failed went out: the rest follow it
                        self._resting.pop(channel, None)
                continue
            retry = self._failed(item, error, now, retry_after)
            if channel.startswith(CHANNEL_PREFIX):
                with self._pacing:
                    self._resting[channel] = (item.id, retry or now)

                # The rest of a channel's queue waits: a rollout's Slack message must not
                # get step 3 before step 2, and a channel that is down costs one timeout.
                return delivered
        return delivered

    def _digest(self, destination: str) -> int:
        """Send a digest's due items as one email: all claimed in one transaction before
        sending, all recorded delivered (or failed, to be retried together) in one after."""
        with self._store.transaction() as tx:
            now = tx.now()
            due = digests.due_items(tx, destination, now)
            items = [i for i in due if tx.outbox_claim(i.id, now, now + CLAIM_FOR)]
        if not items:
            return 0  # sent (or being sent) by the instance that holds the lease
        error, retry_after = self._send_digest(destination, items, now)
        if error is None:
            with self._store.transaction() as tx:
                for item in items:
                    tx.outbox_delivered(item.id, tx.now())
            with self._pacing:
                self._told_failing.discard(destination)
            return len(items)
        # The freshest item's attempts pace the retries, so a digest that gained new
        # events is not given up on the strength of an older failure.
        pacer = min(items, key=lambda item: item.attempts)
        retry = self._failed(pacer, error, now, retry_after)
        with self._store.transaction() as tx:
            for item in items:
                if item.id != pacer.id:
                    tx.outbox_failed(item.id, error, retry)
        return 0

    def _send_digest(
        self, destination: str, items: list[OutboxItem], now: datetime
    ) -> tuple[str | None, float | None]:
        channel_id = digests.channel_id(destination)
        with self._store.read() as tx:
            record = tx.get_channel(channel_id) if channel_id is not None else None
            project = tx.get_project(items[0].notification.project)
            if record is None or project is None or self._senders is None or self._box is None:
                return "the channel was removed", None
            try:
                sender = self._senders.sender(config_of(self._box, record))
            except (SecretsUnavailable, ValueError) as error:
                return str(error), None
            timezone = digests.timezone_of(tx, project)
        digest = digests.compose(project.key, timezone, items, now)
        try:
            if not isinstance(sender, DigestSender):
                return f"a {record.kind} channel cannot send a digest", None
            sender.send_digest(digest)
        except NotificationFailed as failure:
            return str(failure), failure.retry_after
        except Exception as failure:  # a sender bug must not stop the others
            log.exception("digest to channel %s failed", record.name)
            return f"{type(failure).__name__}: {failure}", None
        finally:
            sender.close()
        return None, None

    def _claim(self, item: OutboxItem) -> bool:
        """Take ``item`` for this attempt, so an instance that takes the runner's lease
        while this one sends does not send it too."""
        with self._store.transaction() as tx:
            now = tx.now()
            return tx.outbox_claim(item.id, now, now + CLAIM_FOR)

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
            if retry_after is None and self._keeps_failing(item, retry):
                where = _destination(tx, item.channel)
                self.announce(tx, failing_notice(item, where, error, retry, tx.now()))
        log.warning(
            "notification %r to %s failed (attempt %d): %s%s",
            item.notification.title,
            item.channel,
            item.attempts + 1,
            error,
            "" if retry else "; giving up",
        )
        return retry

    def _keeps_failing(self, item: OutboxItem, retry: datetime | None) -> bool:
        """Whether this failure is the one to tell people about: the ``FAILING_AFTER``th
        failed attempt of a message (or its giving up, if sooner), once per destination
        until it delivers again. A notice about a failing delivery tells nobody more."""
        if item.notification.kind == FAILING_KIND:
            return False
        if item.attempts + 1 < FAILING_AFTER and retry is not None:
            return False
        with self._pacing:
            if item.channel in self._told_failing:
                return False
            self._told_failing.add(item.channel)
        return True


def _destination(tx: ChannelStore, channel: str) -> str:
    """A destination in words: a channel by its name (or its digest), else the
    server-wide notifier."""
    digest_of = digests.channel_id(channel)
    if digest_of is not None:
        record = tx.get_channel(digest_of)
        return f"the digest of channel {record.name}" if record is not None else "a removed channel"
    if not channel.startswith(CHANNEL_PREFIX):
        return f"the {channel} notifier"
    record = tx.get_channel(int(channel.removeprefix(CHANNEL_PREFIX)))
    return f"channel {record.name}" if record is not None else "a removed channel"


def failing_notice(
    item: OutboxItem, where: str, error: str, retry: datetime | None, now: datetime
) -> Notification:
    """What people hear when a destination keeps failing: which one, since which message,
    the error, and whether it is still being retried."""
    about = item.notification
    next_step = (
        f"Shipwise retries it at {retry.isoformat(timespec='minutes')}"
        if retry is not None
        else "Shipwise gave up on it"
    )
    return Notification(
        kind=FAILING_KIND,
        project=about.project,
        title=f"Deliveries to {where} keep failing",
        text=(
            f"{item.attempts + 1} attempts to deliver “{about.title}” to {where} failed; "
            f"the last said: {error}. {next_step}; its later messages wait behind it. "
            "`shipwise channel deliveries --failed` lists them and `shipwise channel "
            "retry ID` sends one again."
        ),
        at=now,
        release=about.release,
        severity="warning",
        data={"destination": item.channel, "delivery": item.id, "error": error},
    )
