"""Connecting to SQLite or PostgreSQL, migrating, and units of work.

SQLite is the embedded default (one file in the data directory, WAL mode). PostgreSQL
serves several server instances; migrations then run under an advisory lock so two
instances starting together do not both migrate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from shipwise.server.ports import Change, ChangeBus
from shipwise.server.storage.repository import SqlTransaction

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x5348_4950  # "SHIP": the PostgreSQL advisory lock key for migrations


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """The ``Store`` port over SQLAlchemy."""

    def __init__(
        self, url: str, bus: ChangeBus | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.url = url
        self.engine = create_database_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._bus = bus
        self._clock = clock or (lambda: datetime.now(UTC))
        # SQLite allows one writer; queueing writers here beats "database is locked".
        self._write_lock = threading.Lock() if self.is_sqlite else None

    def attach_bus(self, bus: ChangeBus) -> None:
        self._bus = bus

    def upgrade(self) -> None:
        """Apply every pending Alembic migration."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if not self.is_sqlite:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            try:
                row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
            except Exception:  # no table yet means no migration applied
                return None
        return None if row is None else str(row[0])

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """A write unit of work. Changes it records are published after commit."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            changes: list[Change] = []
            with self._sessions() as session, session.begin():
                yield SqlTransaction(session, self._clock, changes, self.is_sqlite)
        finally:
            if lock is not None:
                lock.release()
        if changes and self._bus is not None:
            self._bus.publish(changes)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self._sessions() as session, session.begin():
            yield SqlTransaction(session, self._clock, None, self.is_sqlite)

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()
