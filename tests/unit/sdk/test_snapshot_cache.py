"""The disk cache of the last snapshot: written atomically, read back exactly, and a
file that is not a usable snapshot is ignored with a warning, never raised."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

import pytest

from shipwise import Client
from shipwise.sdk._cache import SnapshotCache


def _document(enabled: bool = True, revision: str = "7") -> bytes:
    document = {
        "format": "shipwise-snapshot",
        "version": 1,
        "revision": revision,
        "flags": [{"key": "checkout", "enabled": enabled}],
    }
    return json.dumps(document).encode()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_save_then_load__gives_the_snapshot_and_the_exact_bytes(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path / "flags.json")
    assert cache.save(_document()) is True
    loaded = cache.load()
    assert loaded is not None
    snapshot, document = loaded
    assert document == _document()
    assert snapshot.state.revision == "7"
    assert snapshot.is_enabled("checkout") is True


def test_save__missing_directories__are_created(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path / "a" / "b" / "flags.json")
    assert cache.save(_document()) is True
    assert (tmp_path / "a" / "b" / "flags.json").read_bytes() == _document()


def test_save__over_an_older_snapshot__replaces_it_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags.json"
    cache = SnapshotCache(path)
    cache.save(_document(enabled=False, revision="1"))
    cache.save(_document(enabled=True, revision="2"))
    assert path.read_bytes() == _document(enabled=True, revision="2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flags.json"]


def test_save__replaces_the_file_atomically__readers_never_see_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cache holding revision 1, and a write that dies before its final rename
    path = tmp_path / "flags.json"
    cache = SnapshotCache(path)
    cache.save(_document(revision="1"))

    def crash(source: str, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    # When revision 2 is written
    assert cache.save(_document(revision="2")) is False
    # Then the file still holds revision 1, whole, and the temporary file is gone
    assert path.read_bytes() == _document(revision="1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flags.json"]


def test_save__unwritable_place__logs_a_warning_once_and_does_not_raise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the directory should be")
    cache = SnapshotCache(blocker / "flags.json")
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        assert cache.save(_document()) is False
        assert cache.save(_document()) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot write the snapshot cache" in warnings[0].getMessage()


def test_load__no_file__is_none_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        assert SnapshotCache(tmp_path / "flags.json").load() is None
    assert caplog.records == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(_document()[:-15], id="truncated JSON"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe\x00garbage", id="not text"),
        pytest.param(b'{"format": "something-else", "version": 1}', id="another format"),
        pytest.param(_document().replace(b'"version": 1', b'"version": 99'), id="newer version"),
        pytest.param(b"[1, 2, 3]", id="a JSON list"),
    ],
)
def test_load__corrupt_file__is_ignored_with_a_warning_naming_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        assert SnapshotCache(path).load() is None
    assert len(caplog.records) == 1
    assert str(path) in caplog.records[0].getMessage()


def test_cache_file__is_a_snapshot_that_client_offline_reads(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    SnapshotCache(path).save(_document())
    assert Client.offline(path).is_enabled("checkout") is True


def test_client__corrupt_cache_and_no_server__starts_without_flags_and_does_not_raise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(b'{"format": "shipwise-snapshot", "version": 1, "flags": [{"key": ')
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        client = Client(_closed_port_url(), "sw_srv_test", cache_path=path, metrics_interval=None)
    try:
        assert client.wait_until_ready(0) is False
        assert client.is_enabled("checkout", default=True) is True  # the default
        assert any("not a usable snapshot" in r.getMessage() for r in caplog.records)
    finally:
        client.close()


def test_client__good_cache_and_no_server__evaluates_the_cache_at_once(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    SnapshotCache(path).save(_document(enabled=True))
    started = time.monotonic()
    client = Client(_closed_port_url(), "sw_srv_test", cache_path=path, metrics_interval=None)
    try:
        assert client.wait_until_ready(0) is True
        assert client.is_enabled("checkout") is True
        assert time.monotonic() - started < 1.0
    finally:
        client.close()
