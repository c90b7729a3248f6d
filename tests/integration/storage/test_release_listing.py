"""Listing releases costs the same number of SQL statements whatever the number of
releases (their pull requests come in one query for all), on real SQLite and
PostgreSQL; the stage and status filters run in SQL. On every store (memory too), the
next automatic number is the highest "rel-<n>" plus one, whatever keys were given by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from tests.support.store_backend import Backend

from shipwise.domain.releases import ChangeKind, PullRequest, Release, ReleaseStatus
from shipwise.server.storage.database import Database

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url, clock=lambda: NOW)
    db.upgrade()
    yield db
    db.dispose()


def _release(project: str, key: str) -> Release:
    return Release(
        id=0,
        project=project,
        key=key,
        title=f"Release {key}",
        kind=ChangeKind.FEATURE,
        owner="alice",
        created_at=NOW,
        content_changed_at=NOW,
    )


def _seed(database: Database, project_key: str, releases: int) -> int:
    """A project with ``releases`` releases, each with two pull requests; every third
    released, every other one in staging. Its id."""
    with database.transaction() as tx:
        project = tx.add_project(project_key, project_key, "UTC")
        for i in range(releases):
            pulls = (PullRequest(2 * i + 1, "first"), PullRequest(2 * i + 2, "second"))
            added = tx.add_release(project.id, _release(project_key, f"rel-{i + 1}"))
            status = ReleaseStatus.RELEASED if i % 3 == 0 else ReleaseStatus.IN_PROGRESS
            stage = "staging" if i % 2 == 0 else "dev"
            tx.save_release(replace(added, pull_requests=pulls, status=status, stage=stage))
        return project.id


def _statements_to_list(database: Database, project_id: int, **filters: Any) -> int:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])  # before_cursor_execute(conn, cursor, statement, ...)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with database.read() as tx:
            listed = tx.list_releases(project_id, **filters)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert listed, "the listing found nothing to count"
    return len(statements)


def test_list_releases__fifty_releases__costs_the_statements_of_five(database: Database) -> None:
    few = _seed(database, "few", 5)
    many = _seed(database, "many", 50)

    # Before: one query for each release's pull requests, so 50 cost 45 more than 5.
    assert _statements_to_list(database, many) == _statements_to_list(database, few)


def test_list_releases__fifty_releases__each_with_its_own_pull_requests(
    database: Database,
) -> None:
    project_id = _seed(database, "shop", 50)

    with database.read() as tx:
        listed = tx.list_releases(project_id)

    assert [r.key for r in listed] == [f"rel-{i + 1}" for i in range(50)]
    assert [[p.number for p in r.pull_requests] for r in listed] == [
        [2 * i + 1, 2 * i + 2] for i in range(50)
    ]
    assert {r.project for r in listed} == {"shop"}


def test_list_releases__by_stage_and_status__returns_only_those_in_the_same_statements(
    database: Database,
) -> None:
    project_id = _seed(database, "shop", 12)

    with database.read() as tx:
        released = tx.list_releases(project_id, status=ReleaseStatus.RELEASED)
        in_staging = tx.list_releases(project_id, stage="staging")
        both = tx.list_releases(project_id, stage="staging", status=ReleaseStatus.IN_PROGRESS)

    assert [r.key for r in released] == ["rel-1", "rel-4", "rel-7", "rel-10"]
    assert [r.key for r in in_staging] == ["rel-1", "rel-3", "rel-5", "rel-7", "rel-9", "rel-11"]
    assert [r.key for r in both] == ["rel-3", "rel-5", "rel-9", "rel-11"]
    assert [[p.number for p in r.pull_requests] for r in both] == [
        [5, 6],
        [9, 10],
        [17, 18],
        [21, 22],
    ]
    assert _statements_to_list(
        database, project_id, stage="staging", status=ReleaseStatus.IN_PROGRESS
    ) == _statements_to_list(database, project_id)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param([], 1, id="none-yet"),
        pytest.param(["rel-1", "rel-3"], 4, id="a-manual-key-past-the-count"),
        pytest.param(["rel-1", "hotfix-login", "checkout"], 2, id="other-keys-do-not-count"),
        pytest.param(["rel-9", "rel-10", "rel-2"], 11, id="numbers-not-text-order"),
        pytest.param(["rel-1", "rel-x7", "rel-"], 2, id="only-digits-count"),
        pytest.param(["rel-1", "rel-" + "9" * 19], 2, id="too-long-to-be-a-number"),
    ],
)
def test_next_release_number__is_one_past_the_highest_automatic_number(
    backend: Backend, keys: list[str], expected: int
) -> None:
    with backend.store.transaction() as tx:
        project = tx.add_project("shop", "Shop", "UTC")
        other = tx.add_project("other", "Other", "UTC")
        tx.add_release(other.id, _release("other", "rel-99"))  # another project's
        for key in keys:
            tx.add_release(project.id, _release("shop", key))

    with backend.store.read() as tx:
        assert tx.next_release_number(project.id) == expected
