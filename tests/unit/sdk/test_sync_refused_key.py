"""A key the server refuses (401 or 403 on the stream or a poll, or the stream's last
``rejected`` event) ends syncing for good: the sync thread says why once and makes no
further request, where any other failure is retried. Against a scripted server
(httpx's MockTransport); the real server is in tests/integration/sdk/test_refused_key.py."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from shipwise.sdk._sync import SNAPSHOT_PATH, STREAM_PATH, Synchronizer

DOCUMENT = b'{"format":"shipwise-snapshot","version":1,"revision":"1","flags":[]}'
REVOKED = b'{"error":{"status":401,"message":"this SDK key was revoked","field":null}}'


def _refused(status: int) -> httpx.Response:
    body = {"error": {"status": status, "message": "token sw_srv_abcde… was revoked"}}
    return httpx.Response(status, json=body)


def _sync(
    route: Callable[[httpx.Request], httpx.Response], *, stream: bool = True
) -> tuple[Synchronizer, list[httpx.Request], list[str]]:
    requests: list[httpx.Request] = []
    reasons: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return route(request)

    http = httpx.Client(base_url="http://flags.test", transport=httpx.MockTransport(handler))
    sync = Synchronizer(
        http,
        lambda document: True,
        stream=stream,
        refresh_interval=0.01,
        retry=0.01,
        max_backoff=0.02,
        rejected=reasons.append,
    )
    return sync, requests, reasons


def _run_until_it_ends(sync: Synchronizer) -> None:
    """Start the thread and wait for it to end by itself (it must: nothing stops it)."""
    sync.start()
    sync._thread.join(10)
    ended = not sync._thread.is_alive()
    sync.stop()
    assert ended, "the sync thread went on after the key was refused"


@pytest.mark.parametrize("status", [401, 403])
def test_stream_refuses_the_key__sync_ends_after_that_one_request__and_says_why(
    status: int,
) -> None:
    sync, requests, reasons = _sync(lambda request: _refused(status))
    _run_until_it_ends(sync)
    assert [r.url.path for r in requests] == [STREAM_PATH]  # no poll, no reconnection
    assert reasons == [
        f"the server refused the SDK key ({status}): token sw_srv_abcde… was revoked"
    ]
    assert sync.rejection == reasons[0]


@pytest.mark.parametrize("status", [401, 403])
def test_poll_refuses_the_key__polling_ends_as_the_stream_would(status: int) -> None:
    sync, requests, reasons = _sync(lambda request: _refused(status), stream=False)
    _run_until_it_ends(sync)
    assert [r.url.path for r in requests] == [SNAPSHOT_PATH]
    assert len(reasons) == 1
    assert f"({status})" in reasons[0]


def test_stream_ends_with_a_rejected_event__sync_ends_without_reconnecting() -> None:
    # Given a stream that delivers a snapshot, then is closed because its key was revoked
    chunks = [
        b"retry: 10\n\n",
        b"event: snapshot\nid: 1\ndata: " + DOCUMENT + b"\n\n",
        b"event: rejected\ndata: " + REVOKED + b"\n\n",
    ]

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == STREAM_PATH:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, content=iter(chunks))
        return httpx.Response(200, content=DOCUMENT)

    sync, requests, reasons = _sync(route)
    _run_until_it_ends(sync)
    assert [r.url.path for r in requests] == [STREAM_PATH]
    assert reasons == ["the server refused the SDK key (401): this SDK key was revoked"]


def test_other_failures__are_retried_as_before() -> None:
    # A 500 (or a 404: a wrong url) says nothing about the key: keep trying.
    calls = threading.Semaphore(0)

    def route(request: httpx.Request) -> httpx.Response:
        calls.release()
        return httpx.Response(500)

    sync, _, reasons = _sync(route)
    sync.start()
    try:
        for _ in range(5):
            assert calls.acquire(timeout=10)
    finally:
        sync.stop()
    assert reasons == []
    assert sync.rejection is None
