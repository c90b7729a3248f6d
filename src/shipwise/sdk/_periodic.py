"""A daemon thread that sends what the client counted every ``interval`` seconds.

Exposure counts (``_metrics``) and tracked events (``_events``) leave the same way: a
``flush`` every interval on a thread of their own, sends serialised by a lock that
evaluations never touch, and on ``close`` the thread stopped and one last ``flush``.
A failure inside a round is logged and the next round tries again: nothing here may
stop the application or end sending for the life of the process.

No httpx here: offline clients import the event book, which imports this module.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("shipwise.sdk")

JOIN_TIMEOUT = 2.0


class PeriodicSender:
    what = "data"  # for the log: "exposure counts", "tracked events"

    def __init__(self, http: Any, interval: float, thread_name: str) -> None:
        self._http = http  # an httpx.Client, owned: closed by close()
        self._interval = interval
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and send what it has not sent yet (one try)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(JOIN_TIMEOUT)
        try:
            self.flush()
        except Exception:  # close() is the application's call: log, never raise
            log.exception("shipwise: unexpected error while sending the last %s", self.what)
        finally:
            self._http.close()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.flush()
            except Exception:  # a bug here must not stop sending for the life of the process
                log.exception("shipwise: unexpected error while sending %s", self.what)

    def flush(self) -> bool:
        """Send what is waiting; True if the server took everything."""
        raise NotImplementedError
