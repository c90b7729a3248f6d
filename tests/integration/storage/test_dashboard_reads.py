"""The dashboard's widest reads cost the same number of SQL statements whatever the
number of rows, on real SQLite and PostgreSQL: every flag's configurations in one read
(``configs_for_project``), a page of the flags table (its flags, their configurations and
a count, ``FlagService.page``) and the board (every card's evidence in one read,
``evidence_for``). Before, each cost a query per flag or card."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import event

from shipwise.domain.releases import ChangeKind, Release
from shipwise.server.ports.flags import FlagQuery
from shipwise.server.services.flags import FlagService
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.projects import ProjectService
from shipwise.server.services.release_board import ReleaseBoard
from shipwise.server.services.release_policy import ReleasePolicy
from shipwise.server.services.releases import ReleaseService
from shipwise.server.storage.database import Database

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
T = TypeVar("T")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url, clock=lambda: NOW)
    db.upgrade()
    yield db
    db.dispose()


def _statements(database: Database, read: Callable[[], T]) -> tuple[int, T]:
    """How many SQL statements ``read`` sends, and what it returns."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])  # before_cursor_execute(conn, cursor, statement, ...)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        result = read()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    return len(statements), result


def _project_with_flags(database: Database, key: str, flags: int) -> None:
    ProjectService(database).create(SYSTEM, key, key)
    service = FlagService(database)
    for i in range(flags):
        service.create(SYSTEM, key, f"flag-{i:03}")


def test_flags_all__fifty_flags__costs_the_statements_of_five(database: Database) -> None:
    _project_with_flags(database, "few", 5)
    _project_with_flags(database, "many", 50)
    flags = FlagService(database)

    few, _ = _statements(database, lambda: flags.all(SYSTEM, "few"))
    many, listed = _statements(database, lambda: flags.all(SYSTEM, "many"))

    # Before: one configs_for_flag query per flag, so 50 flags cost 45 more than 5.
    assert many == few
    assert len(listed) == 50
    assert {tuple(view.configs) for view in listed} == {("dev", "staging", "production")}
    assert {c.flag_id for view in listed for c in view.configs.values()} == {
        view.flag.id for view in listed
    }


def _project_with_releases(database: Database, key: str, releases: int) -> None:
    """A project with ``releases`` releases in dev, each with a commit, an approval, a CI
    result and a deploy of its own: every card has evidence to read."""
    ProjectService(database).create(SYSTEM, key, key)
    with database.transaction() as tx:
        project = tx.get_project(key)
        assert project is not None
        for i in range(releases):
            release = Release(
                id=0,
                project=key,
                key=f"rel-{i + 1}",
                title=f"Release {i + 1}",
                kind=ChangeKind.FEATURE,
                owner="alice",
                created_at=NOW,
                content_changed_at=NOW,
            )
            added = tx.add_release(project.id, release)
            commit = f"{i + 1:040x}"
            saved = tx.save_release(replace(added, stage="dev", commit=commit))
            tx.add_evidence(saved, "approval", "staging", "bo", NOW, {"roles": ["release-manager"]})
            tx.add_ci_result(project.id, commit, "ci/test", "success", NOW)
            tx.add_deploy(project.id, "dev", commit, True, "ci", NOW)


def test_board__fifty_cards_with_evidence__costs_the_statements_of_five(
    database: Database,
) -> None:
    _project_with_releases(database, "few", 5)
    _project_with_releases(database, "many", 50)
    board = ReleaseBoard(database, ReleasePolicy())

    few, _ = _statements(database, lambda: board.board(SYSTEM, "few"))
    many, shown = _statements(database, lambda: board.board(SYSTEM, "many"))

    # Before: three evidence queries per card (its rows, its commit's CI, its deploys).
    assert many == few
    cards = [card for column in shown.columns for card in column.cards]
    assert len(cards) == 50
    # Each card judged on its own evidence: what holds it back is the first unmet gate of
    # the API's gate check, which reads one release's evidence at a time.
    releases = ReleaseService(database, ReleasePolicy())
    for card in cards:
        check = releases.gate_check(SYSTEM, "many", card.release.key, None)
        assert card.blocking == (check.unmet[0] if check.unmet else None), card.release.key


def test_flags_page__a_page_of_fifty_among_120_flags__costs_the_statements_of_one_among_five(
    database: Database,
) -> None:
    _project_with_flags(database, "few", 5)
    _project_with_flags(database, "many", 120)
    flags = FlagService(database)
    query = FlagQuery()

    few, _ = _statements(database, lambda: flags.page(SYSTEM, "few", query, limit=50))
    many, listing = _statements(
        database, lambda: flags.page(SYSTEM, "many", query, offset=50, limit=50)
    )

    # The page's flags and their configurations only, and the count of the rest.
    assert many == few
    assert [view.flag.key for view in listing.views] == [f"flag-{i:03}" for i in range(50, 100)]
    assert listing.total == 120
    assert {tuple(view.configs) for view in listing.views} == {("dev", "staging", "production")}
    assert listing.environments == ["dev", "staging", "production"]
