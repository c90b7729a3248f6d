"""``Client(url, sdk_key)`` against a real Shipwise server: it starts from the server,
follows changes through the stream (or ETag polling), restarts from its disk cache when
the server is gone, sends exposure counts in batches that ``close`` flushes, and never
makes an evaluation wait on the network."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.support.server import RunningServer, running_server

from shipwise import Client
from shipwise.server.services.principal import SYSTEM

PROJECT, ENVIRONMENT = "default", "staging"  # not protected: a hand switch is a test step
STREAM = "/sdk/v1/stream"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path / "server") as running:
        yield running


def _server_key(server: RunningServer) -> str:
    return server.services.tokens.create(
        SYSTEM, name="sdk", kind="server", project_key=PROJECT, environment_key=ENVIRONMENT
    ).secret


def _flag(server: RunningServer, key: str, enabled: bool) -> None:
    server.services.flags.create(SYSTEM, PROJECT, key)
    if enabled:
        server.services.flags.set_enabled(SYSTEM, PROJECT, key, ENVIRONMENT, True)


def _environment_id(server: RunningServer) -> int:
    return server.services.projects.environment(SYSTEM, PROJECT, ENVIRONMENT).id


def _eventually(condition: Callable[[], bool], within: float) -> float:
    """Seconds until ``condition`` held; fails the test after ``within`` seconds."""
    started = time.monotonic()
    while not condition():
        waited = time.monotonic() - started
        assert waited < within, f"not true within {within} s"
        time.sleep(0.002)
    return time.monotonic() - started


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung server, the worst case
    for a client that must not wait. Closing it resets the connections it held."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


# -- starting and following -------------------------------------------------------------


def test_client__starts_from_the_server(server: RunningServer) -> None:
    _flag(server, "checkout", enabled=True)
    _flag(server, "search", enabled=False)
    with Client(server.url, _server_key(server), metrics_interval=None) as client:
        assert client.wait_until_ready(5) is True
        assert client.is_enabled("checkout") is True
        assert client.is_enabled("search") is False
        assert client.snapshot.state.environment == ENVIRONMENT


def test_change_through_the_services__reaches_the_client_through_the_stream_within_a_second(
    server: RunningServer,
) -> None:
    # Given a streaming client that would not poll for an hour
    _flag(server, "checkout", enabled=False)
    with Client(server.url, _server_key(server), refresh_interval=3600) as client:
        assert client.wait_until_ready(5)
        assert client.is_enabled("checkout") is False
        # When the flag is switched on through the services
        server.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)
        # Then the client sees it within a second
        _eventually(lambda: client.is_enabled("checkout"), within=1.0)
        # And a kill travels the same way
        server.services.flags.kill(SYSTEM, PROJECT, "checkout", ENVIRONMENT, "test")
        _eventually(lambda: not client.is_enabled("checkout"), within=1.0)


def test_polling_without_stream__revalidates_with_the_etag_and_picks_up_changes(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a client that only polls, every 50 ms
    _flag(server, "checkout", enabled=False)
    key = _server_key(server)
    with (
        caplog.at_level(logging.DEBUG, logger="shipwise.sdk"),
        Client(server.url, key, stream=False, refresh_interval=0.05) as client,
    ):
        assert client.wait_until_ready(5)
        first = client.snapshot
        etag = httpx.get(
            f"{server.url}/sdk/v1/snapshot", headers={"Authorization": f"Bearer {key}"}
        ).headers["etag"]

        # When nothing changes, the server answers its polls with 304 for that ETag
        def saw_not_modified() -> bool:
            return any(
                "304" in r.getMessage() and etag in r.getMessage() for r in list(caplog.records)
            )

        _eventually(saw_not_modified, within=5.0)
        assert client.snapshot is first  # no body came, so nothing was parsed again

        # When the flag changes, the next poll brings it
        server.services.flags.set_enabled(SYSTEM, PROJECT, "checkout", ENVIRONMENT, True)
        _eventually(lambda: client.is_enabled("checkout"), within=1.0)
    assert not any(STREAM in r.getMessage() for r in caplog.records)


def test_wrong_key__never_raises__logs_the_refusal_and_is_not_ready(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="shipwise.sdk"),
        Client(server.url, "sw_srv_not-a-key", metrics_interval=None) as client,
    ):
        assert client.wait_until_ready(0.5) is False
        assert client.is_enabled("checkout", default=True) is True
    assert any("refused the SDK key" in r.getMessage() for r in caplog.records)


# -- the disk cache ---------------------------------------------------------------------


def test_cache__server_gone__a_new_client_starts_from_the_cached_snapshot_without_waiting(
    tmp_path: Path,
) -> None:
    # Given a client that synced once with a cache path, and then the server stopped
    cache = tmp_path / "cache" / "flags.json"
    with running_server(data_dir=tmp_path / "server") as server:
        _flag(server, "checkout", enabled=True)
        _flag(server, "search", enabled=False)
        key = _server_key(server)
        with Client(server.url, key, cache_path=cache, metrics_interval=None) as client:
            assert client.wait_until_ready(5)
            revision = client.snapshot.state.revision
    assert cache.is_file()

    # When a new client starts with the same cache, at a url where nothing answers
    with silent_server() as url:
        started = time.monotonic()
        client = Client(url, key, cache_path=cache, timeout=3)
        checkout, search = client.is_enabled("checkout"), client.is_enabled("search")
        elapsed = time.monotonic() - started
    client.close()
    # Then it evaluated the cached flags without waiting for the 3-second timeout
    assert (checkout, search) == (True, False)
    assert elapsed < 1.5
    assert client.wait_until_ready(0) is True
    assert client.snapshot.state.revision == revision


# -- exposure counts --------------------------------------------------------------------


def test_metrics__exposures_arrive_in_batches_and_close_flushes_the_rest(
    server: RunningServer,
) -> None:
    _flag(server, "checkout", enabled=True)
    _flag(server, "search", enabled=False)
    environment_id = _environment_id(server)

    def totals() -> dict[str, tuple[int, int]]:
        counts = server.services.metrics.totals(environment_id)
        return {flag: (c.yes, c.no) for flag, c in counts.items()}

    client = Client(server.url, _server_key(server), app_name="checkout-api", metrics_interval=0.1)
    try:
        assert client.wait_until_ready(5)
        # Given evaluations, they reach the server on the sender's schedule
        for _ in range(3):
            client.is_enabled("checkout")
        client.is_enabled("search")
        _eventually(lambda: totals() == {"checkout": (3, 0), "search": (0, 1)}, within=5.0)
        # And later evaluations arrive as a difference, not counted twice
        client.is_enabled("search")
        client.is_enabled("never-heard-of")
    finally:
        client.close()
    # Then after close the server has every evaluation, exactly once
    assert totals() == {"checkout": (3, 0), "search": (0, 2), "never-heard-of": (0, 1)}


def test_metrics__close__sends_the_last_batch_with_variants(server: RunningServer) -> None:
    _flag(server, "colour", enabled=False)
    server.services.flags.update_rules(
        SYSTEM,
        PROJECT,
        "colour",
        ENVIRONMENT,
        {
            "enabled": True,
            "strategies": [{"name": "default"}],
            "variants": [{"name": "blue", "weight": 1000, "stickiness": "default"}],
        },
        expected_version=None,
    )
    environment_id = _environment_id(server)
    # A sender that would not send for an hour: only close() can deliver these
    with Client(server.url, _server_key(server), metrics_interval=3600) as client:
        assert client.wait_until_ready(5)
        for user in range(5):
            assert client.get_variant("colour", {"userId": str(user)}).name == "blue"
        assert server.services.metrics.totals(environment_id) == {}
    colour = server.services.metrics.totals(environment_id)["colour"]
    assert (colour.yes, colour.no, dict(colour.variants)) == (5, 0, {"blue": 5})


# -- never waiting on the network -------------------------------------------------------


def test_evaluations__server_hung__never_wait_on_the_network(tmp_path: Path) -> None:
    # Given flags from a cache, and a server that accepts connections but never answers
    cache = tmp_path / "flags.json"
    cache.write_text(
        '{"format": "shipwise-snapshot", "version": 1, "revision": "3",'
        ' "flags": [{"key": "checkout", "enabled": true}]}'
    )
    with silent_server() as url:
        client = Client(url, "sw_srv_test", cache_path=cache, refresh_interval=0.01, timeout=3)
        time.sleep(0.05)  # the sync thread is now waiting for an answer that never comes
        # When the application evaluates meanwhile
        slowest, started = 0.0, time.monotonic()
        for n in range(20_000):
            before = time.perf_counter()
            client.is_enabled("checkout", {"userId": str(n)})
            slowest = max(slowest, time.perf_counter() - before)
        elapsed = time.monotonic() - started
    # Then no evaluation waited anywhere near the 3-second network timeout (the bound
    # leaves room for a garbage collection pause on a busy machine, not for the network)
    assert slowest < 1.0, f"an evaluation took {slowest:.3f} s"
    assert elapsed < 5.0
    assert client.exposures()["checkout"].yes == 20_000
    # And once the server is gone, close() does not hang either
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 1.0


def test_evaluations__no_server_no_cache__give_defaults_at_once() -> None:
    with silent_server() as url:
        started = time.monotonic()
        client = Client(url, "sw_srv_test", timeout=3)
        answers = [client.is_enabled("checkout", default=True) for _ in range(1_000)]
        elapsed = time.monotonic() - started
        assert client.wait_until_ready(0) is False
    client.close()
    assert elapsed < 1.5
    assert set(answers) == {True}
    # Not ready: nothing was counted, so nothing is reported as an unknown flag either
    assert client.exposures() == {}
    assert client.unknown_flags() == []


def test_close__with_an_open_stream__returns_promptly(server: RunningServer) -> None:
    _flag(server, "checkout", enabled=True)
    client = Client(server.url, _server_key(server), metrics_interval=None)
    assert client.wait_until_ready(5)
    time.sleep(0.05)  # the stream is now idle, its thread blocked reading
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 0.5
    assert client.is_enabled("checkout") is True  # evaluation outlives close
