"""The storage adapter when the database cannot serve, on real SQLite and PostgreSQL: a
full database, a lock held by another connection, a database that stops answering.
Each is the port's ``StorageUnavailable`` naming the problem, the unit of work is kept
whole or not at all (flags, audit records and the hash chain agree), and once the
cause is gone the same ``Database`` writes again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from tests.support.tcp_proxy import TcpProxy

from shipwise.server.ports import StorageProblem, StorageUnavailable
from shipwise.server.services.audit import AuditService
from shipwise.server.services.flags import FlagService
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.projects import ProjectService
from shipwise.server.storage.database import Database

BIG = "x" * 3000  # a description: each flag then needs pages of its own


def _ready(url: str, busy_timeout: float = 10.0) -> Database:
    database = Database(url, busy_timeout=busy_timeout)
    database.upgrade()
    ProjectService(database).create(SYSTEM, "default", "Default")
    return database


def _flag_count(database: Database) -> int:
    return len(FlagService(database).all(SYSTEM, "default"))


def _audit_count(database: Database) -> int:
    with database.read() as tx:
        return len(list(tx.iter_audit()))


def _chain_breaks(database: Database) -> list[Any]:
    return AuditService(database).verify()[1]


@pytest.fixture
def sqlite_database(tmp_path: Any) -> Iterator[Database]:
    database = _ready(f"sqlite:///{tmp_path / 'shipwise.db'}", busy_timeout=0.2)
    yield database
    database.dispose()


def test_transaction__when_sqlite_reaches_its_page_limit__raises_disk_full_and_keeps_nothing(
    sqlite_database: Database,
) -> None:
    # Given a database that may not grow past its current size (a genuine SQLITE_FULL)
    flags = FlagService(sqlite_database)
    flags.create(SYSTEM, "default", "before", description=BIG)
    with sqlite_database.read() as tx:
        pages = int(tx.session.connection().exec_driver_sql("PRAGMA page_count").scalar_one())

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(sqlite_database.engine, "connect", limit)
    sqlite_database.engine.dispose()
    flags_before, audit_before = _flag_count(sqlite_database), _audit_count(sqlite_database)

    # When flags are created until the database is full
    created = 0
    with pytest.raises(StorageUnavailable) as raised:  # noqa: PT012 (the 50th would be a bug)
        while created < 50:
            flags.create(SYSTEM, "default", f"f{created}", description=BIG)
            created += 1

    # Then the problem is named with what to do, and nothing was half-applied
    assert raised.value.problem is StorageProblem.DISK_FULL
    assert "free space" in raised.value.advice
    assert raised.value.retry_after == 60
    assert _flag_count(sqlite_database) == flags_before + created
    assert _audit_count(sqlite_database) == audit_before + created
    assert _chain_breaks(sqlite_database) == []

    # And once there is room again, writes work and the chain still verifies
    event.remove(sqlite_database.engine, "connect", limit)
    sqlite_database.engine.dispose()
    flags.create(SYSTEM, "default", "after", description=BIG)
    assert _flag_count(sqlite_database) == flags_before + created + 1
    assert _chain_breaks(sqlite_database) == []


def test_transaction__when_another_sqlite_connection_holds_the_write_lock__raises_locked(
    sqlite_database: Database,
) -> None:
    # Given a second real connection holding the write lock (a backup, a sqlite3 shell)
    path = sqlite_database.engine.url.database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # When a write waits out the busy timeout
        with pytest.raises(StorageUnavailable) as raised:
            FlagService(sqlite_database).create(SYSTEM, "default", "blocked")
        # Then it is "database locked", saying what to look for, and the health probe
        # (reads still work) reports the same
        assert raised.value.problem is StorageProblem.LOCKED
        assert "sqlite3 shell" in raised.value.advice
        health = sqlite_database.health()
        assert (health.ok, health.readable, health.problem) == (
            False,
            True,
            StorageProblem.LOCKED,
        )
    finally:
        holder.rollback()
        holder.close()
    # And when the lock is gone, the write goes through and the probe clears
    FlagService(sqlite_database).create(SYSTEM, "default", "blocked")
    assert _chain_breaks(sqlite_database) == []
    assert sqlite_database.health().ok


def test_transaction__when_postgresql_holds_a_table_lock__raises_locked(postgres_url: str) -> None:
    # Given a psql session holding an exclusive lock on the flags table
    database = _ready(postgres_url, busy_timeout=0.2)
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as holder:
        holder.execute("LOCK TABLE flags IN ACCESS EXCLUSIVE MODE")
        # When a write waits out lock_timeout (the busy timeout)
        with pytest.raises(StorageUnavailable) as raised:
            FlagService(database).create(SYSTEM, "default", "blocked")
        assert raised.value.problem is StorageProblem.LOCKED
        holder.rollback()
    # Then, the lock gone, the same write works and the chain verifies
    FlagService(database).create(SYSTEM, "default", "blocked")
    assert _chain_breaks(database) == []
    database.dispose()


def test_read__when_postgresql_stops_answering__raises_unreachable_until_it_returns(
    postgres_url: str,
) -> None:
    # Given a database reached through a link that can be cut (as a restart or a
    # network failure cuts it: open connections die, new ones are refused)
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    database = _ready(through)
    FlagService(database).create(SYSTEM, "default", "kept")
    try:
        proxy.cut()
        # When a read and a write are tried
        with pytest.raises(StorageUnavailable) as read:
            FlagService(database).all(SYSTEM, "default")
        with pytest.raises(StorageUnavailable) as write:
            FlagService(database).create(SYSTEM, "default", "lost")
        # Then both say the database does not answer, and so does the health probe
        assert read.value.problem is StorageProblem.UNREACHABLE
        assert write.value.problem is StorageProblem.UNREACHABLE
        assert "SHIPWISE_DATABASE_URL" in write.value.advice
        health = database.health()
        assert (health.ok, health.readable, health.problem) == (
            False,
            False,
            StorageProblem.UNREACHABLE,
        )
        # And when it answers again, so does the same Database
        proxy.restore()
        FlagService(database).create(SYSTEM, "default", "after")
        assert [f.flag.key for f in FlagService(database).all(SYSTEM, "default")] == [
            "after",
            "kept",
        ]
        assert _chain_breaks(database) == []
    finally:
        database.dispose()
        proxy.cut()
