"""An SDK key that stops working ends its open streams at once: revoked through the admin
API (on this instance, or on another instance of the same PostgreSQL database: the
revocation travels by NOTIFY), or reaching its expiry time (a timer, with no change
needed to wake it). The stream's last event says why, in the API's error shape; no
snapshot follows it, and the key's next request anywhere gets 401."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.server import RunningServer, running_server

from shipwise.sdk._sse import EventDecoder, ServerSentEvent
from shipwise.server.services.principal import SYSTEM

PROJECT, ENVIRONMENT = "default", "staging"  # not protected: a hand switch is a test step
WITHIN = 10.0  # seconds: a generous bound, used only to fail a test that would hang


class OpenStream:
    """A stream (``GET /sdk/v1/stream`` unless told) read on a thread of its own: every
    event, and whether the server has ended the stream."""

    def __init__(self, url: str, key: str, path: str = "/sdk/v1/stream") -> None:
        self.events: list[ServerSentEvent] = []
        self.status: int | None = None
        self.ended_at: datetime | None = None
        self.error: httpx.HTTPError | None = None
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url + path, key), daemon=True)
        self._thread.start()
        assert self._first.wait(WITHIN), "the stream sent nothing"

    def _read(self, url: str, key: str) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        # The read timeout outlasts WITHIN: only the server may end this stream.
        timeout = httpx.Timeout(5.0, read=WITHIN * 3)
        try:
            with httpx.stream("GET", url, headers=headers, timeout=timeout) as r:
                self.status = r.status_code
                decoder = EventDecoder()
                for line in r.iter_lines():
                    event = decoder.decode(line)
                    if event is not None:
                        self.events.append(event)
                        self._first.set()
        except httpx.HTTPError as error:  # the server shutting down under an open stream
            self.error = error
        finally:
            self.ended_at = datetime.now(UTC)
            self._first.set()

    def wait_until_ended(self) -> None:
        self._thread.join(WITHIN)
        assert not self._thread.is_alive(), f"the stream was still open after {WITHIN} s"
        assert self.error is None, "the stream broke instead of ending"

    def kinds(self) -> list[str]:
        return [e.event for e in self.events]

    def revisions(self) -> list[int]:
        return [int(e.id or 0) for e in self.events if e.event == "snapshot"]


def _eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WITHIN
    while not condition():
        assert time.monotonic() < deadline, f"not true within {WITHIN} s"
        time.sleep(0.01)


def _flag(server: RunningServer) -> None:
    server.services.flags.create(SYSTEM, PROJECT, "checkout")


def _server_key(admin: httpx.Client, expires_at: datetime | None = None) -> tuple[int, str]:
    body: dict[str, object] = {
        "name": "sdk",
        "kind": "server",
        "project": PROJECT,
        "environment": ENVIRONMENT,
    }
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    response = admin.post("/api/v1/tokens", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], created["secret"]


def _snapshot_status(url: str, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{url}/sdk/v1/snapshot", headers=headers, timeout=5).status_code


def _error(event: ServerSentEvent) -> dict[str, object]:
    error: dict[str, object] = json.loads(event.data)["error"]
    return error


def test_revoke__through_the_admin_api__ends_the_open_stream_with_a_reason_and_no_snapshot_after(
    database_url: str, tmp_path: Path
) -> None:
    # Given a stream open with a server key, holding the first snapshot
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        _flag(server)
        with server.admin() as admin:
            token_id, key = _server_key(admin)
            stream = OpenStream(server.url, key)
            assert stream.kinds() == ["snapshot"]

            # When the key is revoked, and a flag changes right after
            assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
            server.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)

            # Then the stream ends, its last event saying why, with no snapshot after it
            stream.wait_until_ended()
        assert stream.status == 200
        assert stream.kinds() == ["snapshot", "rejected"]
        error = _error(stream.events[-1])
        assert error["status"] == 401
        assert "revoked" in str(error["message"])
        # And reconnecting is refused
        assert _snapshot_status(server.url, key) == 401
        reconnect = httpx.get(
            f"{server.url}/sdk/v1/stream", headers={"Authorization": f"Bearer {key}"}, timeout=5
        )
        assert reconnect.status_code == 401
        assert "revoked" in reconnect.json()["error"]["message"]


def test_revoke__one_key__leaves_the_streams_of_other_keys_open(
    database_url: str, tmp_path: Path
) -> None:
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        _flag(server)
        with server.admin() as admin:
            revoked_id, revoked_key = _server_key(admin)
            _, kept_key = _server_key(admin)
            revoked, kept = OpenStream(server.url, revoked_key), OpenStream(server.url, kept_key)
            first = kept.revisions()[0]

            admin.delete(f"/api/v1/tokens/{revoked_id}")
            revoked.wait_until_ended()
            server.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)

            # The other key's stream still delivers the change (and has not ended)
            _eventually(lambda: kept.revisions() == [first, first + 1])
            assert kept.ended_at is None


def test_expiring_key__its_stream_ends_at_the_expiry_time_without_any_change(
    database_url: str, tmp_path: Path
) -> None:
    # Given a stream open with a key that expires in about a second, and no change coming
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        _flag(server)
        with server.admin() as admin:
            expires_at = datetime.now(UTC) + timedelta(seconds=1.5)
            _, key = _server_key(admin, expires_at)
            stream = OpenStream(server.url, key)

            # When its expiry time passes, the stream ends, saying why
            stream.wait_until_ended()
        assert stream.kinds() == ["snapshot", "rejected"]
        error = _error(stream.events[-1])
        assert error["status"] == 401
        assert "expired" in str(error["message"])
        # And not before its time (the timer runs on the monotonic clock: allow for the
        # two clocks drifting apart by a few milliseconds)
        assert stream.ended_at is not None
        assert stream.ended_at >= expires_at - timedelta(milliseconds=50)


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_unleash_streaming_api__key_revoked_or_expired__ends_the_stream(
    database_url: str, tmp_path: Path, how: str
) -> None:
    # Given an Unleash SDK's stream (``/api/client/streaming``) open with a server key
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        _flag(server)
        with server.admin() as admin:
            expires_at = datetime.now(UTC) + timedelta(seconds=1.5) if how == "expired" else None
            token_id, key = _server_key(admin, expires_at)
            stream = OpenStream(server.url, key, "/api/client/streaming")
            assert stream.kinds() == ["unleash-connected"]

            # When the key is revoked (or its expiry time passes), then a flag changes
            if how == "revoked":
                assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
                server.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)

            # Then the stream ends with no update after it, and reconnecting is refused
            stream.wait_until_ended()
        assert stream.kinds() == ["unleash-connected"]
        reconnect = httpx.get(
            f"{server.url}/api/client/streaming",
            headers={"Authorization": key},
            timeout=5,
        )
        assert reconnect.status_code == 401


def test_revoke_on_instance_a__ends_the_stream_on_instance_b__and_b_refuses_the_key_next(
    postgres_url: str, tmp_path: Path
) -> None:
    # Given two instances on one database, a stream open on B, and the key in B's cache
    with (
        running_server(database_url=postgres_url, data_dir=tmp_path / "a") as a,
        running_server(database_url=postgres_url, data_dir=tmp_path / "b") as b,
    ):
        _flag(a)
        with a.admin() as admin:
            token_id, key = _server_key(admin)
            assert _snapshot_status(b.url, key) == 200  # now cached on B for CACHE_SECONDS
            stream = OpenStream(b.url, key)

            # When the key is revoked through A, and a flag changes right after
            assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
            # (A, the origin, refuses it at once)
            assert _snapshot_status(a.url, key) == 401
            a.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)

            # Then B's stream ends, saying why, with no snapshot after the revocation
            stream.wait_until_ended()
        assert stream.kinds() == ["snapshot", "rejected"]
        assert "revoked" in str(_error(stream.events[-1])["message"])
        # And B, which forgot the key before it closed the stream, refuses the next request
        assert _snapshot_status(b.url, key) == 401
