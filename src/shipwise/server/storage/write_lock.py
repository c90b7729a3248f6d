"""SQLite's one writer, queued inside this process, with a witness of who holds it.

SQLite lets one connection write at a time; ``Database.transaction()`` queues this
process's writers on ``WriteLock`` rather than letting them meet "database is locked".
A write that waits long is the symptom of something else: a writer that holds the lock
while it waits itself, or one stuck on another process's lock. So the lock knows its
holder, and a waiter that passes ``WARN_AFTER`` logs the holder's thread and where it is
at that moment (its live stack, from ``sys._current_frames``), then its own; when the
lock comes, it logs how long the wait was. Without that a stall only shows as its
victim's late answer (issue 12's notes: a ~10 s request stall seen in full test runs).

A write unit of work opened inside another on the same thread would wait for itself
until the busy timeout and then blame "another write": it raises ``WriteInsideWrite``
at once instead, naming the mistake.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)

WARN_AFTER = 5.0  # seconds a writer waits before the holder's stack is logged


class WriteInsideWrite(RuntimeError):
    """A programming error: ``transaction()`` inside a transaction on the same thread."""


class WriteLock:
    def __init__(self, warn_after: float = WARN_AFTER) -> None:
        self._lock = threading.Lock()
        self._warn_after = warn_after
        self._holder: int | None = None  # thread ident; read unlocked by waiters (a hint)
        self._holder_name = ""
        self._since = 0.0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """As ``threading.Lock.acquire``; a wait past ``warn_after`` is logged with the
        holder's stack, and a second acquire by the holder's thread raises."""
        me = threading.get_ident()
        if self._holder == me:
            raise WriteInsideWrite(
                "a write unit of work was opened inside another on the same thread; it "
                "would wait for itself: finish the first (or pass its transaction on)"
            )
        if not blocking:
            return self._taken(self._lock.acquire(blocking=False))
        started = time.monotonic()
        first = self._warn_after if timeout < 0 else min(timeout, self._warn_after)
        if self._lock.acquire(timeout=first):
            return self._taken(True)
        if timeout >= 0 and timeout <= self._warn_after:
            self._report(started, got=False)
            return False
        self._report(started, got=None)
        rest = -1 if timeout < 0 else timeout - (time.monotonic() - started)
        got = self._lock.acquire(timeout=max(rest, 0)) if rest >= 0 else self._lock.acquire()
        self._report(started, got=got)
        return self._taken(got)

    def release(self) -> None:
        self._holder = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def holder(self) -> str | None:
        """The holder's thread name and how long it has held the lock, in words."""
        ident, name, since = self._holder, self._holder_name, self._since
        if ident is None:
            return None
        return f"thread {name!r} (id {ident}), holding it for {time.monotonic() - since:.1f} s"

    def holder_stack(self) -> str:
        """Where the holder is now: its live stack, or why there is none."""
        ident = self._holder
        if ident is None:
            return "(no holder now)"
        frame = sys._current_frames().get(ident)
        if frame is None:
            return "(the holder's thread has ended)"
        return "".join(traceback.format_stack(frame))

    def _taken(self, got: bool) -> bool:
        if got:
            current = threading.current_thread()
            self._holder, self._holder_name = current.ident, current.name
            self._since = time.monotonic()
        return got

    def _report(self, started: float, got: bool | None) -> None:
        waited = time.monotonic() - started
        me = threading.current_thread().name
        if got is None:
            log.warning(
                "SQLite write by thread %r has waited %.1f s for this process's write lock, "
                "held by %s; the holder is at:\n%sthe waiter is at:\n%s",
                me,
                waited,
                self.holder() or "nobody now (released just now)",
                self.holder_stack(),
                "".join(traceback.format_stack(limit=12)),
            )
        elif got:
            log.warning("SQLite write by thread %r got the write lock after %.1f s", me, waited)
        else:
            log.warning(
                "SQLite write by thread %r gave up after %.1f s waiting for the write lock, "
                "held by %s; the holder is at:\n%s",
                me,
                waited,
                self.holder() or "nobody now (released just now)",
                self.holder_stack(),
            )
