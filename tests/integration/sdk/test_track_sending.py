"""An online client sends its tracked events to ``POST /sdk/v1/events``: in batches, with
the SDK key, again after a failed send (nothing lost, nothing twice), and a last time on
``close``. The server is a stand-in (stdlib ``http.server`` on a thread) that serves one
snapshot and records what it is sent."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import mmh3
import pytest

from shipwise import Client
from shipwise.sdk import _events

SDK_KEY = "sw_srv_test-key-for-events"
EVENTS, METRICS, SNAPSHOT = "/sdk/v1/events", "/sdk/v1/metrics", "/sdk/v1/snapshot"

DOCUMENT = {
    "format": "shipwise-snapshot",
    "version": 1,
    "flags": [
        {
            "key": "new-checkout",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId"},
                }
            ],
        },
        {"key": "everyone", "enabled": True},
    ],
}


def _user(*, included: bool) -> str:
    for n in range(1000):
        user = f"user-{n}"
        bucket = int(mmh3.hash(f"new-checkout:{user}", 0, signed=False)) % 100 + 1
        if (bucket <= 50) is included:
            return user
    raise AssertionError("no such user")


IN, OUT = _user(included=True), _user(included=False)


class StandIn:
    """What the stand-in server was sent, and what it will answer the next event POSTs."""

    def __init__(self) -> None:
        self.statuses: list[int] = []  # for the next POSTs to /sdk/v1/events, then 202
        self.posts: list[tuple[int, dict[str, Any], dict[str, str]]] = []  # status, body, headers
        self.lock = threading.Lock()

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 202

    def record(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self.lock:
            self.posts.append((status, body, headers))

    def accepted(self) -> list[dict[str, Any]]:
        """The bodies of the event batches answered with a 2xx."""
        with self.lock:
            return [body for status, body, _ in self.posts if status < 300]

    def all_bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body, _ in self.posts]


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    snapshot = json.dumps(DOCUMENT).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == SNAPSHOT:
                self._reply(200, snapshot, etag='"1"')
            else:
                self._reply(404, b'{"error": {"message": "not here"}}')

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == METRICS:
                self._reply(202, b"{}")
                return
            assert self.path == EVENTS
            status = stand_in.answer()
            stand_in.record(status, body, {k.lower(): v for k, v in self.headers.items()})
            message = HTTPStatus(status).phrase
            self._reply(status, json.dumps({"error": {"message": message}}).encode())

        def _reply(self, status: int, body: bytes, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    return Handler


class Running:
    def __init__(self, stand_in: StandIn, server: ThreadingHTTPServer) -> None:
        self.stand_in = stand_in
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)


@pytest.fixture
def server() -> Iterator[Running]:
    stand_in = StandIn()
    http_server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    http_server.daemon_threads = True
    running = Running(stand_in, http_server)
    try:
        yield running
    finally:
        running.stop()


def _client(server: Running, *, interval: float | None = 3600) -> Client:
    client = Client(
        server.url,
        SDK_KEY,
        app_name="checkout-api",
        stream=False,
        refresh_interval=3600,
        metrics_interval=interval,
        timeout=2,
    )
    assert client.wait_until_ready(5) is True
    return client


def _eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true within {within} s"
        time.sleep(0.005)


def _counts(body: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {(e["flag"], e["arm"], e["event"]): e["count"] for e in body["events"]}


# -- the wire ---------------------------------------------------------------------------


def test_flush__posts_the_totals_with_the_app_the_instance_and_the_key(server: Running) -> None:
    with _client(server) as client:
        client.track("purchase", {"userId": IN}, 20.0)
        client.track("purchase", {"userId": IN}, 30.0)
        client.track("error", {"userId": OUT})
        assert client.flush() is True
        assert client.tracked_events() == []
    [(status, body, headers)] = server.stand_in.posts
    assert status == 202
    assert body["appName"] == "checkout-api"
    assert isinstance(body["instanceId"], str)
    assert body["instanceId"]
    assert body["events"] == [
        {
            "flag": "new-checkout",
            "arm": "off",
            "event": "error",
            "count": 1,
            "valued": 0,
            "sum": 0.0,
            "sumSq": 0.0,
        },
        {
            "flag": "new-checkout",
            "arm": "on",
            "event": "purchase",
            "count": 2,
            "valued": 2,
            "sum": 50.0,
            "sumSq": 1300.0,
        },
    ]
    assert headers["authorization"] == f"Bearer {SDK_KEY}"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("shipwise-python-sdk")


def test_flush__nothing_tracked__posts_nothing(server: Running) -> None:
    with _client(server) as client:
        assert client.flush() is True
    assert server.stand_in.posts == []


def test_background_thread__sends_each_interval_what_is_new(server: Running) -> None:
    with _client(server, interval=0.05) as client:
        client.track("purchase", {"userId": IN})
        client.track("purchase", {"userId": IN})
        _eventually(lambda: len(server.stand_in.accepted()) == 1)
        client.track("purchase", {"userId": IN})
        _eventually(lambda: len(server.stand_in.accepted()) == 2)
    batches = [_counts(body) for body in server.stand_in.accepted()]
    assert batches == [
        {("new-checkout", "on", "purchase"): 2},
        {("new-checkout", "on", "purchase"): 1},
    ]


def test_large_batch__is_sent_in_posts_of_at_most_max_batch_lines(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_events, "MAX_BATCH", 2)
    with _client(server) as client:
        for event in ("a", "b", "c"):
            client.track(event, {"userId": IN})
        assert client.flush() is True
    assert [len(body["events"]) for body in server.stand_in.accepted()] == [2, 1]


# -- failures ---------------------------------------------------------------------------


def test_send__503__keeps_the_events_for_the_next_batch_and_sends_them_once(
    server: Running,
) -> None:
    # Given a server that answers the first batch with a 503
    server.stand_in.statuses = [503]
    with _client(server) as client:
        client.track("error", {"userId": IN})
        client.track("error", {"userId": IN})
        assert client.flush() is False
        # When more events come and the next send succeeds
        client.track("error", {"userId": IN})
        assert client.flush() is True
        # Then that batch carries all three, and the next has nothing to send
        assert client.flush() is True
    statuses = [status for status, _, _ in server.stand_in.posts]
    assert statuses == [503, 202]
    counts = [_counts(body) for body in server.stand_in.all_bodies()]
    assert counts == [
        {("new-checkout", "on", "error"): 2},
        {("new-checkout", "on", "error"): 3},
    ]


def test_send__second_post_of_a_batch_fails__only_the_unsent_lines_go_again(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_events, "MAX_BATCH", 1)
    server.stand_in.statuses = [202, 503]
    with _client(server) as client:
        client.track("a", {"userId": IN})
        client.track("b", {"userId": IN})
        assert client.flush() is False
        assert client.flush() is True
    events = [[e["event"] for e in body["events"]] for body in server.stand_in.all_bodies()]
    assert events == [["a"], ["b"], ["b"]]


def test_send__400__drops_the_batch_rather_than_resend_it_forever(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    server.stand_in.statuses = [400]
    with _client(server) as client, caplog.at_level(logging.ERROR, logger="shipwise.sdk"):
        client.track("error", {"userId": IN})
        assert client.flush() is False
        assert client.flush() is True
    assert len(server.stand_in.posts) == 1
    assert "rejected a batch of tracked events" in caplog.text


def test_send__server_unreachable__never_raises_and_keeps_counting(server: Running) -> None:
    with _client(server) as client:
        server.stop()
        client.track("error", {"userId": IN})
        assert client.flush() is False
        client.track("error", {"userId": IN})
        client.close()
        assert [line["count"] for line in client.tracked_events()] == [2]


# -- closing ----------------------------------------------------------------------------


def test_close__sends_the_final_batch(server: Running) -> None:
    client = _client(server)
    client.track("purchase", {"userId": OUT}, 9.5)
    client.close()
    assert [_counts(body) for body in server.stand_in.accepted()] == [
        {("new-checkout", "off", "purchase"): 1}
    ]
    # and after close, events are still counted but no longer sent
    client.track("purchase", {"userId": OUT})
    assert client.flush() is False
    assert len(server.stand_in.posts) == 1


def test_metrics_interval_none__sends_no_events(server: Running) -> None:
    with _client(server, interval=None) as client:
        client.track("purchase", {"userId": IN})
        assert client.flush() is False
    assert server.stand_in.posts == []
