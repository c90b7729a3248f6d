"""Rollout notifications leave through the outbox: written with the decision they
report, delivered to the log and to a signed webhook, retried with a pause when the
receiver is down (same delivery id, so receivers can de-duplicate), and never lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production
from tests.support.webhook_receiver import Receiver, webhook_receiver

from shipwise.server.bootstrap import Services, build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

SECRET = "whsec-rollouts-7d1"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(SECRET) as receiver:
        yield receiver


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def services(
    database_url: str, tmp_path: Path, receiver: Receiver, clock: ManualClock
) -> Iterator[Services]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        admin_token=None,
        notify_webhook_url=receiver.url,
        notify_webhook_secret=SECRET,
    )
    built = build(settings, clock)
    built.flags.create(SYSTEM, "default", "new-checkout")
    yield built
    built.close()


def start_and_pause(services: Services) -> int:
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        "new-checkout",
        "production",
        plan={"steps": [{"percentage": 100}]},
        release=release_in_production(services, "new-checkout"),
    )
    services.rollouts.pause(SYSTEM, "default", plan.id, "support asked us to wait")
    return plan.id


def test_each_decision_reaches_the_webhook_signed_and_the_log(
    services: Services, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    start_and_pause(services)
    assert receiver.received == []  # nothing leaves before the delivery round
    with caplog.at_level("INFO", logger="shipwise.notify"):
        delivered = services.notifications.deliver_due()
    assert delivered == 6  # the release created, two decisions; two channels each
    kinds = [json.loads(body)["type"] for _, body, _ in receiver.received]
    assert kinds == ["release.created", "rollout.bake", "rollout.pause"]
    assert all(valid for _, _, valid in receiver.received)
    paused = json.loads(receiver.received[2][1])["data"]
    assert paused["flag"] == "new-checkout"
    assert paused["environment"] == "production"
    assert paused["severity"] == "warning"
    assert "support asked us to wait" in paused["text"]
    assert any("paused" in record.getMessage() for record in caplog.records)
    assert services.notifications.deliver_due() == 0  # delivered once


def test_a_receiver_that_is_down_gets_it_later_with_the_same_delivery_id(
    services: Services, receiver: Receiver, clock: ManualClock
) -> None:
    receiver.status = 503
    start_and_pause(services)
    # The release created (the set-up's) and the two decisions: the log took its three.
    assert services.notifications.deliver_due() == 3
    first_ids = [headers["x-shipwise-delivery"] for headers, _, _ in receiver.received]
    assert len(first_ids) == 3
    clock.advance(seconds=5)
    assert services.notifications.deliver_due() == 0  # not before the pause is over
    assert len(receiver.received) == 3
    receiver.status = None
    clock.advance(seconds=10)
    assert services.notifications.deliver_due() == 3
    retried = [headers["x-shipwise-delivery"] for headers, _, _ in receiver.received[3:]]
    assert retried == first_ids
    assert services.notifications.deliver_due() == 0
