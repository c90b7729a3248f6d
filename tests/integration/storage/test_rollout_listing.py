"""Listing rollout plans costs the same number of SQL statements whatever the number of
plans (the keys of each plan's project, flag, environment and release come in the same
query), on real SQLite and PostgreSQL; the filters run in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from shipwise.domain import rollout
from shipwise.domain.releases import ChangeKind, Release
from shipwise.domain.rollout import DEFAULT_PLAN
from shipwise.server.ports import RolloutPlanRecord
from shipwise.server.storage.database import Database

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url, clock=lambda: NOW)
    db.upgrade()
    yield db
    db.dispose()


def _seed(database: Database, project_key: str, plans: int) -> None:
    """A project with ``plans`` plans in staging, each on a flag of its own; plans 0, 2,
    4... belong to a release each, and plans 0, 3, 6... were aborted."""
    with database.transaction() as tx:
        project = tx.add_project(project_key, project_key, "UTC")
        tx.add_environment(project.id, "dev", "Dev", "dev", 0)
        staging = tx.add_environment(project.id, "staging", "Staging", "staging", 1)
        for i in range(plans):
            flag = tx.add_flag(project.id, f"flag-{i}", "release", None, None, ())
            release_id = None
            if i % 2 == 0:
                release = Release(
                    id=0,
                    project=project_key,
                    key=f"rel-{i + 1}",
                    title=f"Release of {flag.key}",
                    kind=ChangeKind.FEATURE,
                    owner="alice",
                    created_at=NOW,
                    content_changed_at=NOW,
                    flags=(flag.key,),
                )
                release_id = tx.add_release(project.id, release).id
            state = rollout.start(DEFAULT_PLAN, NOW)
            if i % 3 == 0:
                state = rollout.abort(state, NOW, "stopped by hand")
            tx.add_plan(
                project.id, flag.id, staging.id, release_id, DEFAULT_PLAN, state, None, "alice"
            )


def _listed(
    database: Database, project_key: str, flag: str | None = None, **filters: Any
) -> tuple[int, list[RolloutPlanRecord]]:
    """``list_plans`` in a fresh session, and the SQL statements it took."""
    statements: list[object] = []

    def count(*args: object) -> None:
        statements.append(args[2])

    with database.read() as tx:
        project = tx.get_project(project_key)
        assert project is not None
        if flag is not None:
            found = tx.get_flag(project.id, flag)
            assert found is not None
            filters["flag_id"] = found.id
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            plans = tx.list_plans(project.id, **filters)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
    return len(statements), plans


@pytest.mark.parametrize("active_only", [False, True], ids=["all", "active"])
def test_list_plans__50_plans__take_as_many_statements_as_5(
    database: Database, active_only: bool
) -> None:
    # Given two projects, one with 5 plans and one with 50
    _seed(database, "five", 5)
    _seed(database, "fifty", 50)
    # When each project's plans are listed
    five, listed_five = _listed(database, "five", active_only=active_only)
    fifty, listed_fifty = _listed(database, "fifty", active_only=active_only)
    # Then both take one statement, and list what was stored
    assert (five, fifty) == (1, 1)
    for plans, listed in ((5, listed_five), (50, listed_fifty)):
        wanted = [i for i in range(plans) if not (active_only and i % 3 == 0)]
        assert [p.flag for p in listed] == [f"flag-{i}" for i in wanted]


def test_list_plans__each_plan__is_what_reading_it_alone_gives(database: Database) -> None:
    _seed(database, "p", 6)
    _, plans = _listed(database, "p")
    assert [(p.project, p.flag, p.environment, p.release) for p in plans] == [
        ("p", "flag-0", "staging", "rel-1"),
        ("p", "flag-1", "staging", None),
        ("p", "flag-2", "staging", "rel-3"),
        ("p", "flag-3", "staging", None),
        ("p", "flag-4", "staging", "rel-5"),
        ("p", "flag-5", "staging", None),
    ]
    with database.read() as tx:
        assert plans == [tx.get_plan(p.id) for p in plans]


def test_list_plans__filtered_by_flag_and_activity__in_one_statement(database: Database) -> None:
    _seed(database, "p", 6)
    statements, plans = _listed(database, "p", flag="flag-2", active_only=True)
    assert (statements, [p.flag for p in plans]) == (1, ["flag-2"])
    statements, plans = _listed(database, "p", flag="flag-3", active_only=True)
    assert (statements, plans) == (1, [])  # flag-3's plan was aborted
