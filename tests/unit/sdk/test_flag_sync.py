"""The sync thread against a scripted server (httpx's MockTransport): stream first, ETag
polling while the stream fails, reconnection after a stream ends, and a jittered,
doubling, capped delay between attempts. The real server is in tests/integration/sdk."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from shipwise.sdk._sync import SNAPSHOT_PATH, STREAM_PATH, Synchronizer, backoff


def _document(revision: int) -> bytes:
    return b'{"format":"shipwise-snapshot","version":1,"revision":"%d","flags":[]}' % revision


def _event_stream(*revisions: int) -> httpx.Response:
    chunks = [b"retry: 10\n\n"] + [
        b"event: snapshot\nid: %d\ndata: %s\n\n" % (r, _document(r)) for r in revisions
    ]
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(chunks))


class Recorder:
    """What the sync thread delivered and asked for."""

    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.requests: list[httpx.Request] = []
        self.accept = True
        self._changed = threading.Condition()

    def deliver(self, document: bytes) -> bool:
        with self._changed:
            self.delivered.append(document)
            self._changed.notify_all()
        return self.accept

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                assert left > 0, "timed out"
                self._changed.wait(min(left, 0.01))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@contextmanager
def syncing(
    recorder: Recorder,
    route: Callable[[httpx.Request], httpx.Response],
    *,
    stream: bool = True,
    refresh_interval: float = 0.02,
) -> Iterator[Synchronizer]:
    def handler(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        return route(request)

    http = httpx.Client(base_url="http://flags.test", transport=httpx.MockTransport(handler))
    sync = Synchronizer(
        http,
        recorder.deliver,
        stream=stream,
        refresh_interval=refresh_interval,
        retry=0.01,
        max_backoff=0.05,
    )
    sync.start()
    try:
        yield sync
    finally:
        sync.stop()


def test_stream__delivers_each_snapshot_event() -> None:
    recorder = Recorder()
    with syncing(recorder, lambda _request: _event_stream(1, 2)):
        recorder.wait_for(lambda: len(recorder.delivered) >= 2)
    assert recorder.delivered[:2] == [_document(1), _document(2)]
    assert recorder.requests[0].headers["accept"] == "text/event-stream"


def test_stream__ended_by_the_server__reconnects_and_delivers_the_next_snapshot() -> None:
    recorder = Recorder()
    streams = iter([_event_stream(1), _event_stream(2)])

    def route(request: httpx.Request) -> httpx.Response:
        return next(streams, None) or _event_stream(2)

    with syncing(recorder, route, refresh_interval=60):
        recorder.wait_for(lambda: _document(2) in recorder.delivered)
    assert recorder.delivered[0] == _document(1)
    assert recorder.paths()[:2] == [STREAM_PATH, STREAM_PATH]  # no poll in between


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(httpx.Response(404), id="404"),
        pytest.param(httpx.Response(200, text="<html>proxy</html>"), id="not an event stream"),
        pytest.param(httpx.Response(502), id="502"),
    ],
)
def test_stream_refused__falls_back_to_polling__and_keeps_trying_the_stream(
    refusal: httpx.Response,
) -> None:
    recorder = Recorder()

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == STREAM_PATH:
            return refusal
        return httpx.Response(200, content=_document(1), headers={"etag": '"1-1"'})

    with syncing(recorder, route):
        recorder.wait_for(lambda: recorder.paths().count(STREAM_PATH) >= 3)
    assert recorder.delivered[0] == _document(1)
    assert SNAPSHOT_PATH in recorder.paths()


def test_poll__sends_the_etag_it_got__and_a_304_delivers_nothing() -> None:
    recorder = Recorder()

    def route(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"1-5"':
            return httpx.Response(304, headers={"etag": '"1-5"'})
        return httpx.Response(200, content=_document(5), headers={"etag": '"1-5"'})

    with syncing(recorder, route, stream=False):
        recorder.wait_for(lambda: len(recorder.requests) >= 4)
    assert recorder.paths()[:4] == [SNAPSHOT_PATH] * 4
    assert "if-none-match" not in recorder.requests[0].headers
    assert all(r.headers["if-none-match"] == '"1-5"' for r in recorder.requests[1:4])
    assert recorder.delivered == [_document(5)]


def test_poll__snapshot_the_client_could_not_use__is_fetched_whole_again() -> None:
    # A snapshot the client rejected must not be answered with 304 forever after.
    recorder = Recorder()
    recorder.accept = False

    def route(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_document(9), headers={"etag": '"1-9"'})

    with syncing(recorder, route, stream=False):
        recorder.wait_for(lambda: len(recorder.delivered) >= 3)
    assert all("if-none-match" not in r.headers for r in recorder.requests)


def test_poll__server_down__is_retried_and_never_raises() -> None:
    recorder = Recorder()
    calls = iter(range(1_000))

    def route(request: httpx.Request) -> httpx.Response:
        if next(calls) < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, content=_document(1))

    with syncing(recorder, route, stream=False):
        recorder.wait_for(lambda: recorder.delivered == [_document(1)])
    assert len(recorder.requests) >= 4


def test_stop__ends_the_thread() -> None:
    recorder = Recorder()
    with syncing(recorder, lambda _r: httpx.Response(503), stream=True) as sync:
        recorder.wait_for(lambda: len(recorder.requests) >= 2)
    assert not sync._thread.is_alive()


def test_backoff__doubles_from_the_base_up_to_the_cap() -> None:
    def top(failures: int) -> float:
        return backoff(failures, 1.0, 60.0, rand=lambda: 1.0)

    assert [top(n) for n in range(8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert top(10_000) == 60.0


def test_backoff__is_jittered_within_half_to_the_whole_delay() -> None:
    assert backoff(3, 1.0, 60.0, rand=lambda: 0.0) == 4.0
    delays = {backoff(3, 1.0, 60.0) for _ in range(50)}
    assert all(4.0 <= d <= 8.0 for d in delays)
    assert len(delays) > 1
