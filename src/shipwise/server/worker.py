"""The rollout runner's loop: in one thread of ``shipwise serve`` (or its own process,
``shipwise runner``), every few seconds, take or keep the runner lock and, while this
process holds it, check the plans that are due. Only the holder acts, so with several
server instances exactly one runs plans; when it dies, another takes over."""

from __future__ import annotations

import logging
import threading

from shipwise.server.ports import RunnerLock
from shipwise.server.services.runner import RolloutRunner

log = logging.getLogger(__name__)


class RunnerLoop:
    def __init__(self, runner: RolloutRunner, lock: RunnerLock, interval: float = 1.0) -> None:
        self._runner = runner
        self._lock = lock
        self._interval = interval
        self._stop = threading.Event()
        self._nudged = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shipwise-runner", daemon=True)
        self.holding = False

    def start(self) -> None:
        self._thread.start()

    def run_once(self) -> bool:
        """One round: True if this process held the lock and checked the due plans."""
        held = self._lock.acquire()
        if held != self.holding:
            log.info("rollout runner %s", "active here" if held else "standing by")
            self.holding = held
        if held:
            self._runner.tick()
        return held

    def nudge(self) -> None:
        """Start the next round now: fresh data arrived for a running plan."""
        self._nudged.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._nudged.clear()
            try:
                self.run_once()
            except Exception:  # a bad round must not end the loop; the next retries
                log.exception("rollout runner round failed")
            self._nudged.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._nudged.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._lock.release()
