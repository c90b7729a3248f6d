"""The storage adapter on real SQLite and PostgreSQL: migrations, units of work, the
audit chain under concurrent writers, and publication after commit only."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from shipwise.domain.audit import verify_chain
from shipwise.server.ports import AuditEntry, Change
from shipwise.server.storage import communication_tables  # noqa: F401  (its tables on Base)
from shipwise.server.storage.database import MIGRATIONS, Database
from shipwise.server.storage.tables import Base


class RecordingBus:
    """A ChangeBus that remembers what was published (the port is ours; this records)."""

    def __init__(self) -> None:
        self.published: list[Change] = []

    def publish(self, changes: Sequence[Change]) -> None:
        self.published.extend(changes)

    def subscribe(self, listener: object) -> None:  # pragma: no cover - unused here
        raise NotImplementedError

    def close(self) -> None:
        pass


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def migrated_here(empty_database_url: str) -> Iterator[Database]:
    """An empty database migrated by this test's own ``upgrade``, not a copied one."""
    db = Database(empty_database_url)
    db.upgrade()
    yield db
    db.dispose()


def test_upgrade__creates_every_table__and_is_idempotent(migrated_here: Database) -> None:
    database = migrated_here
    tables = set(inspect(database.engine).get_table_names())
    assert {"projects", "environments", "flags", "flag_configs", "segments", "tokens"} <= tables
    assert {"audit_log", "audit_chain_head", "exposures", "alembic_version"} <= tables
    assert {"releases", "release_evidence", "deploys", "ci_results", "policies"} <= tables
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert database.current_revision() == head
    database.upgrade()
    assert database.current_revision() == head


def test_migrations__at_head__build_exactly_the_schema_the_tables_declare(
    migrated_here: Database,
) -> None:
    """A table, column or index added to tables.py without its migration (or the other way
    round) would work in tests that create tables one way and fail on an upgraded server."""
    with migrated_here.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "compare_server_default": False}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migration_0007__lowers_commits_written_before_the_edges_normalised_them(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    try:
        database.upgrade("0006")
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO projects (key, name, timezone, created_at) "
                    "VALUES ('p', 'P', 'UTC', '2026-12-01 10:00:00')"
                )
            )
            connection.execute(
                text(
                    'INSERT INTO ci_results (project_id, "commit", context, state, at) '
                    "SELECT id, :sha, 'ci', 'success', :at FROM projects"
                ),
                {"sha": "4F2A9C1E" * 5, "at": "2026-12-01 10:00:00"},
            )
        database.upgrade()
        with database.engine.connect() as connection:
            stored = connection.execute(text('SELECT "commit" FROM ci_results')).scalar_one()
        assert stored == "4f2a9c1e" * 5
    finally:
        database.dispose()


def _entry(actor: str, key: str) -> AuditEntry:
    return AuditEntry(actor=actor, action="x", target_type="t", target_key=key)


def _create_then_fail(database: Database) -> None:
    with database.transaction() as tx:
        tx.add_project("half", "Half", "UTC")
        tx.append_audit(_entry("t", "half"))
        raise RuntimeError("boom")


def test_transaction__failure__rolls_everything_back(database: Database) -> None:
    with pytest.raises(RuntimeError):
        _create_then_fail(database)
    with database.read() as tx:
        assert tx.get_project("half") is None
        assert list(tx.iter_audit()) == []


def test_touch__publishes_after_commit_only(database_url: str) -> None:
    bus = RecordingBus()
    database = Database(database_url, bus)
    database.upgrade()
    with database.transaction() as tx:
        project = tx.add_project("p", "P", "UTC")
        environment = tx.add_environment(project.id, "prod", "Prod", "main", 0)

    def touch_then_fail() -> None:
        with database.transaction() as tx:
            tx.touch([environment.id])
            raise RuntimeError("rolled back: nothing may be published")

    with pytest.raises(RuntimeError):
        touch_then_fail()
    assert bus.published == []
    with database.transaction() as tx:
        tx.touch([environment.id])
    assert bus.published == [Change(environment.id, 2)]
    database.dispose()


def test_audit_chain__concurrent_writers__stay_one_unbroken_chain(database: Database) -> None:
    # Given eight threads appending audit records at once
    def append(worker: int) -> None:
        for index in range(15):
            with database.transaction() as tx:
                tx.append_audit(_entry(f"w{worker}", str(index)))

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every record links to the one before it
    with database.read() as tx:
        chain = list(tx.iter_audit_chain())
    assert len(chain) == 120
    assert verify_chain(chain) == []


def test_audit_chain__edited_or_deleted_record__is_detected(database: Database) -> None:
    with database.transaction() as tx:
        for index in range(5):
            tx.append_audit(_entry("a", str(index)))
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
        connection.execute(text("DELETE FROM audit_log WHERE id = 4"))
    with database.read() as tx:
        breaks = verify_chain(list(tx.iter_audit_chain()))
    assert [(b.record_id, "edited" in b.problem) for b in breaks] == [(2, True), (5, False)]
