"""The database fixtures work: each database takes writes in transactions, every test gets a
database of its own (empty, or at the newest migration as a server's first start leaves
it), and PostgreSQL's LISTEN/NOTIFY delivers on commit only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url

from shipwise.server.storage.database import MIGRATIONS, Database

metadata = MetaData()
flags = Table(
    "flags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_empty_database_url__write_in_transaction__reads_back_and_rollback_discards(
    empty_database_url: str, request: pytest.FixtureRequest
) -> None:
    with _engine(empty_database_url) as engine:
        assert request.node.name.endswith(f"[{engine.dialect.name}]")
        assert inspect(engine).get_table_names() == []

        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(flags.insert().values(id=1, name="new-checkout"))
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(flags.insert().values(id=2, name="dark-mode"))
            transaction.rollback()

        with engine.connect() as conn:
            rows = conn.execute(select(flags.c.id, flags.c.name).order_by(flags.c.id)).all()
            assert [tuple(row) for row in rows] == [(1, "new-checkout")]
            assert conn.execute(select(func.count()).select_from(flags)).scalar_one() == 1


def test_empty_postgres_url__each_test__gets_a_fresh_database_of_its_own(
    empty_postgres_url: str,
) -> None:
    with _engine(empty_postgres_url) as engine, engine.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        assert name == make_url(empty_postgres_url).database
        assert name.startswith("shipwise_test_")
        assert inspect(conn).get_table_names() == []


def _at_head(url: str) -> None:
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tokens")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
        assert database.current_revision() == _head()
    finally:
        database.dispose()


def test_database_url__is_at_the_newest_migration__with_nothing_written(
    database_url: str,
) -> None:
    _at_head(database_url)


def test_postgres_url__each_test__gets_a_migrated_database_of_its_own(
    postgres_url: str, request: pytest.FixtureRequest
) -> None:
    _at_head(postgres_url)
    with _engine(postgres_url) as engine, engine.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        assert name == make_url(postgres_url).database
        assert name.startswith("shipwise_test_")
        # The copy is this test's alone: a write here is not in the next test's copy.
        conn.execute(
            text(
                "INSERT INTO projects (key, name, timezone, created_at) "
                "VALUES (:key, 'P', 'UTC', now())"
            ),
            {"key": request.node.name[:40]},
        )
        conn.commit()
    with _engine(postgres_url) as engine, engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM projects")).scalar_one() == 1


def _head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_notify__sent_inside_a_transaction__arrives_only_after_commit(postgres_url: str) -> None:
    dsn = _psycopg_dsn(postgres_url)
    with (
        psycopg.connect(dsn, autocommit=True) as listener,
        psycopg.connect(dsn) as sender,
    ):
        listener.execute("LISTEN flag_changes")
        sender.execute("SELECT pg_notify('flag_changes', 'new-checkout')")

        assert list(listener.notifies(timeout=0.3, stop_after=1)) == []

        sender.commit()
        received = list(listener.notifies(timeout=5, stop_after=1))
        assert [(n.channel, n.payload, n.pid) for n in received] == [
            ("flag_changes", "new-checkout", sender.info.backend_pid)
        ]
