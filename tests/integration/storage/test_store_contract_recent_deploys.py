"""The store contract, recent deploys: the commits deployed successfully to one
environment of one project, each once at the time it began serving (its first success
after another commit's), newest first (what a ``compare: deploys`` metric reads). On the
memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.support.store_backend import START, Backend

from shipwise.server.ports import Store

HOUR = timedelta(hours=1)
A, B, C, D = "a" * 40, "b" * 40, "c" * 40, "d" * 40


def _projects(store: Store) -> tuple[int, int]:
    with store.transaction() as tx:
        return tx.add_project("shop", "Shop", "UTC").id, tx.add_project("blog", "Blog", "UTC").id


def test_recent_deploys__are_distinct_successful_commits_newest_first(backend: Backend) -> None:
    shop, blog = _projects(backend.store)
    with backend.store.transaction() as tx:
        tx.add_deploy(shop, "production", A, True, "ci", START)
        tx.add_deploy(shop, "production", B, True, "ci", START + HOUR)
        tx.add_deploy(shop, "production", C, False, "ci", START + 2 * HOUR)  # failed
        tx.add_deploy(shop, "production", A, True, "ci", START + 3 * HOUR)  # a revert to A
        tx.add_deploy(shop, "staging", D, True, "ci", START + 4 * HOUR)  # elsewhere
        tx.add_deploy(blog, "production", D, True, "ci", START + 5 * HOUR)  # another project

    with backend.store.read() as tx:
        assert tx.recent_deploys(shop, "production", 2) == [
            (A, START + 3 * HOUR),
            (B, START + HOUR),
        ]
        assert tx.recent_deploys(shop, "production", 1) == [(A, START + 3 * HOUR)]
        assert tx.recent_deploys(shop, "staging", 5) == [(D, START + 4 * HOUR)]
        assert tx.recent_deploys(shop, "dev", 5) == []


def test_recent_deploys__a_commit_that_only_failed__is_not_listed(backend: Backend) -> None:
    shop, _ = _projects(backend.store)
    with backend.store.transaction() as tx:
        tx.add_deploy(shop, "production", A, True, "ci", START)
        tx.add_deploy(shop, "production", B, False, "ci", START + HOUR)
        tx.add_deploy(shop, "production", B, False, "ci", START + 2 * HOUR)

    with backend.store.read() as tx:
        assert tx.recent_deploys(shop, "production", 5) == [(A, START)]


def test_recent_deploys__a_commit_reported_again_while_serving__keeps_the_time_it_began(
    backend: Backend,
) -> None:
    # A, B, A (a revert), and the revert reported twice more (CI re-runs): A began serving
    # again at 3h, not at its first deploy ever (0h) nor at its last report (5h); B's
    # re-run at 2h leaves B at 1h too.
    shop, _ = _projects(backend.store)
    with backend.store.transaction() as tx:
        tx.add_deploy(shop, "production", A, True, "ci", START)
        tx.add_deploy(shop, "production", B, True, "ci", START + HOUR)
        tx.add_deploy(shop, "production", B, True, "ci", START + 2 * HOUR)  # re-run
        tx.add_deploy(shop, "production", A, True, "ci", START + 3 * HOUR)  # the revert
        tx.add_deploy(shop, "production", C, False, "ci", START + 4 * HOUR)  # failed: A stays
        tx.add_deploy(shop, "production", A, True, "ci", START + 5 * HOUR)  # re-run
        tx.add_deploy(shop, "production", A, True, "gh", START + 5 * HOUR)  # same moment

    with backend.store.read() as tx:
        assert tx.recent_deploys(shop, "production", 5) == [
            (A, START + 3 * HOUR),
            (B, START + HOUR),
        ]
