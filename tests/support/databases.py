"""Database fixtures for every test (a plugin of tests/conftest.py): a SQLite file and a
PostgreSQL database of the test's own.

`database_url` runs a test once per database (ids "sqlite" and "postgresql");
`postgres_url` gives PostgreSQL only, for tests that need two servers on one database.
Both yield a SQLAlchemy URL of a database already at the newest migration, exactly as a
server's first start leaves it: migrated once per test process, then copied for each
test (SQLite: the file; PostgreSQL: `CREATE DATABASE ... TEMPLATE`), which is a third
of the time of migrating each. Tests of migrating itself take `empty_database_url` or
`empty_postgres_url`.

PostgreSQL comes from `SHIPWISE_TEST_POSTGRES_URL`, which scripts/test sets after starting
a private cluster. Every test gets a database of its own, created for it and dropped after
it (`WITH (FORCE)`, so connections left open cannot keep it alive). Without the variable
the PostgreSQL tests fail rather than skip: a suite that silently loses half its databases
would pass for the wrong reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from shipwise.server.storage.database import Database

POSTGRES_URL_VARIABLE = "SHIPWISE_TEST_POSTGRES_URL"


def _libpq_dsn(url: URL, database: str) -> str:
    """The psycopg connection string for `database` on the server of a SQLAlchemy URL."""
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def _postgres_server() -> URL:
    raw = os.environ.get(POSTGRES_URL_VARIABLE)
    if not raw:
        pytest.fail(
            f"{POSTGRES_URL_VARIABLE} is not set: run scripts/test, which starts PostgreSQL",
            pytrace=False,
        )
    return make_url(raw)


@contextmanager
def _fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    """A new database (a copy of ``template`` when given), dropped afterwards."""
    server = _postgres_server()
    name = f"shipwise_test_{uuid.uuid4().hex[:16]}"
    maintenance = _libpq_dsn(server, "postgres")
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(create)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        database.upgrade()
    finally:
        database.dispose()  # a template with a connection open cannot be copied


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    """The name of a database at the newest migration, for this test process to copy."""
    with _fresh_postgres_database() as url:
        _migrate(url)
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest migration, for this test process to copy."""
    path = tmp_path_factory.mktemp("migrated") / "shipwise.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of a database at the newest migration: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "shipwise.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        with _fresh_postgres_database(request.getfixturevalue("_postgres_template")) as url:
            yield url


@pytest.fixture
def postgres_url(_postgres_template: str) -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL database of this test's own, at the newest migration."""
    with _fresh_postgres_database(_postgres_template) as url:
        yield url


@pytest.fixture
def migrated_sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A SQLAlchemy URL of a SQLite file of this test's own, at the newest migration."""
    path = tmp_path / "shipwise.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database, never migrated: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shipwise.db'}"
    else:
        with _fresh_postgres_database() as url:
            yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of an empty PostgreSQL database of this test's own."""
    with _fresh_postgres_database() as url:
        yield url
