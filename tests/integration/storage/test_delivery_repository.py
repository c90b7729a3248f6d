"""GitHub deliveries and the events' own times, on real SQLite and PostgreSQL: a claim
is per project, recognises a repeat by id or by body, lives and dies with its
transaction, and old claims are forgotten; the newest recorded event of a commit and
context is found by the event's time, not the row's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shipwise.domain.github_order import Recorded
from shipwise.server.ports import GitHubDelivery
from shipwise.server.storage.database import Database

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
SHA = "a" * 40


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def projects(database: Database) -> tuple[int, int]:
    with database.transaction() as tx:
        return tx.add_project("p", "P", "UTC").id, tx.add_project("q", "Q", "UTC").id


def receipt(delivery: str, body: str = "b1", at: datetime = NOW) -> GitHubDelivery:
    return GitHubDelivery(delivery, "status", body * 32, at)


def test_claim__a_new_delivery__is_recorded_and_a_repeat_by_id_or_body_returns_it(
    database: Database, projects: tuple[int, int]
) -> None:
    p, q = projects
    with database.transaction() as tx:
        assert tx.claim_delivery(p, receipt("d-1")) is None
        tx.settle_delivery(p, "d-1", ["CI build: success"], [])
    with database.transaction() as tx:
        by_id = tx.claim_delivery(p, receipt("d-1", body="b2"))
        by_body = tx.claim_delivery(p, receipt("d-2", body="b1"))
        elsewhere = tx.claim_delivery(q, receipt("d-1"))  # ids are per project
    assert (
        by_id == by_body == GitHubDelivery("d-1", "status", "b1" * 32, NOW, ("CI build: success",))
    )
    assert elsewhere is None


def test_claim__in_a_transaction_that_fails__is_not_remembered(
    database: Database, projects: tuple[int, int]
) -> None:
    p, _ = projects

    def claim_then_fail() -> None:
        with database.transaction() as tx:
            tx.claim_delivery(p, receipt("d-1"))
            raise RuntimeError("the delivery failed: GitHub may redeliver it")

    with pytest.raises(RuntimeError):
        claim_then_fail()
    with database.transaction() as tx:
        assert tx.claim_delivery(p, receipt("d-1")) is None


def test_claim__eight_at_once__exactly_one_is_new(
    database: Database, projects: tuple[int, int]
) -> None:
    p, _ = projects
    results: list[GitHubDelivery | None] = []
    start = threading.Barrier(8)

    def claim() -> None:
        start.wait()
        with database.transaction() as tx:
            results.append(tx.claim_delivery(p, receipt("d-1")))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False] * 7 + [True]


def test_forget_deliveries__drops_only_the_projects_older_ones(
    database: Database, projects: tuple[int, int]
) -> None:
    p, q = projects
    with database.transaction() as tx:
        tx.claim_delivery(p, receipt("old", body="o1", at=NOW - timedelta(days=31)))
        tx.claim_delivery(p, receipt("new", body="n1", at=NOW - timedelta(days=29)))
        tx.claim_delivery(q, receipt("old", body="o1", at=NOW - timedelta(days=31)))
    with database.transaction() as tx:
        assert tx.forget_deliveries(p, NOW - timedelta(days=30)) == 1
    with database.transaction() as tx:
        assert tx.claim_delivery(p, receipt("old", body="o1")) is None  # forgotten
        assert tx.claim_delivery(p, receipt("new", body="n1")) is not None
        assert tx.claim_delivery(q, receipt("old", body="o1")) is not None  # not q's


def test_last_ci_event__the_newest_by_event_time__api_reports_ignored(
    database: Database, projects: tuple[int, int]
) -> None:
    p, _ = projects
    t = NOW - timedelta(hours=1)
    with database.transaction() as tx:
        assert tx.last_ci_event(p, SHA, "build") is None
        tx.add_ci_result(p, SHA, "build", "failure", NOW, event_at=t + timedelta(minutes=5))
        tx.add_ci_result(p, SHA, "build", "success", NOW + timedelta(minutes=1), event_at=t)
        tx.add_ci_result(p, SHA, "build", "success", NOW + timedelta(minutes=2))  # the API's
        tx.add_ci_result(p, SHA, "lint", "success", NOW, event_at=t + timedelta(hours=1))
        tx.add_ci_result(p, "b" * 40, "build", "success", NOW, event_at=t + timedelta(hours=1))
    with database.read() as tx:
        assert tx.last_ci_event(p, SHA, "build") == Recorded(t + timedelta(minutes=5), "failure")


def test_last_ci_event__same_instant__the_last_recorded(
    database: Database, projects: tuple[int, int]
) -> None:
    p, _ = projects
    with database.transaction() as tx:
        tx.add_ci_result(p, SHA, "build", "success", NOW, event_at=NOW)
        tx.add_ci_result(p, SHA, "build", "failure", NOW, event_at=NOW)
    with database.read() as tx:
        assert tx.last_ci_event(p, SHA, "build") == Recorded(NOW, "failure")


def test_last_deploy_event__per_environment_and_commit(
    database: Database, projects: tuple[int, int]
) -> None:
    p, _ = projects
    t = NOW - timedelta(hours=1)
    with database.transaction() as tx:
        tx.add_deploy(p, "staging", SHA, False, "github:ci", NOW, event_at=t)
        tx.add_deploy(p, "staging", SHA, True, "github:ci", NOW, event_at=t - timedelta(minutes=1))
        tx.add_deploy(p, "production", SHA, True, "github:ci", NOW, event_at=NOW)
    with database.read() as tx:
        assert tx.last_deploy_event(p, "staging", SHA) == Recorded(t, "failure")
        assert tx.last_deploy_event(p, "dev", SHA) is None
