"""The store contract, part three: dashboard sessions and one-time sign-in links. On
the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from tests.support.store_backend import START, Backend

from shipwise.server.ports import KeyTaken, Store, TokenRecord, Transaction


def _in_one_unit(store: Store, work: Callable[[Transaction], None]) -> None:
    with store.transaction() as tx:
        work(tx)


def _token(store: Store, name: str = "ana") -> TokenRecord:
    with store.transaction() as tx:
        return tx.add_token(
            name=name,
            kind="api",
            role="admin",
            project_id=None,
            environment_id=None,
            secret_hash=(name[0] * 64),
            prefix="sw_api_x",
            created_by="system",
            expires_at=None,
        )


def test_web_sessions__added__are_found_by_hash_stamped_by_the_clock_and_touched(
    backend: Backend,
) -> None:
    token = _token(backend.store)
    with backend.store.transaction() as tx:
        added = tx.add_web_session(
            id_hash="s" * 64,
            token_id=token.id,
            csrf="c" * 43,
            expires_at=START + timedelta(hours=12),
        )
    backend.clock.advance(minutes=10)
    with backend.store.transaction() as tx:
        tx.touch_web_session(added.id, backend.clock())

    with backend.store.read() as tx:
        found = tx.find_web_session("s" * 64)
        assert tx.find_web_session("t" * 64) is None
    assert found is not None
    assert (found.id, found.token_id, found.csrf) == (added.id, token.id, "c" * 43)
    assert (found.created_at, found.expires_at) == (START, START + timedelta(hours=12))
    assert found.last_seen_at == START + timedelta(minutes=10)
    assert found.revoked_at is None


def test_revoke_web_session__ends_it_once__and_a_second_end_changes_nothing(
    backend: Backend,
) -> None:
    token = _token(backend.store)
    with backend.store.transaction() as tx:
        added = tx.add_web_session(
            id_hash="s" * 64, token_id=token.id, csrf="c", expires_at=START + timedelta(hours=1)
        )
    with backend.store.transaction() as tx:
        first = tx.revoke_web_session(added.id, START + timedelta(minutes=1))
        second = tx.revoke_web_session(added.id, START + timedelta(minutes=2))

    with backend.store.read() as tx:
        found = tx.find_web_session("s" * 64)
    assert (first, second) == (True, False)
    assert found is not None
    assert found.revoked_at == START + timedelta(minutes=1)


def test_add_web_session__with_a_hash_in_use__raises_key_taken(backend: Backend) -> None:
    token = _token(backend.store)
    with backend.store.transaction() as tx:
        tx.add_web_session(id_hash="s" * 64, token_id=token.id, csrf="c", expires_at=START)

    with pytest.raises(KeyTaken), backend.store.transaction() as tx:
        tx.add_web_session(id_hash="s" * 64, token_id=token.id, csrf="d", expires_at=START)


def test_sign_in_links__are_found_by_hash__and_used_exactly_once(backend: Backend) -> None:
    token = _token(backend.store)
    with backend.store.transaction() as tx:
        link = tx.add_sign_in_link(
            code_hash="l" * 64,
            token_id=token.id,
            created_by="token:root (#1, admin)",
            expires_at=START + timedelta(minutes=15),
        )
    with backend.store.transaction() as tx:
        first = tx.use_sign_in_link(link.id, START + timedelta(minutes=1))
    with backend.store.transaction() as tx:
        second = tx.use_sign_in_link(link.id, START + timedelta(minutes=2))

    with backend.store.read() as tx:
        found = tx.find_sign_in_link("l" * 64)
        assert tx.find_sign_in_link("m" * 64) is None
    assert (first, second) == (True, False)
    assert found is not None
    assert (found.token_id, found.created_by) == (token.id, "token:root (#1, admin)")
    assert (found.created_at, found.expires_at) == (START, START + timedelta(minutes=15))
    assert found.used_at == START + timedelta(minutes=1)


def test_use_sign_in_link__in_a_unit_of_work_that_fails__leaves_the_link_unused(
    backend: Backend,
) -> None:
    token = _token(backend.store)
    with backend.store.transaction() as tx:
        link = tx.add_sign_in_link(
            code_hash="l" * 64, token_id=token.id, created_by="x", expires_at=START
        )

    def use_then_fail(tx: Transaction) -> None:
        assert tx.use_sign_in_link(link.id, START)
        raise RuntimeError("the session could not be made")

    with pytest.raises(RuntimeError, match="could not be made"):
        _in_one_unit(backend.store, use_then_fail)

    with backend.store.read() as tx:
        found = tx.find_sign_in_link("l" * 64)
    assert found is not None
    assert found.used_at is None


def test_purge_sign_ins__deletes_sessions_and_links_that_ended_before_the_cut__and_keeps_the_rest(
    backend: Backend,
) -> None:
    token = _token(backend.store)
    cut = START + timedelta(days=2)
    with backend.store.transaction() as tx:
        tx.add_web_session(
            id_hash="a" * 64, token_id=token.id, csrf="c", expires_at=cut - timedelta(hours=1)
        )
        ended = tx.add_web_session(
            id_hash="b" * 64, token_id=token.id, csrf="c", expires_at=cut + timedelta(days=1)
        )
        tx.revoke_web_session(ended.id, START + timedelta(hours=1))
        alive = tx.add_web_session(
            id_hash="c" * 64, token_id=token.id, csrf="c", expires_at=cut + timedelta(hours=1)
        )
        ended_after = tx.add_web_session(
            id_hash="d" * 64, token_id=token.id, csrf="c", expires_at=cut + timedelta(hours=1)
        )
        tx.revoke_web_session(ended_after.id, cut + timedelta(minutes=1))
        tx.add_sign_in_link(
            code_hash="e" * 64, token_id=token.id, created_by="a", expires_at=cut - timedelta(1)
        )
        used_link = tx.add_sign_in_link(
            code_hash="f" * 64, token_id=token.id, created_by="a", expires_at=cut + timedelta(1)
        )
        tx.use_sign_in_link(used_link.id, START + timedelta(minutes=5))
        fresh_link = tx.add_sign_in_link(
            code_hash="g" * 64, token_id=token.id, created_by="a", expires_at=cut + timedelta(1)
        )

    with backend.store.transaction() as tx:
        purged = tx.purge_sign_ins(cut)
    with backend.store.transaction() as tx:
        again = tx.purge_sign_ins(cut)

    with backend.store.read() as tx:
        sessions = {h: tx.find_web_session(h * 64) for h in "abcd"}
        links = {h: tx.find_sign_in_link(h * 64) for h in "efg"}
    assert (purged, again) == (4, 0)
    assert (sessions["a"], sessions["b"], links["e"], links["f"]) == (None, None, None, None)
    assert sessions["c"] is not None
    assert sessions["c"].id == alive.id
    assert sessions["d"] is not None
    assert sessions["d"].id == ended_after.id
    assert links["g"] is not None
    assert links["g"].id == fresh_link.id
