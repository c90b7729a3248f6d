"""Driver errors a person must act on (a full disk, a lock, a database that does not
answer), translated into the port's ``StorageUnavailable``, so services and the API
never import SQLAlchemy, sqlite3 or psycopg.

    sqlite3 error code                   PostgreSQL SQLSTATE               problem
    SQLITE_FULL                          53100 disk_full                   disk full
    SQLITE_BUSY, SQLITE_LOCKED           55P03, 40P01, 40001               database locked
    (pool exhausted)                     53300, 53200, 57014, (pool)       database busy
    SQLITE_CANTOPEN                      08xxx, 57P0x, no SQLSTATE         database unreachable
    SQLITE_READONLY                      25006                             database read-only
    SQLITE_IOERR                         58030                             disk I/O error

Anything else (a constraint, a bug in a query) is not the operator's to fix and stays
what it was. ``Trouble`` remembers the problem storage last reported, so the log says
once that it began and once that it ended, instead of once per request.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

from sqlalchemy import exc

from shipwise.server.ports import StorageProblem, StorageUnavailable

log = logging.getLogger(__name__)

P = StorageProblem

# Seconds a client should wait before trying again (the Retry-After header): a full or
# read-only disk needs a person; a lock or a restart usually passes in seconds.
RETRY_AFTER: dict[StorageProblem, int] = {
    P.DISK_FULL: 60,
    P.READ_ONLY: 60,
    P.IO_ERROR: 60,
    P.ERROR: 30,
    P.UNREACHABLE: 5,
    P.LOCKED: 5,
    P.BUSY: 2,
}

_SQLITE: dict[int, StorageProblem] = {
    sqlite3.SQLITE_FULL: P.DISK_FULL,
    sqlite3.SQLITE_BUSY: P.LOCKED,
    sqlite3.SQLITE_LOCKED: P.LOCKED,
    sqlite3.SQLITE_READONLY: P.READ_ONLY,
    sqlite3.SQLITE_CANTOPEN: P.UNREACHABLE,
    sqlite3.SQLITE_IOERR: P.IO_ERROR,
}

_POSTGRES: dict[str, StorageProblem] = {
    "53100": P.DISK_FULL,
    "55P03": P.LOCKED,  # lock_not_available (lock_timeout)
    "40P01": P.LOCKED,  # deadlock_detected
    "40001": P.LOCKED,  # serialization_failure
    "53200": P.BUSY,  # out_of_memory
    "53300": P.BUSY,  # too_many_connections
    "57014": P.BUSY,  # query_canceled (statement_timeout)
    "57P01": P.UNREACHABLE,  # admin_shutdown
    "57P02": P.UNREACHABLE,  # crash_shutdown
    "57P03": P.UNREACHABLE,  # cannot_connect_now (starting up)
    "25006": P.READ_ONLY,  # read_only_sql_transaction (a replica, or read-only by config)
    "58030": P.IO_ERROR,
}

_SQLITE_ADVICE: dict[StorageProblem, str] = {
    P.DISK_FULL: "the disk holding the SQLite database (the data directory) has no space "
    "left; free space on it, then retry",
    P.LOCKED: "another process holds a write lock on the SQLite database (a backup, a "
    "sqlite3 shell, a second server on the same file); end it, then retry",
    P.BUSY: "every database connection of this server is in use; retry shortly",
    P.UNREACHABLE: "the SQLite database file cannot be opened; check that the data "
    "directory exists and that the server's user may read and write it",
    P.READ_ONLY: "the SQLite database or its directory is read-only; make the data "
    "directory writable by the server's user",
    P.IO_ERROR: "the disk holding the SQLite database reported an I/O error; check the disk "
    "and the system log",
    P.ERROR: "the database failed a health probe; see the server's log",
}

_POSTGRES_ADVICE: dict[StorageProblem, str] = {
    P.DISK_FULL: "the PostgreSQL server's disk is full; free space on it (or grow the "
    "volume), then retry",
    P.LOCKED: "another transaction holds a lock this change needs; retry shortly",
    P.BUSY: "PostgreSQL is overloaded (out of connections, memory or time); retry shortly",
    P.UNREACHABLE: "PostgreSQL does not answer; check that it is running and that "
    "--database-url (SHIPWISE_DATABASE_URL) names it",
    P.READ_ONLY: "PostgreSQL accepts no writes (a replica, or read-only by configuration); "
    "point --database-url at the primary",
    P.IO_ERROR: "PostgreSQL reported an I/O error; check its disk and its log",
    P.ERROR: "the database failed a health probe; see the server's log",
}


def unavailable(problem: StorageProblem, sqlite: bool) -> StorageUnavailable:
    advice = (_SQLITE_ADVICE if sqlite else _POSTGRES_ADVICE)[problem]
    return StorageUnavailable(problem, advice, RETRY_AFTER[problem])


def classify(error: BaseException, sqlite: bool) -> StorageProblem | None:
    """The problem behind a SQLAlchemy or driver error, or None when it is not one an
    operator can fix (then the error stays what it was)."""
    if isinstance(error, exc.TimeoutError):  # the connection pool stayed empty
        return P.BUSY
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    if sqlite:
        code = getattr(original, "sqlite_errorcode", None)
        # Extended codes (SQLITE_IOERR_WRITE = 778) carry the primary code in the low byte.
        return None if code is None else _SQLITE.get(code & 0xFF)
    state = getattr(original, "sqlstate", None)
    if state is not None:
        return P.UNREACHABLE if state.startswith("08") else _POSTGRES.get(state)
    # psycopg reports a connection it could not open or lost with no SQLSTATE.
    if type(original).__name__ == "OperationalError" or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    ):
        return P.UNREACHABLE
    return None


def translate(error: BaseException, sqlite: bool) -> StorageUnavailable | None:
    problem = classify(error, sqlite)
    return None if problem is None else unavailable(problem, sqlite)


def first_line(error: BaseException) -> str:
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


@dataclass(frozen=True, slots=True)
class Seen:
    problem: StorageProblem
    writing: bool  # a write failed (reads may still work)


class Trouble:
    """The storage problem last reported and not yet shown to be over. Logs a warning
    when a problem begins or changes, and one line when storage works again."""

    def __init__(self, where: str) -> None:
        self._where = where
        self._lock = threading.Lock()
        self.current: Seen | None = None
        self.changes = 0  # counts every change of ``current``: cached verdicts are stale

    def note(self, problem: StorageProblem, writing: bool, detail: str) -> None:
        with self._lock:
            previous, self.current = self.current, Seen(problem, writing)
            if previous != self.current:
                self.changes += 1
        if previous is None or previous.problem != problem:
            log.warning("storage unavailable (%s) at %s: %s", problem, self._where, detail)

    def over(self, writing: bool) -> None:
        """A unit of work succeeded: a write ends any problem; a read ends only the
        problems that stopped reads too (a full disk still refuses writes)."""
        current = self.current
        if current is None or (current.writing and not writing):
            return
        with self._lock:
            if self.current is not current:
                return
            self.current = None
            self.changes += 1
        log.warning("storage works again at %s (was: %s)", self._where, current.problem)
