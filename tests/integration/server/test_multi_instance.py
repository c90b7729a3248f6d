"""Several server instances on one PostgreSQL: a change made through one instance
reaches the SDK streams held by the other (PostgreSQL LISTEN/NOTIFY, nothing home-made
in between)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from tests.support.server import running_server

from shipwise.server.services.principal import SYSTEM


def _stream_revisions(
    url: str, key: str, wanted: int, out: list[int], opened: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("GET", f"{url}/sdk/v1/stream", headers=headers, timeout=20) as response:
        opened.set()
        for line in response.iter_lines():
            if line.startswith("id:"):
                out.append(int(line.removeprefix("id:").strip()))
                if len(out) >= wanted:
                    return


def _listening(url: str, key: str) -> tuple[list[int], threading.Thread]:
    """A stream open on ``url`` that has received its first snapshot; collects the
    revisions of it and the next one."""
    revisions: list[int] = []
    opened = threading.Event()
    listener = threading.Thread(
        target=_stream_revisions, args=(url, key, 2, revisions, opened), daemon=True
    )
    listener.start()
    assert opened.wait(10)
    deadline = time.monotonic() + 10
    while not revisions and time.monotonic() < deadline:
        time.sleep(0.01)
    assert revisions, "no snapshot arrived on the stream"
    return revisions, listener


def test_change_on_instance_a__reaches_the_stream_on_instance_b(
    postgres_url: str, tmp_path: Path
) -> None:
    # Given two instances on one PostgreSQL database and a stream open on the second
    with (
        running_server(database_url=postgres_url, data_dir=tmp_path / "a") as a,
        running_server(database_url=postgres_url, data_dir=tmp_path / "b") as b,
    ):
        a.services.flags.create(SYSTEM, "default", "checkout")
        key = a.services.tokens.create(
            SYSTEM, name="sdk", kind="server", project_key="default", environment_key="staging"
        ).secret
        revisions, listener = _listening(b.url, key)
        first = revisions[0]

        # When the flag is switched on through the first instance (in staging: production
        # is protected, and this is about the stream, not the process)
        a.services.flags.set_enabled(SYSTEM, "default", "checkout", "staging", True)

        # Then the second instance's stream delivers the new revision
        listener.join(timeout=10)
        assert revisions[1:] == [first + 1]
        snapshot = httpx.get(
            f"{b.url}/sdk/v1/snapshot", headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert snapshot["revision"] == str(first + 1)
        assert snapshot["flags"][0]["enabled"] is True


def test_change_on_sqlite__reaches_the_same_instances_stream(tmp_path: Path) -> None:
    with running_server(data_dir=tmp_path) as server:
        server.services.flags.create(SYSTEM, "default", "checkout")
        key = server.services.tokens.create(
            SYSTEM, name="sdk", kind="server", project_key="default", environment_key="production"
        ).secret
        revisions, listener = _listening(server.url, key)
        server.services.flags.kill(SYSTEM, "default", "checkout", "production", "test")
        listener.join(timeout=10)
        assert len(revisions) == 2
        assert revisions[1] == revisions[0] + 1
