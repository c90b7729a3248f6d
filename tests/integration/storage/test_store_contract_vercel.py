"""The store contract, Vercel drains: nearest-rank percentiles (the rank exact), moments,
counts of 5xx answers (of the requests that have a status), filters by route,
environment and deployment, pruning in batches, and the links from Vercel deployments
to commits. On the memory store, SQLite and PostgreSQL, which
must give the same numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.support.store_backend import START, Backend

from shipwise.domain.nearest_rank import nearest_rank
from shipwise.server.ports import Store
from shipwise.server.ports.vercel import (
    EVENT,
    REQUEST,
    VITAL,
    DrainQuery,
    DrainRecord,
    Moments,
    VercelDeployment,
)

HOUR = timedelta(hours=1)


def _project(store: Store) -> int:
    with store.transaction() as tx:
        return (tx.get_project("shop") or tx.add_project("shop", "Shop", "UTC")).id


def _lcp(value: float, minutes: int = 0, **where: str) -> DrainRecord:
    return DrainRecord(VITAL, START + timedelta(minutes=minutes), "LCP", value, **where)  # type: ignore[arg-type]


def _query(project: int, kind: str = VITAL, name: str = "LCP", **more: object) -> DrainQuery:
    return DrainQuery(project, kind, name, START, START + HOUR, **more)  # type: ignore[arg-type]


def test_drain_percentile__of_ten_values__is_the_nearest_rank(backend: Backend) -> None:
    project = _project(backend.store)
    values = [900.0, 100.0, 500.0, 300.0, 700.0, 200.0, 1000.0, 400.0, 800.0, 600.0]
    with backend.store.transaction() as tx:
        assert tx.add_drain_records(project, [_lcp(v) for v in values], START) == 10

    with backend.store.read() as tx:
        assert tx.drain_percentile(_query(project), 0.75) == (800.0, 10)  # ceil(7.5) = 8th
        assert tx.drain_percentile(_query(project), 0.5) == (500.0, 10)
        assert tx.drain_percentile(_query(project), 1.0) == (1000.0, 10)
        assert tx.drain_percentile(_query(project), 0.0) == (100.0, 10)
        assert tx.drain_percentile(_query(project, name="INP"), 0.75) == (None, 0)


def test_drain_percentile__p55_of_a_hundred__is_the_55th_not_the_56th(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        tx.add_drain_records(project, [_lcp(float(v)) for v in range(1, 101)], START)

    with backend.store.read() as tx:
        assert tx.drain_percentile(_query(project), 0.55) == (55.0, 100)
        assert tx.drain_percentile(_query(project), 0.07) == (7.0, 100)


@pytest.mark.parametrize("count", [1, 3, 7, 10, 99, 100, 1000, 12345])
def test_nearest_rank__every_percent__is_the_exact_ceiling(count: int) -> None:
    for percent in range(1, 100):
        exact = -(-percent * count // 100) - 1  # ceil(percent · count / 100) - 1, in integers
        assert nearest_rank(count, percent / 100) == max(exact, 0), percent
    assert (nearest_rank(count, 0.0), nearest_rank(count, 1.0)) == (0, count - 1)


def test_drain_queries__filter_by_window_route_environment_and_deployment(
    backend: Backend,
) -> None:
    project = _project(backend.store)
    records = [
        _lcp(100, route="/a", environment="production", deployment="dpl_1"),
        _lcp(200, route="/b", environment="production", deployment="dpl_2"),
        _lcp(300, route="/a", environment="preview", deployment="dpl_3"),
        _lcp(5000, minutes=60, route="/a", environment="production", deployment="dpl_1"),
        _lcp(7000, minutes=-1, route="/a", environment="production", deployment="dpl_1"),
    ]
    with backend.store.transaction() as tx:
        tx.add_drain_records(project, records, START)
        other = tx.add_project("blog", "Blog", "UTC").id
        tx.add_drain_records(other, [_lcp(9999)], START)

    with backend.store.read() as tx:
        assert tx.drain_percentile(_query(project), 1.0) == (300.0, 3)  # [since, until)
        assert tx.drain_percentile(_query(project, route="/a"), 1.0) == (300.0, 2)
        assert tx.drain_percentile(_query(project, environment="production"), 1.0) == (200.0, 2)
        assert tx.drain_percentile(_query(project, deployments=("dpl_1", "dpl_3")), 0.0) == (
            100.0,
            2,
        )
        assert tx.drain_counts(_query(project, deployments=())) == (0, 0)


def test_drain_moments__sum_values_and_their_squares(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        tx.add_drain_records(project, [_lcp(1.5), _lcp(2.0), _lcp(4.0)], START)

    with backend.store.read() as tx:
        assert tx.drain_moments(_query(project)) == Moments(3, 7.5, 2.25 + 4.0 + 16.0)
        assert tx.drain_moments(_query(project, name="CLS")) == Moments(0, 0.0, 0.0)


def test_drain_counts__count_requests_and_their_5xx_answers_and_events(backend: Backend) -> None:
    project = _project(backend.store)
    statuses = [200, 201, 404, 500, 503, 599, 302]
    requests = [DrainRecord(REQUEST, START, "request", 12.0, s, "/api") for s in statuses]
    events = [DrainRecord(EVENT, START, "Signup") for _ in range(4)]
    with backend.store.transaction() as tx:
        tx.add_drain_records(project, [*requests, *events], START)

    with backend.store.read() as tx:
        assert tx.drain_counts(_query(project, REQUEST, "request")) == (7, 3)
        assert tx.drain_counts(_query(project, REQUEST, "request", route="/api")) == (7, 3)
        assert tx.drain_counts(_query(project, EVENT, "Signup")) == (4, 0)
        assert tx.drain_counts(_query(project, EVENT, "pageview")) == (0, 0)


def test_drain_counts__requests_without_a_status__are_in_neither_number(
    backend: Backend,
) -> None:
    project = _project(backend.store)
    spans = [DrainRecord(REQUEST, START, "span", 12.0, s) for s in (200, 503, None, None)]
    with backend.store.transaction() as tx:
        tx.add_drain_records(project, spans, START)
        tx.add_drain_records(project, [DrainRecord(REQUEST, START, "span", 9.0)], START)

    with backend.store.read() as tx:
        assert tx.drain_counts(_query(project, REQUEST, "span")) == (2, 1)  # a half, not a quarter
        assert tx.drain_percentile(_query(project, REQUEST, "span"), 1.0) == (12.0, 5)


def test_prune_drain_records__forgets_the_oldest_first_at_most_the_limit(
    backend: Backend,
) -> None:
    project = _project(backend.store)
    old = [_lcp(float(v), minutes=-60 - v) for v in range(5)]
    with backend.store.transaction() as tx:
        tx.add_drain_records(project, [*old, _lcp(1.0)], START)

    with backend.store.transaction() as tx:
        assert tx.prune_drain_records(START, limit=2) == 2
    window = DrainQuery(project, VITAL, "LCP", START - 10 * HOUR, START + HOUR)
    with backend.store.read() as tx:
        assert tx.drain_percentile(window, 1.0) == (2.0, 4)  # 4.0 and 3.0 went first
    with backend.store.transaction() as tx:
        assert tx.prune_drain_records(START) == 3
        assert tx.prune_drain_records(START) == 0
    with backend.store.read() as tx:
        assert tx.drain_percentile(window, 1.0) == (1.0, 1)


def test_vercel_deployments__link_to_a_commit_and_a_relink_moves_them(backend: Backend) -> None:
    project = _project(backend.store)
    commit_a, commit_b = "a" * 40, "b" * 40
    with backend.store.transaction() as tx:
        tx.link_vercel_deployment(VercelDeployment(project, "dpl_2", "production", commit_a, START))
        tx.link_vercel_deployment(
            VercelDeployment(project, "dpl_1", "production", commit_a, START - HOUR)
        )
        tx.link_vercel_deployment(VercelDeployment(project, "dpl_3", "staging", commit_a, START))
    with backend.store.read() as tx:
        assert tx.vercel_deployments(project, "production", commit_a) == ("dpl_1", "dpl_2")

    with backend.store.transaction() as tx:
        tx.link_vercel_deployment(
            VercelDeployment(project, "dpl_2", "production", commit_b, START + HOUR)
        )
    with backend.store.read() as tx:
        assert tx.vercel_deployments(project, "production", commit_a) == ("dpl_1",)
        assert tx.vercel_deployments(project, "production", commit_b) == ("dpl_2",)
        assert tx.vercel_deployments(project, "staging", commit_b) == ()
