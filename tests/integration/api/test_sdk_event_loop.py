"""The public SDK routes never do database work on the event loop: while one request
waits on a real PostgreSQL lock (a second connection holding ``LOCK TABLE``), the same
server still answers ``/health`` at once.

PostgreSQL only: SQLite in WAL mode never makes a reader wait for another connection's
lock, so there the reads these routes make cannot be held. The waits below are hang
guards, not latency bounds: the held request is seen waiting in ``pg_stat_activity``
before ``/health`` is asked, and ``/health`` fails only if it gets no answer at all while
the lock is held.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from tests.integration.api.helpers import create_flag, issue
from tests.support.server import RunningServer, running_server

HANG = 30.0  # seconds: only a server that stopped answering takes this long
# Python's default executor has min(32, cores + 4) threads (six on two cores); the server
# must keep threads free when more SDK writes than that wait (two more, at most 24 with
# the database's 30 connections in mind).
DEFAULT_THREADS = min(32, (os.cpu_count() or 1) + 4)
HELD_WRITES = min(24, DEFAULT_THREADS + 2)


class Held(NamedTuple):
    method: str
    path: str
    key_kind: str
    table: str  # the table the route's database work reads or writes
    body: dict[str, Any] | None = None


METRICS = {"appName": "web", "bucket": {"toggles": {"checkout": {"yes": 1, "no": 2}}}}
HELD = {
    "ofrep-flag": Held("POST", "/ofrep/v1/evaluate/flags/checkout", "server", "flags", {}),
    "ofrep-flags": Held("POST", "/ofrep/v1/evaluate/flags", "server", "flags", {}),
    "sdk-snapshot": Held("GET", "/sdk/v1/snapshot", "server", "flags"),
    "unleash-features": Held("GET", "/api/client/features", "server", "flags"),
    "frontend": Held("GET", "/api/frontend", "frontend", "flags"),
    "sdk-metrics": Held(
        "POST",
        "/sdk/v1/metrics",
        "server",
        "exposures",
        {"flags": {"checkout": {"yes": 1, "no": 0}}},
    ),
    "unleash-metrics": Held("POST", "/api/client/metrics", "server", "exposures", METRICS),
    "frontend-metrics": Held(
        "POST", "/api/frontend/client/metrics", "frontend", "exposures", METRICS
    ),
}


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    # A lock wait far longer than the test: the held request waits until it is released.
    with running_server(
        database_url=postgres_url, data_dir=tmp_path, database_busy_timeout=600
    ) as running:
        yield running


def _dsn(postgres_url: str) -> str:
    return make_url(postgres_url).set(drivername="postgresql").render_as_string(False)


def _wait_until_blocked(monitor: psycopg.Connection[Any], requests: int = 1) -> None:
    """Until ``requests`` connections of this database wait for a lock (held requests)."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        (waiting,) = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()  # type: ignore[misc]
        if waiting >= requests:
            return
        time.sleep(0.02)
    raise AssertionError(f"{requests} requests never reached the lock within {HANG:g} s")


@pytest.mark.parametrize("held", HELD.values(), ids=HELD.keys())
def test_sdk_route__while_its_database_work_waits_on_a_lock__health_still_answers(
    server: RunningServer, postgres_url: str, held: Held
) -> None:
    # Given an SDK key and a flag, with no snapshot built yet (the first SDK request
    # builds it: a cache miss)
    with server.admin() as admin:
        create_flag(admin, "checkout")
        key = issue(admin, kind=held.key_kind, project="default", environment="staging")
    headers = {"Authorization": key}
    with (
        psycopg.connect(_dsn(postgres_url)) as holder,
        psycopg.connect(_dsn(postgres_url), autocommit=True) as monitor,
        ThreadPoolExecutor(1) as pool,
    ):
        # And a second connection holding a lock on the table the route needs
        holder.execute(f"LOCK TABLE {held.table} IN ACCESS EXCLUSIVE MODE")
        try:
            # When the SDK request is held by that lock
            pending = pool.submit(
                httpx.request,
                held.method,
                server.url + held.path,
                headers=headers,
                json=held.body,
                timeout=HANG * 4,
            )
            _wait_until_blocked(monitor)
            # Then the same server still answers /health
            health = httpx.get(f"{server.url}/health", timeout=HANG)
            assert health.status_code == 200, health.text
            assert not pending.done()  # the SDK request is still held
        finally:
            holder.rollback()
        # And once the lock is released, the held request completes
        answer = pending.result(timeout=HANG)
        assert answer.status_code in {200, 202}, answer.text


def test_many_sdk_writes_held_by_a_lock__leave_threads_for_a_new_keys_first_request(
    server: RunningServer, postgres_url: str
) -> None:
    # Given a flag, a server key that has been used once (its check is cached), and a
    # second key never seen yet (its first request checks it in a worker thread)
    held = HELD["sdk-metrics"]
    with server.admin() as admin:
        create_flag(admin, "checkout")
        used = issue(admin, kind="server", project="default", environment="staging", name="a")
        fresh = issue(admin, kind="server", project="default", environment="staging", name="b")
    used, fresh = {"Authorization": used}, {"Authorization": fresh}
    assert httpx.get(f"{server.url}/sdk/v1/snapshot", headers=used, timeout=HANG).is_success
    with (
        psycopg.connect(_dsn(postgres_url)) as holder,
        psycopg.connect(_dsn(postgres_url), autocommit=True) as monitor,
        ThreadPoolExecutor(HELD_WRITES) as pool,
    ):
        # And more SDK metrics writes held by a lock than Python's default executor has
        # threads
        holder.execute(f"LOCK TABLE {held.table} IN ACCESS EXCLUSIVE MODE")
        try:
            pending = [
                pool.submit(
                    httpx.post,
                    server.url + held.path,
                    headers=used,
                    json=held.body,
                    timeout=HANG * 4,
                )
                for _ in range(HELD_WRITES)
            ]
            _wait_until_blocked(monitor, min(DEFAULT_THREADS, HELD_WRITES))
            # When the new key makes its first request, then it is answered while the
            # writes still wait (a pool the writes filled would hold it until they end)
            first = httpx.get(f"{server.url}/sdk/v1/snapshot", headers=fresh, timeout=HANG)
            assert first.status_code == 200, first.text
            assert not any(p.done() for p in pending)
        finally:
            holder.rollback()
        assert all(p.result(timeout=HANG).status_code == 202 for p in pending)
