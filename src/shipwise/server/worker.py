"""The rollout runner's loop: in one thread of ``shipwise serve`` (or its own process,
``shipwise runner``), every few seconds, take or keep the runner lock and, while this
process holds it, check the plans that are due. Only the holder acts, so with several
server instances exactly one runs plans; when it dies, another takes over.

While the database cannot serve (a full disk, a lock, a database that is down) the loop
keeps going: it says once that the runner is paused and why, retries every round, and
says once that it carries on. A plan's step is applied in one transaction, so a round
cut short by storage leaves the plan due, and the next round applies it once."""

from __future__ import annotations

import logging
import threading

from shipwise.server.ports import RunnerLock, StorageProblem, StorageUnavailable
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
        self.storage_problem: StorageProblem | None = None  # why the last round stopped

    def start(self) -> None:
        self._thread.start()

    def run_once(self) -> bool:
        """One round: True if this process held the lock and checked the due plans."""
        try:
            held = self._lock.acquire()
        except StorageUnavailable:
            self.holding = False  # not renewed: another instance may take over
            raise
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
            except StorageUnavailable as error:
                if error.problem != self.storage_problem:
                    log.warning(
                        "rollout runner paused: storage unavailable (%s): %s; retrying every %g s",
                        error.problem,
                        error.advice,
                        self._interval,
                    )
                self.storage_problem = error.problem
            except Exception:  # a bad round must not end the loop; the next retries
                log.exception("rollout runner round failed")
            else:
                if self.storage_problem is not None:
                    log.warning("rollout runner carries on: storage works again")
                    self.storage_problem = None
            self._nudged.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._nudged.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._lock.release()
