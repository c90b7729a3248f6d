"""Keeping a client's snapshot current: the server's stream first, ETag polling when the
stream fails.

One daemon thread per client. It opens ``GET /sdk/v1/stream`` and hands every
``snapshot`` event to ``deliver``. When the stream cannot be opened, or drops, it tries
again after a jittered delay that doubles with each failure (from the server's
``retry:`` hint up to ``MAX_BACKOFF``); meanwhile it polls ``GET /sdk/v1/snapshot``
every ``refresh_interval`` seconds with ``If-None-Match``, so an unchanged snapshot
costs a 304 and no body. With ``stream=False`` it only polls.

    stream ✕  poll  ·  stream ✕  poll  ·  ·  stream ✕  poll  ·  ·  ·  ·  stream ✓ ……
             ~1 s              ~2 s                  ~4 s

Nothing here raises into the application and nothing here is on the evaluation path:
failures are logged (once per kind, see ``Health``) and retried; the application keeps
evaluating the last snapshot it had.

Except one failure, which no retry can mend: the server refusing the key itself (401 or
403 on the stream or the poll, or the stream's last ``rejected`` event when the key is
revoked or expires while it is open). Then the thread tells ``rejected`` why, once, and
ends: no more streams, no more polls. A revoked or expired key never works again; the
application keeps its last snapshot and needs a new key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable

import httpx

from shipwise.sdk._http import Health, describe, refusal
from shipwise.sdk._sse import EventDecoder

log = logging.getLogger("shipwise.sdk")

SNAPSHOT_PATH = "/sdk/v1/snapshot"
STREAM_PATH = "/sdk/v1/stream"
STREAM_IDLE_TIMEOUT = 45.0  # the server pings every 15 s: three missed pings is a dead line
MAX_BACKOFF = 60.0
MIN_RETRY = 0.1  # whatever the server's retry: hint says, never reconnect in a hot loop
JOIN_TIMEOUT = 2.0

# Takes a snapshot document; True if it is now the client's (or already was).
Deliver = Callable[[bytes], bool]
# Told, once, why the server refused the key; syncing has ended.
Rejected = Callable[[str], None]
KEY_REFUSED = frozenset({401, 403})  # unknown, revoked, expired, or the wrong kind of key


def backoff(
    failures: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds before the next stream attempt: about ``base`` after a stream that
    worked, doubling with each failure in a row up to ``cap``. Each delay is drawn from
    [d/2, d], so clients cut off together by a server restart do not return together."""
    delay = min(cap, base * 2.0 ** min(failures, 30))
    return delay / 2 + rand() * delay / 2


