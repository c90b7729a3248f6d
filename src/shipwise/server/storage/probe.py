"""The storage half of ``/health``: can the database be read, and written, right now?

Cheap enough to run every second, by several load balancers at once: one probe runs at
a time and its answer is reused for ``MAX_AGE`` seconds, or until a unit of work meets
a storage problem or sees one end. Every probe reads (SQLite: the file's header;
PostgreSQL: ``SELECT 1``); on SQLite it also asks the file system for free space, a
system call. Only while a write has failed and none has succeeded since does it also
try a write that changes nothing, to see whether the problem is over:

- SQLite: ``BEGIN IMMEDIATE``, rewrite ``PRAGMA user_version`` with its own value,
  ``COMMIT`` — the write lock without waiting, and a real frame appended to the WAL.
- PostgreSQL: a transaction that takes a transaction id and commits (a replica or a
  read-only server refuses it).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shipwise.server.ports import StorageHealth, StorageProblem
from shipwise.server.storage.errors import Trouble, classify, first_line, unavailable
from shipwise.server.storage.write_lock import WriteLock

MAX_AGE = 1.0  # seconds a probe's answer is reused
_WAL_FRAME_HEADER = 24  # bytes before each page in the WAL: a commit appends at least one


class StorageProbe:
    def __init__(
        self,
        engine: Engine,
        trouble: Trouble,
        write_lock: WriteLock | None,
        sqlite_file: Path | None,
        busy_timeout_ms: int,
    ) -> None:
        self._engine = engine
        self._trouble = trouble
        self._write_lock = write_lock
        self._sqlite = engine.dialect.name == "sqlite"
        self._file = sqlite_file
        self._busy_timeout_ms = busy_timeout_ms
        self._running = threading.Lock()
        self._last: tuple[float, int, StorageHealth] | None = None

    def cached(self) -> StorageHealth | None:
        last = self._last
        if last is None:
            return None
        taken, changes, answer = last
        fresh = time.monotonic() - taken < MAX_AGE and changes == self._trouble.changes
        return answer if fresh else None

    def health(self) -> StorageHealth:
        last = self._last
        if last is not None:
            fresh = self.cached()
            # One probe at a time: the others take the previous answer rather than queue.
            if fresh is not None or not self._running.acquire(blocking=False):
                return fresh or last[2]
        else:
            self._running.acquire()
        try:
            found = self._probe()
            self._last = (time.monotonic(), self._trouble.changes, found)
            return found
        finally:
            self._running.release()

    def _probe(self) -> StorageHealth:
        # SQLite: a read of the file's header (an open connection answers SELECT 1 even
        # when its disk fails); PostgreSQL: the server answering at all.
        query = "PRAGMA schema_version" if self._sqlite else "SELECT 1"
        try:
            with self._engine.connect() as connection:
                connection.execute(text(query))
        except (DBAPIError, PoolTimeout) as error:
            problem = self._problem(error, writing=False)
            return self._answer(problem, readable=False)
        self._trouble.over(writing=False)
        if self._disk_full():
            return self._answer(StorageProblem.DISK_FULL)
        seen = self._trouble.current
        if seen is None:
            return StorageHealth(ok=True, readable=True)
        try:
            probed = self._write()
        except (DBAPIError, PoolTimeout, sqlite3.Error) as error:
            return self._answer(self._problem(error, writing=True))
        if not probed:  # a write of this server is under way (perhaps stuck): no news
            return self._answer(seen.problem)
        self._trouble.over(writing=True)
        return StorageHealth(ok=True, readable=True)

    def _problem(self, error: BaseException, writing: bool) -> StorageProblem:
        problem = classify(error, self._sqlite) or StorageProblem.ERROR
        self._trouble.note(problem, writing, first_line(error))
        return problem

    def _answer(self, problem: StorageProblem, readable: bool = True) -> StorageHealth:
        advice = unavailable(problem, self._sqlite).advice
        return StorageHealth(ok=False, readable=readable, problem=problem, advice=advice)

    def _disk_full(self) -> bool:
        """Less room on the SQLite file's disk than one WAL frame: the next write that
        grows the WAL fails."""
        if self._file is None:
            return False
        try:
            free = shutil.disk_usage(self._file.parent).free
        except OSError:
            return False  # the read above decides whether the file is there
        return free < 4096 + _WAL_FRAME_HEADER

    def _write(self) -> bool:
        """A write that changes nothing; False when this server's own write holds the
        lock (the probe would only see itself queued behind it)."""
        if not self._sqlite:
            with self._engine.begin() as connection:
                connection.execute(text("SELECT txid_current()"))
            return True
        lock = self._write_lock
        if lock is not None and not lock.acquire(blocking=False):
            return False
        try:
            with self._engine.connect() as connection:
                raw: Any = connection.connection.driver_connection
                raw.execute("PRAGMA busy_timeout=0")  # a lock held elsewhere: say so now
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    try:
                        (version,) = raw.execute("PRAGMA user_version").fetchone()
                        raw.execute(f"PRAGMA user_version={int(version)}")
                        raw.execute("COMMIT")
                    except BaseException:
                        with contextlib.suppress(Exception):
                            raw.execute("ROLLBACK")
                        raise
                finally:
                    raw.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        finally:
            if lock is not None:
                lock.release()
        return True
