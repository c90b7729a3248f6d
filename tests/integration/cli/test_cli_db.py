"""``shipwise db upgrade`` on SQLite and PostgreSQL: migrates, says to which revision,
and a second run finds nothing to do."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from tests.integration.cli.cli_runner import Shipwise

from shipwise.server.bootstrap import open_database
from shipwise.server.settings import Settings


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _head(url: str) -> str | None:
    database = open_database(Settings(database_url=url))
    try:
        return database.current_revision()
    finally:
        database.dispose()


def test_db_upgrade__empty_database__migrates_and_prints_revision(
    shipwise: Shipwise, empty_database_url: str
) -> None:
    # When an empty database is upgraded
    result = shipwise("db", "upgrade", "--database-url", empty_database_url)

    # Then it has the schema and the output names the revision it is at
    assert result.exit_code == 0, result.output
    revision = _head(empty_database_url)
    assert revision is not None
    assert f"migrated from empty to revision {revision}" in result.stdout
    assert {"flags", "audit_log", "tokens"} <= _tables(empty_database_url)


def test_db_upgrade__twice__second_run_is_up_to_date(
    shipwise: Shipwise, empty_database_url: str
) -> None:
    first = shipwise.json("db", "upgrade", "--database-url", empty_database_url)
    second = shipwise.json("db", "upgrade", "--database-url", empty_database_url)
    assert first["previous"] is None
    assert second["previous"] == second["revision"] == first["revision"]
    assert "up to date" in shipwise("db", "upgrade", "--database-url", empty_database_url).stdout


def test_db_upgrade__data_dir__creates_sqlite_file_there(
    shipwise: Shipwise, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    result = shipwise("db", "upgrade", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "audit_log" in _tables(f"sqlite:///{data_dir / 'shipwise.db'}")


def test_db_upgrade__database_url_from_environment__is_used(
    shipwise: Shipwise, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    result = shipwise("db", "upgrade", env={"SHIPWISE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "audit_log" in _tables(url)


def test_db_upgrade__unreachable_postgresql__says_what_to_check_and_exits_2(
    shipwise: Shipwise,
) -> None:
    result = shipwise("db", "upgrade", "--database-url", "postgresql://ops:secret@127.0.0.1:1/x")
    assert result.exit_code == 2
    assert "cannot open the database postgresql+psycopg://ops:***@127.0.0.1:1/x" in result.stderr
    assert "secret" not in result.output
    assert "--database-url" in result.stderr


def test_db_upgrade__not_sqlite_or_postgresql__is_refused_as_usage(shipwise: Shipwise) -> None:
    result = shipwise("db", "upgrade", "--database-url", "mysql://db/shipwise")
    assert result.exit_code == 2
    assert "SQLite or PostgreSQL" in result.stderr
