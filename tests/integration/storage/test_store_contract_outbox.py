"""The store contract, the outbox as people read it: deliveries listed by destination
and state, newest first; one found by id; one sent again by hand (due at once, its
attempts and last error kept). On the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.support.store_backend import START, Backend

from shipwise.server.ports import DeliveryState, Notification, Store

ALL = list(DeliveryState)


def _queue(store: Store, channel: str, title: str) -> int:
    with store.transaction() as tx:
        tx.enqueue(channel, Notification("rollout.advanced", "shop", title, "text", START))
    with store.read() as tx:
        return max(d.id for d in tx.list_deliveries([channel], ALL, 100))


def test_list_deliveries__tells_each_state_apart_newest_first(backend: Backend) -> None:
    # Given one delivery in each state on one channel, and one on another channel
    store = backend.store
    pending = _queue(store, "channel:1", "pending")
    failing = _queue(store, "channel:1", "failing")
    given_up = _queue(store, "channel:1", "given up")
    delivered = _queue(store, "channel:1", "delivered")
    elsewhere = _queue(store, "channel:2", "elsewhere")
    with store.transaction() as tx:
        tx.outbox_failed(failing, "500 from Slack", START + timedelta(minutes=1))
        tx.outbox_failed(given_up, "timed out", None)
        tx.outbox_delivered(delivered, START)

    # When they are listed by state
    with store.read() as tx:
        every = tx.list_deliveries(["channel:1"], ALL, 100)
        failed = tx.list_deliveries(
            ["channel:1"], [DeliveryState.FAILING, DeliveryState.GIVEN_UP], 100
        )
        newest = tx.list_deliveries(["channel:1", "channel:2"], ALL, 2)
        none = tx.list_deliveries([], ALL, 100)

    # Then each is in its own state, only the channels asked for, newest first
    assert [(d.id, d.state) for d in every] == [
        (delivered, DeliveryState.DELIVERED),
        (given_up, DeliveryState.GIVEN_UP),
        (failing, DeliveryState.FAILING),
        (pending, DeliveryState.PENDING),
    ]
    assert [(d.id, d.last_error, d.attempts) for d in failed] == [
        (given_up, "timed out", 1),
        (failing, "500 from Slack", 1),
    ]
    assert [d.id for d in newest] == [elsewhere, delivered]
    assert none == []
    assert every[2].next_attempt_at == START + timedelta(minutes=1)
    assert every[0].next_attempt_at is None  # delivered: no attempt is scheduled
    assert every[0].notification.title == "delivered"
    assert every[3].created_at == START


def test_retry_delivery__makes_a_given_up_item_due_and_keeps_its_attempts(
    backend: Backend,
) -> None:
    # Given a delivery given up after two failed attempts
    store = backend.store
    item = _queue(store, "channel:1", "given up")
    with store.transaction() as tx:
        tx.outbox_failed(item, "500", START + timedelta(seconds=10))
        tx.outbox_failed(item, "still 500", None)
    backend.clock.advance(hours=1)

    # When it is sent again by hand
    with store.transaction() as tx:
        tx.retry_delivery(item, tx.now())

    # Then it is due now, first in its queue, with its history kept
    now = START + timedelta(hours=1)
    with store.read() as tx:
        retried = tx.get_delivery(item)
        due = tx.due_outbox(now, 10)
        assert tx.get_delivery(item + 100) is None
    assert retried is not None
    assert (retried.state, retried.attempts, retried.last_error) == (
        DeliveryState.FAILING,
        2,
        "still 500",
    )
    assert retried.next_attempt_at == now
    assert [d.id for d in due] == [item]


def test_retry_delivery__of_a_delivered_item__changes_nothing(backend: Backend) -> None:
    store = backend.store
    item = _queue(store, "log", "sent")
    with store.transaction() as tx:
        tx.outbox_delivered(item, START)

    with store.transaction() as tx:
        tx.retry_delivery(item, START + timedelta(hours=1))

    with store.read() as tx:
        sent = tx.get_delivery(item)
        due = tx.due_outbox(START + timedelta(hours=2), 10)
    assert sent is not None
    assert sent.state is DeliveryState.DELIVERED
    assert due == []


def test_due_outbox__per_destination__takes_each_destinations_oldest_only(
    backend: Backend,
) -> None:
    # Given a long queue for one channel, then one message for another
    store = backend.store
    backlog = [_queue(store, "channel:1", f"backlog {n}") for n in range(5)]
    other = _queue(store, "channel:2", "other")

    # When the due items are read two per destination, at most three in all
    with store.read() as tx:
        due = tx.due_outbox(START, 3, per_destination=2)
        unlimited = tx.due_outbox(START, 3)

    # Then each destination's oldest two, oldest first
    assert [d.id for d in due] == [backlog[0], backlog[1], other]
    assert [d.id for d in unlimited] == backlog[:3]


def test_outbox_claim__takes_a_due_item_once_and_keeps_it_out_of_the_due_list(
    backend: Backend,
) -> None:
    # Given one due item and one delivered
    store = backend.store
    due = _queue(store, "channel:1", "due")
    sent = _queue(store, "channel:1", "sent")
    with store.transaction() as tx:
        tx.outbox_delivered(sent, START)
    until = START + timedelta(minutes=5)

    # When two instances claim the due one, and one claims the delivered one
    with store.transaction() as tx:
        first = tx.outbox_claim(due, START, until)
    with store.transaction() as tx:
        second = tx.outbox_claim(due, START, until)
        delivered = tx.outbox_claim(sent, START, until)
    with store.read() as tx:
        due_now = [item.id for item in tx.due_outbox(START, 100)]
        due_later = [item.id for item in tx.due_outbox(until, 100)]

    # Then only the first claim takes it; it is due again only once the claim ran out
    assert (first, second, delivered) == (True, False, False)
    assert due_now == []
    assert due_later == [due]
