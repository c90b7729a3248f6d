"""``WebhookNotifier`` against a receiver on a thread (stdlib ``http.server``) that checks
each delivery as the documentation tells receivers to: the signature verifies with the
shared secret and not with another; a refusal, an error status, a timeout and a refused
connection raise ``NotificationFailed`` naming the URL, never the secret."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from tests.support.endless_answer import HUGE, endless_answer
from tests.support.webhook_receiver import Receiver, webhook_receiver

from shipwise.server.notify.webhook import (
    WebhookNotifier,
    delivery_id,
    signature,
    verify_signature,
)
from shipwise.server.ports import Notification, NotificationFailed

SECRET = "whsec-test-2f9c1e"
HANG_GUARD = 30.0  # seconds: a send still running by then hangs (the test fails, not hangs)

NOTIFICATION = Notification(
    kind="rollout.paused",
    project="shop",
    title="Rollout of new-checkout paused at 25%",
    text="The error rate of the on arm is 3.1% against 1.0%.\nResume or roll back.",
    at=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
    release="2025.05.1",
    flag="new-checkout",
    environment="production",
    severity="warning",
    data={"step": 2, "percentage": 25},
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(SECRET) as receiver:
        yield receiver


@pytest.fixture
def notifier(receiver: Receiver) -> Iterator[WebhookNotifier]:
    notifier = WebhookNotifier(receiver.url, SECRET, timeout=2)
    try:
        yield notifier
    finally:
        notifier.close()


# -- delivered --------------------------------------------------------------------------


def test_send__receiver_verifies_the_signature_with_the_shared_secret(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    notifier.send(NOTIFICATION)
    [(headers, body, valid)] = receiver.received
    assert valid is True
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Shipwise"
    assert abs(int(headers["x-shipwise-timestamp"]) - time.time()) < 5
    assert headers["x-shipwise-signature"] == signature(
        SECRET, headers["x-shipwise-timestamp"], body
    )


def test_send__body_is_the_documented_envelope(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    notifier.send(NOTIFICATION)
    [(headers, body, _)] = receiver.received
    document = json.loads(body)
    assert document == {
        "id": headers["x-shipwise-delivery"],
        "type": "rollout.paused",
        "created_at": "2025-05-01T12:00:00+00:00",
        "data": NOTIFICATION.to_dict(),
    }


def test_send__same_notification_again__carries_the_same_delivery_id(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    # Given a notification retried (the outbox sends it again), and a different one
    other = replace(NOTIFICATION, data={"step": 3, "percentage": 50})
    notifier.send(NOTIFICATION)
    notifier.send(NOTIFICATION)
    notifier.send(other)
    # Then the retry has the id of the first attempt; the other notification its own
    ids = [headers["x-shipwise-delivery"] for headers, _, _ in receiver.received]
    assert ids[0] == ids[1] == delivery_id(NOTIFICATION)
    assert ids[2] != ids[0]


def test_delivery_id__same_moment_with_or_without_a_time_zone__is_the_same() -> None:
    # A store that drops the time zone (SQLite) must not turn a retry into a new delivery.
    naive = replace(NOTIFICATION, at=NOTIFICATION.at.replace(tzinfo=None))
    assert delivery_id(naive) == delivery_id(NOTIFICATION)


# -- not delivered ----------------------------------------------------------------------


def test_send__receiver_with_another_secret__rejects_it(receiver: Receiver) -> None:
    # Given a notifier configured with a secret the receiver does not share
    with_wrong_secret = WebhookNotifier(receiver.url, "not-the-secret", timeout=2)
    try:
        # When it sends, the receiver cannot verify the signature and answers 401
        with pytest.raises(NotificationFailed) as failure:
            with_wrong_secret.send(NOTIFICATION)
    finally:
        with_wrong_secret.close()
    assert [valid for _, _, valid in receiver.received] == [False]
    assert "answered 401" in str(failure.value)
    assert "not-the-secret" not in str(failure.value)


def test_send__500__raises_naming_the_url_and_status_not_the_secret(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    receiver.status = 500
    with pytest.raises(NotificationFailed) as failure:
        notifier.send(NOTIFICATION)
    message = str(failure.value)
    assert message == f"webhook {receiver.url} answered 500 (Internal Server Error)"
    assert SECRET not in message


def test_send__redirect__is_not_followed(receiver: Receiver, notifier: WebhookNotifier) -> None:
    receiver.status = 302
    with pytest.raises(NotificationFailed, match=r"answered 302 .*redirects are not followed"):
        notifier.send(NOTIFICATION)


def test_send__receiver_too_slow__raises_after_the_timeout(receiver: Receiver) -> None:
    receiver.hold = True
    slow = WebhookNotifier(receiver.url, SECRET, timeout=0.2)
    started = time.monotonic()
    try:
        with pytest.raises(NotificationFailed) as failure:
            slow.send(NOTIFICATION)
    finally:
        slow.close()
        receiver.release.set()
    assert time.monotonic() - started < 2
    assert str(failure.value) == f"webhook {receiver.url}: no answer within 0.2 s"


def test_send__connection_refused__raises_naming_the_url() -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    notifier = WebhookNotifier(url, SECRET, timeout=2)
    try:
        with pytest.raises(NotificationFailed, match=rf"^webhook {url}: cannot connect"):
            notifier.send(NOTIFICATION)
    finally:
        notifier.close()


def test_failure_message__leaves_out_credentials_in_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = WebhookNotifier(f"http://user:pw@127.0.0.1:{port}/hook?token=abc", SECRET)
    try:
        with pytest.raises(NotificationFailed) as failure:
            notifier.send(NOTIFICATION)
    finally:
        notifier.close()
    message = str(failure.value)
    assert f"http://127.0.0.1:{port}/hook?…" in message
    assert "pw" not in message
    assert "abc" not in message
    assert "abc" not in repr(notifier)
    assert SECRET not in repr(notifier)


# -- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret", "problem"),
    [
        pytest.param("ftp://example.com/hook", SECRET, "http:// or https://", id="ftp url"),
        pytest.param("example.com/hook", SECRET, "http:// or https://", id="no scheme"),
        pytest.param("https://example.com/hook", "", "secret is empty", id="empty secret"),
    ],
)
def test_webhook_notifier__misconfigured__raises_naming_the_problem(
    url: str, secret: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        WebhookNotifier(url, secret)


# -- verify_signature -------------------------------------------------------------------

BODY = b'{"id":"x","type":"rollout.paused"}'
NOW = 1_746_100_000


def _header(timestamp: int | str = NOW, body: bytes = BODY, secret: str = SECRET) -> str:
    return signature(secret, timestamp, body)


def test_verify_signature__genuine__is_true() -> None:
    assert verify_signature(SECRET, str(NOW), BODY, _header(), now=NOW + 10) is True
    assert verify_signature(SECRET.encode(), NOW, BODY.decode(), _header(), now=NOW) is True


@pytest.mark.parametrize(
    ("timestamp", "body", "header", "now"),
    [
        pytest.param(str(NOW), BODY + b" ", _header(), NOW, id="body changed"),
        pytest.param(str(NOW + 1), BODY, _header(), NOW, id="timestamp changed"),
        pytest.param(str(NOW), BODY, _header(secret="other"), NOW, id="other secret"),
        pytest.param(str(NOW), BODY, _header(), NOW + 301, id="too old: a replay"),
        pytest.param(str(NOW), BODY, _header(), NOW - 301, id="from the future"),
        pytest.param("soon", BODY, _header("soon"), NOW, id="timestamp not a number"),
        pytest.param(None, BODY, _header(), NOW, id="no timestamp"),
        pytest.param(str(NOW), BODY, None, NOW, id="no signature"),
        pytest.param(str(NOW), BODY, _header()[len("sha256=") :], NOW, id="no sha256= prefix"),
        pytest.param(str(NOW), BODY, "sha1=" + "0" * 40, NOW, id="another algorithm"),
    ],
)
def test_verify_signature__anything_off__is_false(
    timestamp: str | None, body: bytes, header: str | None, now: int
) -> None:
    assert verify_signature(SECRET, timestamp, body, header, now=now) is False


def test_verify_signature__tolerance__is_configurable() -> None:
    assert verify_signature(SECRET, NOW, BODY, _header(), now=NOW + 600, tolerance=900) is True


@pytest.mark.parametrize("mode", ["huge", "dripping"])
def test_notifier__a_huge_or_endless_answer__is_read_only_so_far_and_the_send_ends(
    mode: str,
) -> None:
    with endless_answer(mode) as endless:
        notifier = WebhookNotifier(endless.url, SECRET, timeout=1.0)
        sent: list[bool] = []

        def deliver() -> None:
            notifier.send(NOTIFICATION)
            sent.append(True)

        send = threading.Thread(target=deliver)
        send.start()
        send.join(HANG_GUARD)
        still_reading = send.is_alive()
        endless._stop.set()  # lets a client that still reads go, whatever happened
        send.join(HANG_GUARD)
        notifier.close()

    assert not still_reading, f"the send still reads a {mode} answer"
    assert endless.sent < HUGE, "the send read the whole huge answer"
    assert sent == [True]
