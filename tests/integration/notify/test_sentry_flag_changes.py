"""A ``sentry-flags`` channel: every change of the project's flags reaches Sentry's
change-tracking webhook (a stand-in on loopback that checks the signature and the body
as Sentry's generic provider does), with the flag's key and Sentry's action; release
events do not; a wrong secret is a failed delivery, retried. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tests.support.clock import ManualClock
from tests.support.sentry_flag_webhook import SentryFlagWebhook, sentry_flag_webhook

from shipwise.server.bootstrap import Services, build
from shipwise.server.ports import Notification
from shipwise.server.services.errors import Invalid
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


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


@pytest.fixture
def sentry() -> Iterator[SentryFlagWebhook]:
    with sentry_flag_webhook() as hook:
        yield hook


def _channel(services: Services, sentry: SentryFlagWebhook, secret: str | None = None) -> None:
    services.channels.create(
        SYSTEM,
        "default",
        "sentry",
        "sentry-flags",
        {},
        {"url": sentry.url, "secret": secret or sentry.secret},
    )


def test_flag_created_and_switched_on__reach_sentry_signed__with_key_and_action(
    services: Services, sentry: SentryFlagWebhook
) -> None:
    # Given a sentry-flags channel
    _channel(services, sentry)

    # When a flag is created, switched on in staging and killed there
    services.flags.create(SYSTEM, "default", "new-checkout")
    services.flags.set_enabled(SYSTEM, "default", "new-checkout", "staging", True)
    services.flags.kill(SYSTEM, "default", "new-checkout", "staging", "error spike")
    services.notifications.deliver_due()

    # Then Sentry took three signed changes, in order, naming the flag and the action
    assert sentry.refused == []
    assert [(c["flag"], c["action"]) for c in sentry.changes] == [
        ("new-checkout", "created"),
        ("new-checkout", "updated"),
        ("new-checkout", "updated"),
    ]
    assert len({c["change_id"] for c in sentry.changes}) == 3
    assert {c["created_by"]["type"] for c in sentry.changes} == {"name"}
    assert datetime.fromisoformat(sentry.changes[0]["created_at"]) == T0
    for headers, body in sentry.requests:
        assert headers["x-sentry-signature"] == sentry.expected_signature(body)


def test_flag_archived__reaches_sentry_as_deleted(
    services: Services, sentry: SentryFlagWebhook
) -> None:
    services.flags.create(SYSTEM, "default", "old-banner")
    _channel(services, sentry)

    services.flags.update_metadata(SYSTEM, "default", "old-banner", {"archived": True})
    services.notifications.deliver_due()

    assert [(c["flag"], c["action"]) for c in sentry.changes] == [("old-banner", "deleted")]


def test_flags_imported_from_unleash__reach_sentry__created_then_configured(
    services: Services, sentry: SentryFlagWebhook
) -> None:
    _channel(services, sentry)
    document = {
        "version": 1,
        "features": [
            {
                "name": "imported-banner",
                "enabled": True,
                "strategies": [{"name": "default", "parameters": {}}],
            }
        ],
    }

    services.importing.import_unleash(SYSTEM, "default", "staging", document)
    services.notifications.deliver_due()

    assert sentry.refused == []
    assert [(c["flag"], c["action"]) for c in sentry.changes] == [
        ("imported-banner", "created"),
        ("imported-banner", "updated"),
    ]


def test_release_events__do_not_reach_a_sentry_flags_channel(
    services: Services, sentry: SentryFlagWebhook
) -> None:
    _channel(services, sentry)
    with services.database.transaction() as tx:
        services.notifications.announce(
            tx,
            Notification(
                kind="rollout.rollback",
                project="default",
                title="new-checkout rolled back",
                text="Error rate above threshold.",
                at=tx.now(),
                flag="new-checkout",
                environment="production",
                data={"plan": 1, "step": 2},
            ),
        )

    services.notifications.deliver_due()

    assert sentry.requests == []


def test_wrong_signing_secret__sentry_refuses__the_change_is_retried_once_fixed(
    services: Services, sentry: SentryFlagWebhook, clock: ManualClock
) -> None:
    # Given a channel whose secret is not the one Sentry has
    _channel(services, sentry, secret="not-the-secret")
    services.flags.create(SYSTEM, "default", "new-checkout")

    # When it is delivered, Sentry refuses it
    services.notifications.deliver_due()
    assert (sentry.refused, sentry.changes) == (["signature"], [])

    # And once the secret is right, the retry goes through
    services.channels.update(SYSTEM, "default", "sentry", None, {"secret": sentry.secret})
    clock.advance(minutes=1)
    services.notifications.deliver_due()
    assert [(c["flag"], c["action"]) for c in sentry.changes] == [("new-checkout", "created")]


def test_channel_test__sends_a_signed_empty_batch__sentry_records_nothing(
    services: Services, sentry: SentryFlagWebhook
) -> None:
    _channel(services, sentry)

    answer = services.channels.test(SYSTEM, "default", "sentry")

    assert answer.ok, answer
    assert len(sentry.requests) == 1
    assert (sentry.refused, sentry.changes) == ([], [])


def test_sentry_flags_channel_without_secret__refused_naming_it(services: Services) -> None:
    with pytest.raises(Invalid, match="signing secret") as refused:
        services.channels.create(
            SYSTEM, "default", "sentry", "sentry-flags", {}, {"url": "https://sentry.io/x"}
        )
    assert refused.value.field == "secrets.secret"
