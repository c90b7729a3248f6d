"""What revision a database is at: only a missing alembic_version table means "not
migrated"; any other failure is reported, never mistaken for an empty database that a
migration should fill."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shipwise.server.storage.database import Database


def test_current_revision__empty_database__is_none(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        assert database.current_revision() is None
    finally:
        database.dispose()


def test_current_revision__version_table_unreadable__raises_rather_than_not_migrated(
    empty_database_url: str,
) -> None:
    # Given a version table the query cannot read (an error other than "no such table")
    database = Database(empty_database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (other INTEGER)"))

        # Then asking its revision reports the error instead of answering "not migrated"
        with pytest.raises(DBAPIError, match="version_num"):
            database.current_revision()
    finally:
        database.dispose()


def test_current_revision__postgresql_not_listening__reports_the_connection_problem() -> None:
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/shipwise")
    try:
        with pytest.raises(DBAPIError, match="Connection refused"):
            database.current_revision()
    finally:
        database.dispose()
