"""A real server whose database cannot serve: the data directory on a real 2 MB
filesystem that fills up, a SQLite lock held by another process, PostgreSQL that stops
answering. Every route (admin, SDK, webhook) answers a JSON 503 in the API's error
shape that names the problem and what to do, with Retry-After, on a connection that
stays usable; ``/health`` says the same; nothing is half-applied; and once the cause is
gone, writes work again and ``shipwise audit verify`` finds the chain intact.

The full disk is a tmpfs mounted for the test (CI runs as root, as this needs): the
evidence is SQLite meeting ENOSPC on a real file system, not a simulation of it.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from tests.integration.api.helpers import FLAGS, issue, newest_audit_id
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import running_server
from tests.support.tcp_proxy import TcpProxy

from shipwise.domain.github import sign

BIG = "x" * 3_900  # near the limit: a flag whose write needs new pages, so the WAL grows
SECRET = "whsec-for-tests-only"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB file system (tmpfs) for the data directory."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(
            f"mounting a 2 MB tmpfs failed ({mounted.stderr.strip()}): this test needs "
            "root, as CI has",
            pytrace=False,
        )
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(disk: Path) -> Path:
    """Fill the file system to its last block; returns the file to delete to free it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(b"\0" * 4096)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                return filler


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def assert_unavailable(response: httpx.Response, problem: str, retry_after: int) -> str:
    """A JSON 503 in the API's error shape naming ``problem``; returns its message."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == str(retry_after)
    error = response.json()["error"]
    assert (error["status"], error["problem"], error["field"]) == (503, problem, None)
    assert error["message"].startswith(f"storage unavailable ({problem}): ")
    return str(error["message"])


def verify_audit(home: Path, *location: str) -> None:
    result = Shipwise(home)("audit", "verify", *location)
    assert result.exit_code == 0, result.output
    assert "The audit chain is intact" in result.stdout


def test_routes__when_the_data_directory_disk_is_full__answer_json_503_and_recover(
    small_disk: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{small_disk / 'shipwise.db'}"
    with running_server(database_url=url, data_dir=small_disk) as server, server.admin() as admin:
        # Given a server with a few flags and an SDK key, whose disk then fills up
        for n in range(3):
            assert admin.post(FLAGS, json={"key": f"f{n}"}).status_code == 201
        sdk_key = issue(admin, kind="server", project="default", environment="staging")
        flags_before, audit_before = len(admin.get(FLAGS).json()["flags"]), newest_audit_id(admin)
        filler = fill(small_disk)

        # When admin and SDK writes arrive, several on one kept-alive connection
        answers = [
            admin.post(FLAGS, json={"key": f"full{n}", "description": BIG}) for n in range(3)
        ]
        answers.append(admin.post(f"{FLAGS}/f0/environments/staging/enable"))
        answers.append(
            httpx.post(
                f"{server.url}/sdk/v1/metrics",
                json={"appName": "web", "flags": {"f0": {"yes": 3, "no": 1}}},
                headers={"Authorization": f"Bearer {sdk_key}"},
                timeout=10,
            )
        )

        # Then each is a JSON 503 saying the disk is full and to free space
        for answer in answers:
            message = assert_unavailable(answer, "disk full", 60)
            assert "free space" in message
        # And reads still work, nothing was half-applied, /health says degraded (200:
        # SDK routes still serve)
        assert len(admin.get(FLAGS).json()["flags"]) == flags_before
        assert newest_audit_id(admin) == audit_before
        health = admin.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["storage"]["ok"] is False
        assert health.json()["storage"]["problem"] == "disk full"

        # When space is freed
        filler.unlink()

        # Then writes work again and /health is ok
        assert admin.post(FLAGS, json={"key": "after", "description": BIG}).status_code == 201
        assert admin.post(f"{FLAGS}/f0/environments/staging/enable").status_code == 200
        assert admin.get("/health").json()["status"] == "ok"
        assert len(admin.get(FLAGS).json()["flags"]) == flags_before + 1
    # And the audit chain, read from the database itself, is intact
    verify_audit(tmp_path, "--data-dir", str(small_disk))


def test_runner__when_the_disk_is_full__logs_once_and_carries_on_when_space_returns(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shipwise.server.worker")
    url = f"sqlite:///{small_disk / 'shipwise.db'}"
    with running_server(database_url=url, data_dir=small_disk) as server:
        # Given the rollout runner running every 50 ms and holding its lease
        loop = server.services.start_runner(interval=0.05)
        wait_for(lambda: loop.holding, "the runner took its lease")

        # When the disk fills up (renewing the lease is a write)
        filler = fill(small_disk)
        wait_for(lambda: loop.storage_problem is not None, "the runner met the full disk")
        time.sleep(0.5)  # about ten more rounds, all failing

        # Then the loop keeps running and said once why it paused
        paused = [r.getMessage() for r in caplog.records if "runner paused" in r.getMessage()]
        assert len(paused) == 1
        assert "storage unavailable (disk full)" in paused[0]
        assert str(loop.storage_problem) == "disk full"

        # And once space returns, it carries on and holds the lease again
        filler.unlink()
        wait_for(lambda: loop.storage_problem is None and loop.holding, "the runner resumed")
        assert sum("runner carries on" in r.getMessage() for r in caplog.records) == 1


def test_writes__when_another_process_holds_the_sqlite_lock__answer_json_503_locked(
    tmp_path: Path,
) -> None:
    database = tmp_path / "shipwise.db"
    with (
        running_server(
            database_url=f"sqlite:///{database}", data_dir=tmp_path, database_busy_timeout=0.3
        ) as server,
        server.admin() as admin,
    ):
        audit_before = newest_audit_id(admin)
        # Given another process holding SQLite's write lock (a backup, a sqlite3 shell)
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            # When a write waits out the server's busy timeout
            answer = admin.post(FLAGS, json={"key": "blocked"})
            # Then it is a JSON 503 naming the lock and what to look for
            assert "sqlite3 shell" in assert_unavailable(answer, "database locked", 5)
            # And /health, whose reads still work, says degraded for the same reason
            health = admin.get("/health")
            assert (health.status_code, health.json()["status"]) == (200, "degraded")
            assert health.json()["storage"]["problem"] == "database locked"
        finally:
            holder.rollback()
            holder.close()
        # When the lock is released, the same write goes through and /health is ok
        assert admin.post(FLAGS, json={"key": "blocked"}).status_code == 201
        assert admin.get("/health").json()["storage"] == {
            "ok": True,
            "problem": None,
            "advice": None,
        }
        assert newest_audit_id(admin) == audit_before + 1
    verify_audit(tmp_path, "--data-dir", str(tmp_path))


def test_routes__when_postgresql_stops_answering__answer_json_503_and_health_503(
    postgres_url: str, tmp_path: Path
) -> None:
    # Given a server whose PostgreSQL link can be cut (a restart or a network failure)
    direct = make_url(postgres_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
    through = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    try:
        with (
            running_server(
                database_url=through, data_dir=tmp_path, github_webhook_secret=SECRET
            ) as server,
            server.admin() as admin,
        ):
            assert admin.post(FLAGS, json={"key": "kept"}).status_code == 201
            sdk_key = issue(
                admin, kind="server", project="default", environment="staging"
            )  # not used yet
            sdk = {"Authorization": f"Bearer {sdk_key}"}
            proxy.cut()

            # When admin, SDK (Unleash API, snapshot stream) and webhook requests arrive
            ping = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
            answers = [
                admin.post(FLAGS, json={"key": "lost"}),
                admin.get(FLAGS),
                httpx.get(f"{server.url}/api/client/features", headers=sdk, timeout=10),
                httpx.get(f"{server.url}/sdk/v1/stream", headers=sdk, timeout=10),
                httpx.post(
                    f"{server.url}/webhooks/github/default",
                    content=ping,
                    headers={
                        "X-GitHub-Event": "ping",
                        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(SECRET.encode(), ping),
                    },
                    timeout=10,
                ),
            ]

            # Then each is a JSON 503: the database does not answer, check it runs
            for answer in answers:
                message = assert_unavailable(answer, "database unreachable", 5)
                assert "SHIPWISE_DATABASE_URL" in message
            # And /health answers 503 so a load balancer looks elsewhere
            health = admin.get("/health")
            assert (health.status_code, health.json()["status"]) == (503, "unavailable")
            assert health.json()["storage"]["problem"] == "database unreachable"

            # When PostgreSQL answers again, so does the server
            proxy.restore()
            assert admin.post(FLAGS, json={"key": "after"}).status_code == 201
            keys = sorted(f["key"] for f in admin.get(FLAGS).json()["flags"])
            assert keys == ["after", "kept"]
            assert httpx.get(f"{server.url}/api/client/features", headers=sdk).status_code == 200
            assert admin.get("/health").status_code == 200
    finally:
        proxy.cut()
    verify_audit(tmp_path, "--database-url", postgres_url)
