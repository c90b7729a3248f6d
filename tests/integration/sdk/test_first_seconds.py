"""An online client's first seconds, before its first snapshot: it answers every flag
with the caller's default, ``explain`` says it is not ready, and nothing it answers then
counts, neither as an exposure nor as a tracked event of either arm (users served the
default would otherwise sit in the "off" arm, skewing the guardrail comparison). Once
the snapshot arrives, counting resumes; a client started from its disk cache is ready
at once.

The server is a real HTTP server on 127.0.0.1 (``tests.support.local_http``) that holds
its first snapshot answer until the test releases it, and records what it is sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from tests.support.local_http import LocalServer, Reply, Request, local_http_server

from shipwise import Client, FlagExposure, Reason
from shipwise.sdk.openfeature import ShipwiseProvider

SDK_KEY = "sw_srv_first-seconds"
SNAPSHOT, METRICS, EVENTS = "/sdk/v1/snapshot", "/sdk/v1/metrics", "/sdk/v1/events"
FLAG = "new-checkout"
DOCUMENT: dict[str, Any] = {
    "format": "shipwise-snapshot",
    "version": 1,
    "flags": [
        {
            "key": FLAG,
            "enabled": True,
            "strategies": [
                {"name": "flexibleRollout", "parameters": {"rollout": "50", "stickiness": "userId"}}
            ],
        }
    ],
}


def _user(*, included: bool) -> dict[str, str]:
    """A context in (or out of) the 50% rollout, as the engine itself decides it."""
    judge = Client.offline(DOCUMENT)
    for n in range(1000):
        context = {"userId": f"user-{n}"}
        if judge.is_enabled(FLAG, context) is included:
            return context
    raise AssertionError("no such user")


IN, OUT = _user(included=True), _user(included=False)


class SlowStart:
    """Holds every snapshot request until ``release`` is set; takes every POST with 202."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._posts: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: Request) -> Reply:
        if request.method == "POST":
            with self._lock:
                self._posts.append((request.path, json.loads(request.body)))
            return Reply(202, {})
        if request.path == SNAPSHOT:
            while not self.release.wait(0.02):
                if request.closing.is_set():
                    return Reply(503, {"error": {"status": 503, "message": "closing"}})
            return Reply(200, DOCUMENT, headers={"ETag": '"1"'})
        return Reply(404, {"error": {"status": 404, "message": "not here"}})

    def posted(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for where, body in self._posts if where == path]


@pytest.fixture
def slow() -> SlowStart:
    return SlowStart()


@pytest.fixture
def server(slow: SlowStart) -> Iterator[LocalServer]:
    with local_http_server(slow) as running:
        yield running


def _client(server: LocalServer, cache_path: Path | None = None) -> Client:
    # Polling only, once (the first poll is the one held); batches only on flush().
    return Client(
        server.url,
        SDK_KEY,
        stream=False,
        refresh_interval=3600,
        metrics_interval=3600,
        timeout=30,
        cache_path=cache_path,
    )


def test_before_the_first_snapshot__evaluations_give_the_default__explain_says_not_ready(
    server: LocalServer, slow: SlowStart
) -> None:
    with _client(server) as client:
        # Given a client whose server has not answered yet
        assert client.is_ready is False
        assert client.wait_until_ready(0.05) is False
        # Then every evaluation gives the caller's default
        assert client.is_enabled(FLAG, IN, default=True) is True
        assert client.is_enabled(FLAG, IN) is False
        assert client.get_variant(FLAG, IN).feature_enabled is False
        # And explain says why, in words, with the default
        explanation = client.explain(FLAG, IN, default=True)
        assert explanation.reason is Reason.NOT_READY
        assert explanation.message.startswith("not ready: no snapshot yet")
        assert explanation.enabled is True
        # When the snapshot arrives
        slow.release.set()
        assert client.wait_until_ready(5) is True
        # Then the client is ready and evaluates the flag
        assert client.is_ready is True
        assert client.is_enabled(FLAG, IN) is True
        assert client.explain(FLAG, IN).reason is Reason.STRATEGY_MATCH


