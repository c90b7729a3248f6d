"""The outbox delivers each notification to every channel of its project: a channel
that hangs or answers 429 delays only its own messages, waits out Retry-After, and a
rollout's notifications keep one Slack thread across delivery rounds. SQLite and
PostgreSQL, with real Slack stand-ins on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tests.integration.notify.slack_channels import hook, two_slacks
from tests.support.clock import ManualClock
from tests.support.slack_standin import TOKEN, SlackStandin

from shipwise.server.bootstrap import Services, build
from shipwise.server.ports import Notification
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

__all__ = ["two_slacks"]  # a fixture


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def services(
    database_url: str, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    monkeypatch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())
    built = build(Settings(data_dir=tmp_path, database_url=database_url), clock)
    yield built
    built.close()


def announce(services: Services, title: str, **data: object) -> None:
    with services.database.transaction() as tx:
        notification = Notification(
            kind="rollout.advance",
            project="default",
            title=title,
            text="Step advanced.",
            at=tx.now(),
            flag="new-checkout",
            environment="production",
            data=data,
        )
        services.notifications.announce(tx, notification)


def test_a_channel_that_hangs__delays_only_its_own_messages(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin]
) -> None:
    # Given two channels, the first hanging until released
    stuck, fine = two_slacks
    hook(services, "stuck", stuck)
    hook(services, "fine", fine)
    announce(services, "new-checkout at 25%")
    stuck.hold()

    # When a round delivers
    round_ = threading.Thread(target=services.notifications.deliver_due)
    round_.start()
    arrived = _wait_for(lambda: len(fine.posts) == 1)
    stuck_had = len(stuck.posts)
    stuck.release()
    round_.join(timeout=30)

    # Then the working channel got its message while the other still hung
    assert arrived
    assert stuck_had == 0
    assert [m.body["blocks"][0]["text"]["text"] for m in fine.posts] == ["new-checkout at 25%"]


def test_a_channel_answering_429__waits_its_retry_after_while_the_others_go_on(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], clock: ManualClock
) -> None:
    limited, fine = two_slacks
    hook(services, "limited", limited)
    hook(services, "fine", fine)
    limited.refuse(429, retry_after=30)
    announce(services, "new-checkout at 25%")

    services.notifications.deliver_due()
    clock.advance(seconds=29)
    services.notifications.deliver_due()
    limited_before = len(limited.posts)
    clock.advance(seconds=2)
    services.notifications.deliver_due()

    assert len(fine.posts) == 1
    assert limited_before == 0
    assert limited.requests == 2  # the 429, then the retry after Retry-After; none between
    assert len(limited.posts) == 1


def test_a_rollout_on_a_bot_channel__keeps_one_thread_across_rounds(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], clock: ManualClock
) -> None:
    slack, _ = two_slacks
    services.channels.create(
        SYSTEM,
        "default",
        "bot",
        "slack",
        {"channel": "#releases", "api_url": slack.api_url},
        {"token": TOKEN},
    )
    announce(services, "new-checkout at 10%", plan=7)
    services.notifications.deliver_due()
    clock.advance(minutes=30)
    announce(services, "new-checkout at 25%", plan=7)
    services.notifications.deliver_due()

    parent, reply = slack.posts
    [update] = slack.updates
    assert update.ts == parent.ts
    assert update.body["blocks"][0]["text"]["text"] == "new-checkout at 25%"
    assert reply.body["thread_ts"] == parent.ts


def test_a_message_in_flight__is_not_sent_again_by_an_instance_that_took_over(
    services: Services,
    two_slacks: tuple[SlackStandin, SlackStandin],
    clock: ManualClock,
    database_url: str,
    tmp_path: Path,
) -> None:
    # Given a message being sent by one instance, held by Slack
    slack, _ = two_slacks
    hook(services, "team", slack)
    announce(services, "new-checkout at 25%")
    slack.hold()
    first = threading.Thread(target=services.notifications.deliver_due)
    first.start()
    assert _wait_for(lambda: slack.arrived == 1)

    # When a second instance on the same database (one that took the runner's lease
    # while the first was sending) delivers what it reads as due
    other = build(Settings(data_dir=tmp_path, database_url=database_url), clock)
    try:
        other.notifications.deliver_due()
        arrived_meanwhile = slack.arrived
        slack.release()
        first.join(timeout=30)
        other.notifications.deliver_due()  # and again, once the first has finished
    finally:
        other.close()

    # Then Slack got the message once
    assert arrived_meanwhile == 1
    assert len(slack.posts) == 1


def _wait_for(condition: object, seconds: float = 20) -> bool:
    """Wait (not a timed assertion: a generous bound on a hang) until ``condition()``."""
    deadline = datetime.now(UTC) + timedelta(seconds=seconds)
    while datetime.now(UTC) < deadline:
        if condition():  # type: ignore[operator]
            return True
        threading.Event().wait(0.02)
    return False
