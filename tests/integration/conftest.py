"""Database fixtures for the integration tests: a SQLite file and a fresh PostgreSQL database.

`database_url` runs a test once per database (ids "sqlite" and "postgresql");
`postgres_url` gives PostgreSQL only, for tests that need two servers on one database.
Both yield a SQLAlchemy URL.

PostgreSQL comes from `SHIPWISE_TEST_POSTGRES_URL`, which scripts/test sets after starting
a private cluster. Every test gets a database of its own, created for it and dropped after
it (`WITH (FORCE)`, so connections left open cannot keep it alive). Without the variable
the PostgreSQL tests fail rather than skip: a suite that silently loses half its databases
would pass for the wrong reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

POSTGRES_URL_VARIABLE = "SHIPWISE_TEST_POSTGRES_URL"


def _libpq_dsn(url: URL, database: str) -> str:
    """The psycopg connection string for `database` on the server of a SQLAlchemy URL."""
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)


@contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    raw = os.environ.get(POSTGRES_URL_VARIABLE)
    if not raw:
        pytest.fail(
            f"{POSTGRES_URL_VARIABLE} is not set: run scripts/test, which starts PostgreSQL",
            pytrace=False,
        )
    server = make_url(raw)
    name = f"shipwise_test_{uuid.uuid4().hex[:16]}"
    maintenance = _libpq_dsn(server, "postgres")
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shipwise.db'}"
    else:
        with _fresh_postgres_database() as url:
            yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of an empty PostgreSQL database of this test's own."""
    with _fresh_postgres_database() as url:
        yield url
