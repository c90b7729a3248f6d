"""Subscriptions over the API, on SQLite and PostgreSQL: a channel hears only the events
its subscriptions match (or, with none, the process's defaults), and one event is one
message however often it is announced. Delivered to the Slack stand-in and the log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.support.server import RunningServer, running_server
from tests.support.slack_standin import SlackStandin, slack_standin

from shipwise.server.notify.secrets import KEY_VARIABLE
from shipwise.server.ports import Notification

P = "/api/v1/projects/default"


@pytest.fixture
def server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningServer]:
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())  # PostgreSQL needs one
    with running_server(database_url=database_url, data_dir=tmp_path) as running:
        yield running


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with slack_standin() as standin:
        yield standin


def _channels(admin: httpx.Client, slack: SlackStandin) -> None:
    hooked = {"name": "team", "kind": "slack", "secrets": {"webhook_url": slack.webhook_url}}
    for body in (hooked, {"name": "log", "kind": "log"}):
        assert admin.post(f"{P}/channels", json=body).status_code == 201


def _announce(server: RunningServer, kind: str, environment: str | None, **data: object) -> None:
    """What a service does in the unit of work that decided (a promotion, a rollout)."""
    services = server.services
    with services.database.transaction() as tx:
        services.notifications.announce(
            tx,
            Notification(
                kind=kind,
                project="default",
                title=f"{kind} in {environment}",
                text="what happened",
                at=tx.now(),
                release="rel-1",
                environment=environment,
                data=data,
            ),
        )


def _heard(server: RunningServer, slack: SlackStandin) -> list[str]:
    server.services.notifications.deliver_due()
    return [str(message.body["text"]).split("\n")[0] for message in slack.posts]


def _outbox(server: RunningServer, destination: str) -> int:
    with server.services.database.read() as tx:
        return sum(1 for item in tx.due_outbox(tx.now(), 1000) if item.channel == destination)


def test_a_subscription_scoped_to_production__gets_the_production_promotion_not_the_dev_one(
    server: RunningServer, admin: httpx.Client, slack: SlackStandin
) -> None:
    # Given the team channel subscribed to promotions in production only
    _channels(admin, slack)
    body = {"channel": "team", "events": ["promotion.*"], "environments": ["production"]}
    created = admin.post(f"{P}/subscriptions", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["default"] is False
    # When a release is promoted to dev, then to production
    _announce(server, "promotion.done", "dev")
    _announce(server, "promotion.done", "production")
    # Then the team hears only of production
    heard = _heard(server, slack)
    assert len(heard) == 1
    assert "promotion.done in production" in heard[0]
    assert slack.problems == []


def test_the_same_event_announced_twice__is_queued_once(
    server: RunningServer, admin: httpx.Client, slack: SlackStandin
) -> None:
    # Given a channel that hears every rollout event
    _channels(admin, slack)
    assert admin.post(f"{P}/subscriptions", json={"channel": "log", "events": ["*"]}).is_success
    log = admin.get(f"{P}/channels/log").json()["id"]
    # When one step advance is announced twice (a runner restarted mid-round), and the next
    for step in (2, 2, 3):
        _announce(server, "rollout.advance", "production", plan=7, step=step)
    # Then each step is queued once for each destination
    assert _outbox(server, f"channel:{log}") == 2
    assert _outbox(server, "log") == 2  # the server-wide log notifier too
    assert len(_heard(server, slack)) == 2  # the team's defaults hear rollouts


def test_a_channel_with_no_subscriptions__hears_the_defaults_the_process_names(
    server: RunningServer, admin: httpx.Client, slack: SlackStandin
) -> None:
    # Given channels with no subscription of their own
    _channels(admin, slack)
    listed = admin.get(f"{P}/subscriptions", params={"channel": "team"}).json()["subscriptions"]
    assert all(s["default"] and s["id"] is None for s in listed)
    assert {e for s in listed for e in s["events"]} >= {"promotion.done", "rollout.*"}
    # When everything happens once
    _announce(server, "release.created", None)
    _announce(server, "promotion.done", "staging")
    _announce(server, "promotion.done", "production")
    _announce(server, "rollout.advance", "production", plan=7, step=2)
    _announce(server, "release.rolled-back", None)
    # Then the team hears production promotions, rollout decisions and rollbacks
    assert _heard(server, slack) == [
        "promotion.done in production",
        "rollout.advance in production",
        "release.rolled-back in None",
    ]


def test_subscribe__an_unknown_event_or_environment__is_a_422_naming_it(
    admin: httpx.Client, slack: SlackStandin
) -> None:
    _channels(admin, slack)
    for body, field in (
        ({"channel": "team", "events": ["promotion.finished"]}, "events"),
        ({"channel": "team", "events": ["*"], "environments": ["prod"]}, "environments"),
        ({"channel": "team", "events": ["*"], "min_severity": "loud"}, "min_severity"),
    ):
        refused = admin.post(f"{P}/subscriptions", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    assert (
        admin.post(f"{P}/subscriptions", json={"channel": "nope", "events": ["*"]}).status_code
        == 404
    )
    listed = admin.get(f"{P}/subscriptions").json()["subscriptions"]
    assert all(s["default"] for s in listed)  # nothing was stored


def test_unsubscribe__the_last_one__gives_the_channel_its_defaults_again(
    admin: httpx.Client, slack: SlackStandin
) -> None:
    _channels(admin, slack)
    added = admin.post(f"{P}/subscriptions", json={"channel": "team", "events": ["drill.done"]})
    number = added.json()["id"]
    removed = admin.delete(f"{P}/subscriptions/{number}")
    assert removed.status_code == 200, removed.text
    assert admin.delete(f"{P}/subscriptions/{number}").status_code == 404
    listed = admin.get(f"{P}/subscriptions", params={"channel": "team"}).json()["subscriptions"]
    assert listed
    assert all(s["default"] for s in listed)
