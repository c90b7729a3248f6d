"""``Client(url, sdk_key)`` whose key stops working (revoked through the admin API, or
expired) against a real server: it reports the key refused (``key_rejection`` and one
error in the log), stops syncing instead of reconnecting forever, and keeps evaluating
the last snapshot it had. Streaming and polling end alike."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.server import RunningServer, running_server

from shipwise import Client
from shipwise.server.services.principal import SYSTEM

PROJECT, ENVIRONMENT = "default", "staging"  # not protected: a hand switch is a test step
WITHIN = 10.0  # seconds: a generous bound, used only to fail a test that would hang


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path) as running:
        running.services.flags.create(SYSTEM, PROJECT, "checkout")
        running.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)
        yield running


def _server_key(server: RunningServer, expires_at: datetime | None = None) -> tuple[int, str]:
    body: dict[str, object] = {
        "name": "sdk",
        "kind": "server",
        "project": PROJECT,
        "environment": ENVIRONMENT,
    }
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    with server.admin() as admin:
        created = admin.post("/api/v1/tokens", json=body).json()
    return created["id"], created["secret"]


def _revoke(server: RunningServer, token_id: int) -> None:
    with server.admin() as admin:
        assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200


def _eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WITHIN
    while not condition():
        assert time.monotonic() < deadline, f"not true within {WITHIN} s"
        time.sleep(0.01)


def _assert_stopped_syncing(client: Client) -> None:
    """The sync thread has ended by itself: no stream, no poll will follow."""
    assert client._online is not None
    thread = client._online._sync._thread  # the one place the SDK syncs from
    thread.join(WITHIN)
    assert not thread.is_alive(), "the client still syncs with a refused key"


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and "refused the SDK key" in r.getMessage()
    ]


def _still_evaluates_the_last_snapshot(server: RunningServer, client: Client) -> None:
    server.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, False)
    assert client.is_enabled("checkout") is True
    assert client.get_variant("checkout").feature_enabled is True


def test_key_revoked_while_streaming__client_reports_it_refused_and_stops_syncing(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a streaming client that would also poll every 50 ms if the stream failed
    token_id, key = _server_key(server)
    with (
        caplog.at_level(logging.DEBUG, logger="shipwise.sdk"),
        Client(server.url, key, refresh_interval=0.05, metrics_interval=None) as client,
    ):
        assert client.wait_until_ready(WITHIN)
        assert client.key_rejection is None

        # When its key is revoked through the admin API
        _revoke(server, token_id)

        # Then the client says so, once, and syncs no more
        _eventually(lambda: client.key_rejection is not None)
        assert "(401)" in str(client.key_rejection)
        assert "revoked" in str(client.key_rejection)
        _assert_stopped_syncing(client)
        (refusal,) = _refusals(caplog)
        assert key[:12] in refusal.getMessage()
        # And it keeps evaluating the snapshot it had
        _still_evaluates_the_last_snapshot(server, client)
    health = httpx.get(f"{server.url}/health", timeout=5).json()
    assert health["streams"] == 0


def test_key_expiring_while_streaming__client_reports_it_refused_at_expiry(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    _, key = _server_key(server, datetime.now(UTC) + timedelta(seconds=1.5))
    with (
        caplog.at_level(logging.WARNING, logger="shipwise.sdk"),
        Client(server.url, key, refresh_interval=3600, metrics_interval=None) as client,
    ):
        assert client.wait_until_ready(WITHIN)
        _eventually(lambda: client.key_rejection is not None)
        assert "expired" in str(client.key_rejection)
        _assert_stopped_syncing(client)
        assert len(_refusals(caplog)) == 1
        _still_evaluates_the_last_snapshot(server, client)


def test_key_revoked_while_polling__client_reports_it_refused_and_stops_polling(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    token_id, key = _server_key(server)
    with (
        caplog.at_level(logging.WARNING, logger="shipwise.sdk"),
        Client(
            server.url, key, stream=False, refresh_interval=0.05, metrics_interval=None
        ) as client,
    ):
        assert client.wait_until_ready(WITHIN)
        _revoke(server, token_id)
        _eventually(lambda: client.key_rejection is not None)
        assert "revoked" in str(client.key_rejection)
        _assert_stopped_syncing(client)
        assert len(_refusals(caplog)) == 1
        _still_evaluates_the_last_snapshot(server, client)