def test_evaluations_before_the_first_snapshot__are_not_in_the_exposure_batch(
    server: LocalServer, slow: SlowStart
) -> None:
    with _client(server) as client:
        # Given evaluations of both arms' users before the first snapshot
        for _ in range(4):
            client.is_enabled(FLAG, IN)
            client.is_enabled(FLAG, OUT)
            client.get_variant(FLAG, IN)
        assert client.exposures() == {}
        assert client.unknown_flags() == []
        # When the snapshot arrives and the same users are evaluated
        slow.release.set()
        assert client.wait_until_ready(5) is True
        for _ in range(3):
            client.is_enabled(FLAG, IN)
        for _ in range(2):
            client.is_enabled(FLAG, OUT)
        assert client.flush() is True
    # Then the batch holds exactly the evaluations made once ready
    [batch] = slow.posted(METRICS)
    assert batch["flags"] == {FLAG: {"yes": 3, "no": 2, "variants": {}}}


def test_track_before_the_first_snapshot__credits_no_arm__tracking_resumes_once_ready(
    server: LocalServer, slow: SlowStart
) -> None:
    with _client(server) as client:
        # Given events tracked before the first snapshot
        client.track("error", IN)
        client.track("error", OUT, 1.5)
        assert client.tracked_events() == []
        # When the snapshot arrives and one more is tracked
        slow.release.set()
        assert client.wait_until_ready(5) is True
        client.track("error", IN)
        assert client.flush() is True
    # Then only that one reached the server, in its arm
    [batch] = slow.posted(EVENTS)
    lines = [(e["flag"], e["arm"], e["event"], e["count"]) for e in batch["events"]]
    assert lines == [(FLAG, "on", "error", 1)]


def test_client_started_from_its_disk_cache__is_ready_and_counts_at_once(
    tmp_path: Path, slow: SlowStart
) -> None:
    cache = tmp_path / "flags.json"
    # Given a cache left by an earlier run that got the snapshot
    with local_http_server(slow) as first:
        slow.release.set()
        with _client(first, cache) as client:
            assert client.wait_until_ready(5) is True
    # When a client starts from that cache while its server holds the first answer
    held = SlowStart()
    with local_http_server(held) as server, _client(server, cache) as client:
        # Then it is ready before the server answered, and counts what it answers
        assert client.is_ready is True
        assert client.is_enabled(FLAG, IN) is True
        assert client.explain(FLAG, OUT).reason is Reason.NO_STRATEGY_MATCHED
        assert client.flush() is True
        held.release.set()
    [batch] = held.posted(METRICS)
    assert batch["flags"] == {FLAG: {"yes": 1, "no": 0, "variants": {}}}


def test_openfeature_provider_before_the_first_snapshot__not_ready__counts_nothing(
    server: LocalServer, slow: SlowStart
) -> None:
    # (Asked directly: the OpenFeature SDK itself answers for a provider whose
    # initialize failed, and would never reach this code.)
    with _client(server) as client:
        provider = ShipwiseProvider(client)
        # Given a provider whose client has no snapshot yet
        boolean = provider.resolve_boolean_details(FLAG, True)
        text = provider.resolve_string_details(FLAG, "plain")
        # Then it gives the defaults with OpenFeature's not-ready code, and counts nothing
        assert (boolean.value, boolean.error_code) == (True, ErrorCode.PROVIDER_NOT_READY)
        assert (text.value, text.error_code) == ("plain", ErrorCode.PROVIDER_NOT_READY)
        assert client.exposures() == {}
        assert boolean.flag_metadata == {"shipwiseReason": "not_ready"}
        # And once the snapshot arrives, its answers count
        slow.release.set()
        assert client.wait_until_ready(5) is True
        user = EvaluationContext(IN["userId"])
        assert provider.resolve_boolean_details(FLAG, False, user).value is True
        assert client.exposures()[FLAG] == FlagExposure(yes=1, no=0)
