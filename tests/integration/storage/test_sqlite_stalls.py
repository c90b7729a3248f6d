"""The rare ~10 s request stall of full test runs (issue 12's notes), hunted on a real
SQLite file: many writers, readers (one holding a cursor open across commits), the
runner's lease and WAL checkpoints at once finish with every write kept; and a stall
that does happen explains itself in the log (``write_lock.py``): the waiter names the
write lock's holder and where it is, a slow statement names the holder too, and a write
opened inside another on one thread is refused at once instead of waiting for itself.

Every wait here has a hang guard (a thread join or an event with a generous bound): a
stall fails the test rather than hanging it; nothing asserts a speed."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from shipwise.server.ports import AuditEntry, AuditFilter, StorageUnavailable
from shipwise.server.storage.database import Database
from shipwise.server.storage.locks import SqliteLease
from shipwise.server.storage.write_lock import WriteInsideWrite

HANG_GUARD = 60.0  # seconds: far above any honest wait here, far below a hung run
WRITERS, WRITES_EACH, READERS = 8, 25, 4


def _entry(actor: str, key: str) -> AuditEntry:
    return AuditEntry(actor=actor, action="stress.write", target_type="t", target_key=key)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shipwise.db'}"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url, busy_timeout=10.0, stall_warning=0.5)
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


def _run_all(jobs: list[Callable[[], None]]) -> list[BaseException]:
    """Run ``jobs`` in threads at once; the errors they raised. A job still running after
    the hang guard fails the test: that is the stall."""
    errors: list[BaseException] = []

    def guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"still waiting after {HANG_GUARD:g} s: {stuck}"
    return errors


def test_sqlite__writers_readers_lease_and_checkpoints_at_once__all_finish_and_keep_every_write(
    db: Database,
) -> None:
    # Given writers queued on the write lock, readers, a reader holding a cursor open while
    # others commit, the runner's lease renewing outside the lock, and WAL checkpoints
    done = threading.Event()

    def writer(number: int) -> Callable[[], None]:
        def write() -> None:
            for i in range(WRITES_EACH):
                with db.transaction() as tx:
                    tx.append_audit(_entry(f"writer-{number}", str(i)))

        return write

    def reader() -> None:
        while not done.is_set():
            with db.read() as tx:
                tx.list_audit(AuditFilter(limit=50))

    def long_reader() -> None:
        while not done.is_set():
            with db.read() as tx:
                for _ in tx.iter_audit():  # a cursor open across other writers' commits
                    if done.is_set():
                        break

    def lease() -> None:
        holder = SqliteLease(db.engine, ttl=timedelta(seconds=15))
        while not done.is_set():
            assert holder.acquire()

    def checkpoints() -> None:
        while not done.is_set():
            with db.engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))

    writers = [writer(n) for n in range(WRITERS)]
    others = [reader] * READERS + [long_reader, lease, checkpoints]

    def writers_then_done() -> None:
        try:
            assert _run_all(writers) == []
        finally:
            done.set()

    # When they all run at once
    errors = _run_all([writers_then_done, *others])

    # Then every one finished within the hang guard, none failed, and every write is kept
    assert errors == []
    with db.read() as tx:
        written = [r for r in tx.iter_audit() if r.entry.action == "stress.write"]
        assert len(written) == WRITERS * WRITES_EACH
        assert tx.audit_chain_head() == max(written, key=lambda r: r.id).hash


def test_write_inside_write__on_one_thread__is_refused_at_once_naming_the_mistake(
    sqlite_url: str,
) -> None:
    # Given a database whose writers would wait 2 s for the write lock
    database = Database(sqlite_url, busy_timeout=2.0)
    database.upgrade()
    try:
        # When a write unit of work opens another on the same thread
        with database.transaction() as tx:
            tx.append_audit(_entry("outer", "1"))
            # Then it is refused as a mistake, not "another write held the database"
            refused = pytest.raises(WriteInsideWrite, match="inside another on the same thread")
            with refused, database.transaction():
                pass
        # and the lock is free again for the next write
        with database.transaction() as tx:
            tx.append_audit(_entry("after", "2"))
    finally:
        database.dispose()


def _wait_for_record(caplog: pytest.LogCaptureFixture, wanted: str) -> str:
    """The first captured message containing ``wanted``, waited for (hang-guarded)."""
    found = threading.Event()
    messages: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if wanted in message:
                messages.append(message)
                found.set()

    catcher = Catch(logging.WARNING)
    logging.getLogger("shipwise.server.storage").addHandler(catcher)
    try:
        for record in caplog.records:
            catcher.emit(record)
        assert found.wait(HANG_GUARD), f"no log message with {wanted!r}"
    finally:
        logging.getLogger("shipwise.server.storage").removeHandler(catcher)
    return messages[0]


def test_write_waiting_past_the_stall_warning__logs_the_holder_and_where_it_is(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shipwise.server.storage")
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock_in_this_function() -> None:
        with db.transaction() as tx:
            tx.append_audit(_entry("holder", "1"))
            holding.set()
            assert release.wait(HANG_GUARD)

    def waiting_writer() -> None:
        with db.transaction() as tx:
            tx.append_audit(_entry("waiter", "2"))

    # Given a write holding the lock in a named thread
    holder = threading.Thread(target=hold_the_write_lock_in_this_function, name="the-holder")
    holder.start()
    try:
        assert holding.wait(HANG_GUARD)
        # When another write waits past the stall warning
        waiter = threading.Thread(target=waiting_writer, name="the-waiter")
        waiter.start()
        message = _wait_for_record(caplog, "has waited")
    finally:
        release.set()
        holder.join(HANG_GUARD)
    waiter.join(HANG_GUARD)

    # Then the log names the holder's thread and shows where it is, and the waiter's
    assert "'the-waiter'" in message
    assert "'the-holder'" in message
    assert "hold_the_write_lock_in_this_function" in message
    assert "waiting_writer" in message
    # and the waiter got the lock once the holder let go (its write is kept)
    assert _wait_for_record(caplog, "got the write lock after")
    with db.read() as tx:
        assert [r.entry.actor for r in tx.list_audit(AuditFilter(limit=2))] == ["waiter", "holder"]


def test_statement_waiting_on_another_process_lock__is_logged_with_the_write_lock_holder(
    db: Database, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shipwise.server.storage")
    # Given another process's connection holding SQLite's write lock (the CLI, say)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            with db.transaction() as tx:
                tx.append_audit(_entry("blocked", "1"))
            outcome.append(None)
        except StorageUnavailable as error:
            outcome.append(error)

    # When a write of this server waits on it past the stall warning, then gets it
    writer = threading.Thread(target=write, name="blocked-writer")
    writer.start()
    try:
        time.sleep(1.0)  # longer than the 0.5 s stall warning: a wait, not a bound
    finally:
        other.execute("COMMIT")
        other.close()
    writer.join(HANG_GUARD)

    # Then the slow statement is logged with who held this process's write lock
    message = _wait_for_record(caplog, "a statement took")
    assert "INSERT INTO audit_log" in message
    assert "thread 'blocked-writer'" in message
    assert outcome == [None]
