"""Connecting to SQLite or PostgreSQL, migrating, and units of work.

SQLite is the embedded default (one file in the data directory, WAL mode). PostgreSQL
serves several server instances; migrations then run under an advisory lock so two
instances starting together do not both migrate.

A unit of work that meets a full disk, a lock held too long or a database that does not
answer is rolled back whole (the flag, its audit record and the chain head go together
or not at all) and raises the port's ``StorageUnavailable`` (``errors.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from shipwise.server.ports import (
    Change,
    ChangeBus,
    StorageHealth,
    StorageProblem,
    StorageUnavailable,
)
from shipwise.server.storage.errors import RETRY_AFTER, Trouble, first_line, translate
from shipwise.server.storage.probe import StorageProbe
from shipwise.server.storage.repository import SqlTransaction
from shipwise.server.storage.write_lock import WARN_AFTER, WriteLock

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x5348_4950  # "SHIP": the PostgreSQL advisory lock key for migrations
BUSY_TIMEOUT = 10.0  # seconds a write waits for another's lock: then "database locked"
CONNECT_TIMEOUT = 5  # seconds to open a PostgreSQL connection: then "unreachable"


def create_database_engine(url: str, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
            cursor.close()

        event.listen(engine, "connect", pragmas)
        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )

    # PostgreSQL's lock_timeout is SQLite's busy timeout: a write behind a lock held
    # elsewhere (a `LOCK TABLE` in psql) answers 503 instead of waiting for ever. Set
    # per session, not as a startup option, which PgBouncer refuses by default.
    def lock_timeout(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {round(busy_timeout * 1000)}")
        dbapi_connection.commit()

    event.listen(engine, "connect", lock_timeout)
    return engine


class Database:
    """The ``Store`` port over SQLAlchemy."""

    def __init__(
        self,
        url: str,
        bus: ChangeBus | None = None,
        clock: Callable[[], datetime] | None = None,
        busy_timeout: float = BUSY_TIMEOUT,
        stall_warning: float = WARN_AFTER,
    ) -> None:
        self.url = url
        self.engine = create_database_engine(url, busy_timeout)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._bus = bus
        self._clock = clock or (lambda: datetime.now(UTC))
        self._busy_timeout = busy_timeout
        # SQLite allows one writer; queueing writers here beats "database is locked".
        self._write_lock = WriteLock(stall_warning) if self.is_sqlite else None
        self._stall_warning = stall_warning
        self._trouble = Trouble(self.engine.url.render_as_string(hide_password=True))
        database = self.engine.url.database
        self._probe = StorageProbe(
            self.engine,
            self._trouble,
            self._write_lock,
            Path(database) if self.is_sqlite and database and database != ":memory:" else None,
            round(busy_timeout * 1000),
        )
        self._watch_statements()

    def _watch_statements(self) -> None:
        """Log a statement that took ``stall_warning`` seconds or more (on SQLite, mostly a wait
        for another connection's lock, up to the busy timeout), with who held this
        process's write lock: the next stall explains itself (write_lock.py)."""

        def started(conn: Any, *_args: Any) -> None:
            conn.info.setdefault("shipwise_started", []).append(time.monotonic())

        def finished(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            self._note_slow(conn, statement, "took")

        def failed(context: Any) -> None:
            statement = context.statement or ""
            self._note_slow(context.connection, statement, "failed after")

        self._listeners = (
            ("before_cursor_execute", started),
            ("after_cursor_execute", finished),
            ("handle_error", failed),
        )
        for name, listener in self._listeners:
            event.listen(self.engine, name, listener)

    def _note_slow(self, conn: Any, statement: str, what: str) -> None:
        starts = None if conn is None else conn.info.get("shipwise_started")
        if not starts:
            return
        took = time.monotonic() - starts.pop()
        if took < self._stall_warning:
            return
        lock = self._write_lock
        holder = lock.holder() if lock is not None else None
        log.warning(
            "a statement %s %.1f s (%s); this process's write lock: %s",
            what,
            took,
            " ".join(statement.split())[:200],
            (holder or "free") if lock is not None else "none (PostgreSQL)",
        )

    def attach_bus(self, bus: ChangeBus) -> None:
        self._bus = bus

    def now(self) -> datetime:
        """The injected clock every unit of work stamps with (``Store``)."""
        return self._clock()

    def upgrade(self, target: str = "head") -> None:
        """Apply every pending Alembic migration (up to ``target``: tests of a migration
        stop before it, write old data, then go on)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if not self.is_sqlite:
                # Another instance migrating may take longer than a write's lock wait.
                connection.execute(text("SET LOCAL lock_timeout = 0"))
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, target)

    def current_revision(self) -> str | None:
        # Only a missing alembic_version table means "not migrated": any other error (a
        # dropped connection, a refused login, a damaged table) propagates as the driver
        # error, which the CLI (database_errors) and the API already report,
        # rather than inviting a migration.
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """A write unit of work. Changes it records are published after commit."""
        lock = self._write_lock
        # Writers queued behind a long write (or one stuck on another process's lock)
        # give up when SQLite would: a 503 each, not a pile of requests waiting for ever.
        if lock is not None and not lock.acquire(timeout=self._busy_timeout):
            waited = f"another write of this server held the database for {self._busy_timeout:g} s"
            self._trouble.note(StorageProblem.BUSY, True, waited)
            raise StorageUnavailable(
                StorageProblem.BUSY, f"{waited}; retry shortly", RETRY_AFTER[StorageProblem.BUSY]
            )
        try:
            changes: list[Change] = []
            with self._translated(writing=True), self._sessions() as session, session.begin():
                yield SqlTransaction(session, self._clock, changes, self.is_sqlite)
        finally:
            if lock is not None:
                lock.release()
        self._trouble.over(writing=True)
        if changes and self._bus is not None:
            self._publish(self._bus, changes)

    def _publish(self, bus: ChangeBus, changes: list[Change]) -> None:
        try:
            bus.publish(changes)
        except Exception as error:  # the bus's own driver, whichever it is; others re-raised
            translated = translate(error, self.is_sqlite)
            if translated is None:
                raise
            # Saved but unheard: say so, so the person repeats it (a repeat announces it).
            self._trouble.note(translated.problem, True, first_line(error))
            raise StorageUnavailable(
                translated.problem,
                "the change was saved but other instances were not told of it, so SDK "
                f"streams may not have it yet: {translated.advice}; repeat the change",
                translated.retry_after,
            ) from error

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        """A read-only unit of work: rolled back at the end, never committed, so a write
        made in it by mistake is dropped (as the memory store drops it) rather than kept
        without its audit record or revision bump."""
        with self._translated(writing=False), self._sessions() as session:
            try:
                yield SqlTransaction(session, self._clock, None, self.is_sqlite)
            finally:
                session.rollback()
        self._trouble.over(writing=False)

    @contextmanager
    def _translated(self, writing: bool) -> Iterator[None]:
        """Driver errors an operator must act on leave as ``StorageUnavailable``; the
        session has rolled back and closed by the time they get here."""
        try:
            yield
        except (DBAPIError, PoolTimeout) as error:
            translated = translate(error, self.is_sqlite)
            if translated is None:
                raise
            self._trouble.note(translated.problem, writing, first_line(error))
            raise translated from error

    def health(self) -> StorageHealth:
        return self._probe.health()

    def cached_health(self) -> StorageHealth | None:
        return self._probe.cached()

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()
        # "handle_error" lives on the dialect, which SQLAlchemy's mappers keep in their
        # statement caches: left registered, it would keep this Database, its engine and
        # that engine's caches alive for as long as the process runs.
        for name, listener in self._listeners:
            if event.contains(self.engine, name, listener):
                event.remove(self.engine, name, listener)
