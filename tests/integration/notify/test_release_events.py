"""The release services' events through a real server, on SQLite and PostgreSQL: a log
channel subscribed to every event hears a release created and its promotion refused,
once however often the promotion is retried, each linking to the release's page under
the server's own address (no ``SHIPWISE_PUBLIC_URL`` set)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.server import RunningServer, running_server

from shipwise.server.services.fix_sweep import FixSweep
from shipwise.server.services.release_news import Links, ReleaseNews
from shipwise.server.services.release_policy import ReleasePolicy

P = "/api/v1/projects/default"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path) as running:
        yield running


def test_release_events__reach_a_log_channel_once_with_a_link_to_the_release_page(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with server.admin() as admin:
        assert admin.post(f"{P}/channels", json={"name": "ops", "kind": "log"}).status_code == 201
        subscribed = admin.post(f"{P}/subscriptions", json={"channel": "ops", "events": ["*"]})
        assert subscribed.is_success
        created = admin.post(f"{P}/releases", json={"title": "New checkout", "kind": "feature"})
        assert created.status_code == 201
        key = created.json()["key"]
        for _ in range(2):  # no CI result, no approval: refused, and retried
            assert admin.post(f"{P}/releases/{key}/promote", json={}).status_code == 409

        with caplog.at_level(logging.INFO, logger="shipwise.notify"):
            server.services.notifications.deliver_due()

        deliveries = admin.get(f"{P}/deliveries").json()["deliveries"]
    told = sorted((d["channel"], d["event"], d["state"]) for d in deliveries)
    assert told == [
        ("ops", "promotion.refused", "delivered"),
        ("ops", "release.created", "delivered"),
    ]
    page = f"{server.url}/projects/default/releases/{key}"
    logged = [r.notification for r in caplog.records if hasattr(r, "notification")]
    # The server-wide log notifier and the channel: each event twice, no more.
    assert sorted(n["kind"] for n in logged) == [
        "promotion.refused",
        "promotion.refused",
        "release.created",
        "release.created",
    ]
    for notification in logged:
        assert notification["data"]["url"] == page
        assert notification["text"].endswith(f"Open {key}: {page}")
    refused = next(n for n in logged if n["kind"] == "promotion.refused")
    assert "\n- ci: " in refused["text"]
    assert "\n- approvals: " in refused["text"]


def _due_kinds(server: RunningServer) -> list[str]:
    """The kinds still waiting in the outbox for the server-wide log notifier."""
    with server.services.database.read() as tx:
        due = tx.due_outbox(tx.now() + timedelta(days=365), 1000)
    return [item.notification.kind for item in due if item.channel == "log"]


def test_runner_loop__tells_an_overdue_critical_fix__and_a_restarted_sweep_not_again(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A critical fix is due at once (overdue from the moment it exists): the runner's
    loop runs the sweep and the delivery loop sends it; a sweep after a restart (nothing
    remembered in memory) finds the event's key taken in the database and queues
    nothing."""
    with server.admin() as admin:
        body = {"title": "Fix totals", "kind": "bugfix", "severity": "critical"}
        assert admin.post(f"{P}/releases", json=body).status_code == 201

    def told() -> list[str]:
        return [r.notification["kind"] for r in caplog.records if hasattr(r, "notification")]

    with caplog.at_level(logging.INFO, logger="shipwise.notify"):
        server.services.start_runner(interval=0.05)
        deadline = time.monotonic() + 20  # a hang guard, not a latency bound
        while "fix.overdue" not in told() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.services.delivery_loop is not None
        server.services.delivery_loop.stop()  # from here, what is queued stays queued
        news = ReleaseNews(server.services.notifications, Links(server.url))
        restarted = FixSweep(server.services.database, ReleasePolicy(), news)

        assert restarted.sweep() == 1  # found due again, as a restarted process would

    assert told().count("fix.overdue") == 1
    assert "fix.overdue" not in _due_kinds(server)  # and not queued a second time
