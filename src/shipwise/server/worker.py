"""The rollout runner's loop: in one thread of ``shipwise serve`` (or its own process,
``shipwise runner``), every few seconds, take or keep the runner lock and, while this
process holds it, check the plans that are due. Only the holder acts, so with several
server instances exactly one runs plans; when it dies, another takes over.

While the database cannot serve (a full disk, a lock, a database that is down) the loop
keeps going: it says once that the runner is paused and why, retries every round, and
says once that it carries on. A plan's step is applied in one transaction, so a round
cut short by storage leaves the plan due, and the next round applies it once.

While it holds the lock, a round also runs the sweeps (bug fixes due soon or overdue,
``FixSweep``) at most every ``SWEEP_EVERY`` seconds: they only read unless something
became due.

The outbox is delivered by ``DeliveryLoop``, beside it: a channel that hangs holds up
neither a runner round nor another channel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from shipwise.server.ports import OutboxItem, RunnerLock, StorageProblem, StorageUnavailable
from shipwise.server.services.notifications import Notifications
from shipwise.server.services.runner import RolloutRunner

log = logging.getLogger(__name__)

SWEEP_EVERY = 10.0  # wall-clock seconds between sweeps (a due time is hours away)


class RunnerLoop:
    def __init__(
        self,
        runner: RolloutRunner,
        lock: RunnerLock,
        interval: float = 1.0,
        sweeps: Sequence[Callable[[], object]] = (),
    ) -> None:
        self._runner = runner
        self._lock = lock
        self._interval = interval
        self._sweeps = tuple(sweeps)
        self._swept_at: float | None = None
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
            self._sweep()
        return held

    def _sweep(self) -> None:
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        for sweep in self._sweeps:
            sweep()

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


class DeliveryLoop:
    """Delivers the outbox in a thread of its own, only while this process holds the
    runner's lock (``holding``), so two instances never send one item: a queue under way
    asks before each message, so a lost lease stops it after the message in flight. Each
    destination's queue runs in a thread of its own and a destination still busy (a
    channel that hangs until its timeout) is skipped by later rounds: it delays only its
    own messages, and neither the runner's rounds nor the other destinations wait for it."""

    def __init__(
        self, notifications: Notifications, holding: Callable[[], bool], interval: float = 1.0
    ) -> None:
        self._notifications = notifications
        self._holding = holding
        self._interval = interval
        self._stop = threading.Event()
        self._busy: dict[str, threading.Thread] = {}  # destination -> its delivery
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="shipwise-delivery", daemon=True)
        self.storage_problem: StorageProblem | None = None

    def start(self) -> None:
        self._thread.start()

    def run_once(self) -> int:
        """One round: start every due destination that is not busy; how many started."""
        if not self._holding():
            return 0
        # A destination busy before the read may finish during it: what the read says is
        # due for it can be what that delivery just sent. Only the next round's read,
        # after it ended, is fresh; starting on this one would send those items again.
        with self._lock:
            busy_before_read = set(self._busy)
        now, queues = self._notifications.due_queues()
        started = 0
        for channel, items in queues.items():
            if channel in busy_before_read:
                continue
            # Daemon threads: a channel hanging until its timeout never holds up shutdown.
            thread = threading.Thread(
                target=self._deliver,
                args=(channel, items, now),
                name=f"shipwise-deliver-{channel}",
                daemon=True,
            )
            with self._lock:
                if channel in self._busy:
                    continue
                self._busy[channel] = thread
            thread.start()
            started += 1
        return started

    def _deliver(self, channel: str, items: list[OutboxItem], now: datetime) -> None:
        try:
            self._notifications.deliver_queue(items, now, self._holding)
        except Exception:  # the next round retries; a stopped server's store is closed
            if not self._stop.is_set():
                log.exception("delivery to %s failed", channel)
        finally:
            with self._lock:
                self._busy.pop(channel, None)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except StorageUnavailable as error:
                if error.problem != self.storage_problem:
                    log.warning("deliveries paused: storage unavailable (%s)", error.problem)
                self.storage_problem = error.problem
            except Exception:  # a bad round must not end the loop; the next retries
                log.exception("delivery round failed")
            else:
                self.storage_problem = None
            self._stop.wait(self._interval)

    def stop(self, grace: float = 2.0) -> None:
        """Stop starting deliveries; give those under way ``grace`` seconds to finish
        (a channel that hangs is left to its daemon thread, not waited for)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        deadline = time.monotonic() + grace
        with self._lock:
            under_way = list(self._busy.values())
        for thread in under_way:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