def _rejected_event(data: str) -> str:
    """Why, from the ``data`` of the stream's ``rejected`` event (the API's error shape)."""
    try:
        error = json.loads(data)["error"]
        status, message = int(error["status"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        status, message = 401, data[:200] or "no explanation"
    return f"the server refused the SDK key ({status}): {message}"


def _abort(response: httpx.Response) -> None:
    """Wake the thread blocked reading ``response``. Shutting the socket down ends a
    blocked read at once; closing it from another thread would not."""
    network_stream = response.extensions.get("network_stream")
    sock = None if network_stream is None else network_stream.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed: nothing to wake
            sock.shutdown(socket.SHUT_RDWR)


class Synchronizer:
    def __init__(
        self,
        http: httpx.Client,
        deliver: Deliver,
        *,
        stream: bool,
        refresh_interval: float,
        retry: float = 1.0,
        max_backoff: float = MAX_BACKOFF,
        rejected: Rejected | None = None,
    ) -> None:
        self._http = http  # owned: closed when the thread ends
        self._deliver = deliver
        self._on_rejected = rejected
        self._rejection: str | None = None
        self._streaming = stream
        self._refresh_interval = refresh_interval
        self._retry = retry
        self._max_backoff = max_backoff
        connect = http.timeout.connect
        self._stream_timeout = httpx.Timeout(connect, read=STREAM_IDLE_TIMEOUT)
        self._etag: str | None = None
        self._stopping = threading.Event()
        self._response: httpx.Response | None = None
        self._response_lock = threading.Lock()
        self._health = Health("flag sync")
        self._thread = threading.Thread(target=self._run, name="shipwise-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def rejection(self) -> str | None:
        """Why the server refused the key, once it has; syncing has ended then."""
        return self._rejection

    def stop(self) -> None:
        """Stop syncing: end an open stream now and wait briefly for the thread. A thread
        stuck connecting to a silent server is left to time out on its own (it is a
        daemon and delivers nothing after this)."""
        self._stopping.set()
        with self._response_lock:
            response = self._response
        if response is not None:
            _abort(response)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT)

    # -- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._http.close()

    def _loop(self) -> None:
        failures = 0  # stream attempts in a row that delivered nothing
        next_stream = next_poll = time.monotonic()
        while not self._stopping.is_set() and self._rejection is None:
            now = time.monotonic()
            if self._streaming and now >= next_stream:
                if self._attempt(self._stream_once):
                    failures = 0
                    next_poll = time.monotonic() + self._refresh_interval
                else:
                    failures += 1
                    next_poll = now  # the stream gave nothing: poll now
                next_stream = time.monotonic() + backoff(failures, self._retry, self._max_backoff)
                continue
            if now >= next_poll:
                self._attempt(self._poll)
                next_poll = time.monotonic() + self._refresh_interval
                continue  # a refused key ends the loop now, not after the next wait
            wake = min(next_poll, next_stream) if self._streaming else next_poll
            self._stopping.wait(max(0.0, wake - time.monotonic()))

    def _attempt(self, step: Callable[[], bool]) -> bool:
        try:
            return step()
        except Exception:  # a bug here must not end syncing for the life of the process
            log.exception("shipwise: unexpected error while syncing flags; retrying")
            return False

    def _stream_once(self) -> bool:
        """One stream connection, read until it ends. True if it delivered a snapshot."""
        delivered = False
        try:
            with self._http.stream(
                "GET",
                STREAM_PATH,
                headers={"Accept": "text/event-stream"},
                timeout=self._stream_timeout,
            ) as response:
                if response.status_code != 200:
                    response.read()
                    status = response.status_code
                    problem = refusal(response) or f"{STREAM_PATH} answered {status}"
                    if status in KEY_REFUSED:
                        self._reject(problem)
                    else:
                        self._health.fail(problem)
                    return False
                content_type = response.headers.get("content-type", "")
                if not content_type.startswith("text/event-stream"):
                    self._health.fail(
                        f"{STREAM_PATH} answered {content_type or 'no content type'}, "
                        "not an event stream: is a proxy in the way?"
                    )
                    return False
                if not self._hold(response):
                    return False
                try:
                    decoder = EventDecoder()
                    for line in response.iter_lines():
                        event = decoder.decode(line)
                        if decoder.retry is not None:
                            self._retry = max(MIN_RETRY, decoder.retry / 1000)
                        if event is not None and event.event == "rejected":
                            self._reject(_rejected_event(event.data))
                            break
                        if event is None or event.event != "snapshot":
                            continue
                        if self._stopping.is_set():
                            break
                        if self._deliver(event.data.encode()):
                            delivered = True
                            self._health.ok("streaming")
                finally:
                    self._release()
        except httpx.HTTPError as error:
            if self._stopping.is_set():
                return delivered
            if not delivered:
                self._health.fail(describe(error))
                return False
            log.debug("shipwise: the flag stream dropped (%s); reconnecting", describe(error))
            return True
        if not self._stopping.is_set() and self._rejection is None:
            log.debug("shipwise: the server ended the flag stream; reconnecting")
        return delivered

    def _hold(self, response: httpx.Response) -> bool:
        with self._response_lock:
            if self._stopping.is_set():
                return False
            self._response = response
            return True

    def _release(self) -> None:
        with self._response_lock:
            self._response = None

    def _poll(self) -> bool:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        try:
            response = self._http.get(SNAPSHOT_PATH, headers=headers)
        except httpx.HTTPError as error:
            self._health.fail(describe(error))
            return False
        if response.status_code == 304:
            log.debug("shipwise: snapshot not modified (304 for %s)", self._etag)
            self._health.ok("polling")
            return True
        if response.status_code != 200:
            status = response.status_code
            problem = refusal(response) or f"{SNAPSHOT_PATH} answered {status}"
            if status in KEY_REFUSED:
                self._reject(problem)
            else:
                self._health.fail(problem)
            return False
        if self._stopping.is_set() or not self._deliver(response.content):
            return False
        self._etag = response.headers.get("etag")
        self._health.ok("polling")
        return True

    def _reject(self, problem: str) -> None:
        """The key itself was refused: end syncing (the loop sees ``rejection``)."""
        if self._rejection is not None:
            return
        self._rejection = problem
        if self._on_rejected is not None:
            try:
                self._on_rejected(problem)
            except Exception:  # the listener's bug must not keep a dead key syncing
                log.exception("shipwise: unexpected error reporting the refused key")
