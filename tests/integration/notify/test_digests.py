"""An email channel's daily digest, on SQLite and PostgreSQL, against real SMTP servers
on loopback (aiosmtpd) and a simulated clock: the events a digest subscription hears in
a day arrive as one email at its time the next morning, in the policy's time zone; a
per-event subscription of another channel gets each at once; a digest that fails is
retried whole and arrives once, and retried by hand it goes again whole."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from cryptography.fernet import Fernet
from tests.support.clock import ManualClock
from tests.support.server import free_port
from tests.support.smtp_inbox import Inbox, smtp_inbox

from shipwise.server.bootstrap import (
    Services,
    change_bus,
    database_secret_box,
    metric_sources,
    notifiers,
    open_database,
    wire_services,
)
from shipwise.server.notify.channels import Senders
from shipwise.server.ports import DeliveryState, Notification
from shipwise.server.services.deliveries import FAILED
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

# 10:00 in Berlin (CET, UTC+1) on a Monday: the digest goes at 09:00 Berlin the next
# morning, 08:00 UTC; a digest read in UTC would go an hour later.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
ADMIN = "sw_api_digest-tests-admin-token-00000001"
SUBJECT = "Shipwise daily digest: 3 events in default (2026-11-03)"


class RefusingInbox(Inbox):
    """An SMTP server that answers 451 to the first ``refuse`` messages."""

    refuse = 0

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        return "250 OK"


@contextmanager
def refusing_inbox() -> Iterator[RefusingInbox]:
    inbox = RefusingInbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def services(
    database_url: str, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    monkeypatch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())
    settings = Settings(data_dir=tmp_path, database_url=database_url, admin_token=ADMIN)
    database = open_database(settings, clock)
    database.upgrade()
    bus = change_bus(database)
    database.attach_bus(bus)
    built = wire_services(
        database,
        bus,
        notifiers(settings),
        metric_sources(settings),
        box=database_secret_box(database),
        senders=Senders(timeout=10.0),
    )
    built.tokens.bootstrap_admin(ADMIN)
    built.projects.create(SYSTEM, "default", "Default project", timezone="Europe/Berlin")
    yield built
    built.close()


def email_channel(services: Services, name: str, inbox: Inbox) -> None:
    settings = {
        "host": "127.0.0.1",
        "port": inbox.port,
        "security": "none",
        "from": "shipwise@shop.example",
        "recipients": [f"{name}@shop.example"],
    }
    services.channels.create(SYSTEM, "default", name, "email", settings, {})


def announce(services: Services, title: str, release: str | None, severity: str) -> None:
    with services.database.transaction() as tx:
        url = f"https://shipwise.example/projects/default/releases/{release or 'none'}"
        services.notifications.announce(
            tx,
            Notification(
                kind="promotion.done",
                project="default",
                title=title,
                text="What happened.",
                at=tx.now(),
                release=release,
                environment="production",
                severity=severity,
                data={"event_key": title, "url": url},
            ),
        )


def three_events(services: Services, clock: ManualClock) -> None:
    """Three events during Monday, Berlin time: two about rel-1, one about rel-2."""
    announce(services, "rel-1 reached staging", "rel-1", "info")
    clock.advance(hours=3)
    announce(services, "rel-2 refused in production", "rel-2", "warning")
    clock.advance(hours=5)
    announce(services, "rel-1 reached production", "rel-1", "info")


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content().replace("\r\n", "\n"), html.get_content()


def states(services: Services, destination: str) -> list[DeliveryState]:
    with services.database.read() as tx:
        return [d.state for d in tx.list_deliveries([destination], list(DeliveryState), 100)]


def test_a_days_events__reach_a_digest_as_one_email_at_nine_the_next_morning_in_the_policy_zone(
    services: Services, clock: ManualClock
) -> None:
    # Given a digest subscription of one email channel and a per-event one of another
    with smtp_inbox() as digest_box, smtp_inbox() as at_once_box:
        email_channel(services, "managers", digest_box)
        email_channel(services, "archive", at_once_box)
        services.subscriptions.create(SYSTEM, "default", "managers", ["*"], digest="daily")
        services.subscriptions.create(SYSTEM, "default", "archive", ["*"])

        # When three events happen during the day, each delivered as it comes
        announce(services, "rel-1 reached staging", "rel-1", "info")
        services.notifications.deliver_due()
        clock.advance(hours=3)
        announce(services, "rel-2 refused in production", "rel-2", "warning")
        services.notifications.deliver_due()
        clock.advance(hours=5)
        announce(services, "rel-1 reached production", "rel-1", "info")
        services.notifications.deliver_due()

        # Then the per-event channel has each at once, the digest nothing yet
        assert [m["Subject"] for m in at_once_box.messages] == [
            "rel-1 reached staging",
            "rel-2 refused in production",
            "rel-1 reached production",
        ]
        assert digest_box.messages == []

        # nor a minute before 09:00 in Berlin (07:59 UTC)
        clock.set(NEXT_MORNING - timedelta(minutes=1))
        services.notifications.deliver_due()
        assert digest_box.messages == []

        # and at 09:00 in Berlin, one email listing the three, grouped by release
        clock.set(NEXT_MORNING)
        services.notifications.deliver_due()
        services.notifications.deliver_due()
    [digest] = digest_box.messages
    assert digest["Subject"] == SUBJECT
    plain, html = parts(digest)
    for text in (plain, html):
        assert "rel-1 reached staging" in text
        assert "rel-2 refused in production" in text
        assert "rel-1 reached production" in text
        assert "2026-11-02 10:00 CET" in text  # each event's time, in the policy's zone
        assert "warning" in text
        assert "https://shipwise.example/projects/default/releases/rel-2" in text
    # rel-1's two events under rel-1's heading, before rel-2's
    assert plain.index("rel-1\n-----") < plain.index("rel-1 reached production")
    assert plain.index("rel-1 reached production") < plain.index("rel-2\n-----")
    assert '<a href="https://shipwise.example/projects/default/releases/rel-1">' in html
    assert len(at_once_box.messages) == 3
    assert states(services, "digest:1") == [DeliveryState.DELIVERED] * 3


def test_an_event_heard_at_once_by_another_subscription_of_the_channel__is_not_in_its_digest(
    services: Services, clock: ManualClock
) -> None:
    with smtp_inbox() as inbox:
        email_channel(services, "managers", inbox)
        services.subscriptions.create(SYSTEM, "default", "managers", ["*"], digest="daily")
        services.subscriptions.create(SYSTEM, "default", "managers", ["*"], min_severity="warning")
        three_events(services, clock)
        services.notifications.deliver_due()
        clock.set(NEXT_MORNING)
        services.notifications.deliver_due()

    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [
        "rel-2 refused in production",
        "Shipwise daily digest: 2 events in default (2026-11-03)",
    ]
    plain, _ = parts(inbox.messages[1])
    assert "rel-2 refused" not in plain


def test_an_smtp_failure__retries_the_digest_whole_and_it_arrives_once(
    services: Services, clock: ManualClock
) -> None:
    with refusing_inbox() as inbox:
        inbox.refuse = 1
        email_channel(services, "managers", inbox)
        services.subscriptions.create(
            SYSTEM, "default", "managers", ["promotion.*"], digest="daily", digest_at="09:00"
        )
        three_events(services, clock)
        clock.set(NEXT_MORNING)

        services.notifications.deliver_due()  # answered 451
        failed = services.deliveries.list(SYSTEM, "default", FAILED)
        clock.advance(seconds=10)  # the first retry's pause
        services.notifications.deliver_due()
        services.notifications.deliver_due()

    assert [(d.channel, d.attempts) for d in failed] == [("managers", 1)] * 3
    assert {d.last_error for d in failed} == {d.last_error for d in failed[:1]}
    [digest] = inbox.messages
    assert digest["Subject"] == SUBJECT
    assert states(services, "digest:1") == [DeliveryState.DELIVERED] * 3


def test_a_digest_given_up__retried_by_hand_through_one_item__goes_again_whole(
    services: Services, clock: ManualClock
) -> None:
    with refusing_inbox() as inbox:
        inbox.refuse = 6  # the first attempt and every retry
        email_channel(services, "managers", inbox)
        services.subscriptions.create(
            SYSTEM, "default", "managers", ["promotion.*"], digest="daily"
        )
        three_events(services, clock)
        clock.set(NEXT_MORNING)
        for _ in range(6):
            services.notifications.deliver_due()
            clock.advance(hours=3)  # past every pause
        given_up = services.deliveries.list(SYSTEM, "default", [DeliveryState.GIVEN_UP])

        services.deliveries.retry(SYSTEM, "default", given_up[0].id)
        services.notifications.deliver_due()

    assert len(given_up) == 3
    [digest] = inbox.messages
    # dated the day it went out: 03:00 in Berlin on the Wednesday, after six attempts
    assert digest["Subject"] == SUBJECT.replace("2026-11-03", "2026-11-04")
    assert states(services, "digest:1") == [DeliveryState.DELIVERED] * 3
