"""The store contract, part one: projects, environments, flags, configs, segments,
snapshots, tokens, the audit chain, exposures and units of work. Every test runs on the
memory store, SQLite and PostgreSQL (``backend`` in conftest.py): the memory store is
trustworthy for service tests because it passes exactly these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from tests.support.store_backend import START, Backend

from shipwise.domain.audit import GENESIS, verify_chain
from shipwise.server.ports import (
    AuditEntry,
    AuditFilter,
    Change,
    ExposureCount,
    FlagConfig,
    KeyTaken,
    Project,
    Store,
    Transaction,
)


class _Failed(Exception):
    """What a unit of work under test raises after changing things."""


def _in_one_unit(store: Store, work: Callable[[Transaction], None]) -> None:
    with store.transaction() as tx:
        work(tx)


def _project(store: Store, key: str = "shop") -> Project:
    with store.transaction() as tx:
        return tx.add_project(key, key.title(), "Europe/Paris")


def test_projects__added__are_numbered_in_order_and_listed_by_key(backend: Backend) -> None:
    zed = _project(backend.store, "zed")
    alpha = _project(backend.store, "alpha")

    with backend.store.read() as tx:
        assert alpha.id > zed.id
        assert [p.key for p in tx.list_projects()] == ["alpha", "zed"]
        assert tx.get_project("zed") == zed
        assert zed.created_at == START
        assert tx.get_project("nope") is None


def test_add_project__when_the_key_is_taken__raises_key_taken_and_keeps_nothing(
    backend: Backend,
) -> None:
    _project(backend.store)

    def add_two(tx: Transaction) -> None:
        tx.add_project("other", "Other", "UTC")
        tx.add_project("shop", "Again", "UTC")

    with pytest.raises(KeyTaken, match="shop"):
        _in_one_unit(backend.store, add_two)

    with backend.store.read() as tx:
        assert [p.key for p in tx.list_projects()] == ["shop"]


def test_environments__are_listed_by_position__and_a_taken_key_raises(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        production = tx.add_environment(project.id, "production", "Production", "main", 2)
        staging = tx.add_environment(project.id, "staging", "Staging", "develop", 1)

    with backend.store.read() as tx:
        assert tx.list_environments(project.id) == [staging, production]
        assert tx.get_environment(project.id, "staging") == staging
        assert tx.get_environment_by_id(production.id) == production
        assert production.revision == 1
    with pytest.raises(KeyTaken), backend.store.transaction() as tx:
        tx.add_environment(project.id, "staging", "Again", "x", 3)


def test_touch__bumps_each_revision_once__and_is_refused_in_a_read(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        env = tx.add_environment(project.id, "dev", "Dev", "dev", 1)
    with backend.store.transaction() as tx:
        assert tx.touch([env.id, env.id]) == [Change(env.id, 2)]

    with backend.store.read() as tx:
        assert tx.get_environment_by_id(env.id) == replace(env, revision=2)
        with pytest.raises(RuntimeError):
            tx.touch([env.id])


def test_flags__added_updated_and_taken(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        b = tx.add_flag(project.id, "b-flag", "release", "ana", "second", ["x", "y"])
        a = tx.add_flag(project.id, "a-flag", "ops", None, None, [])
        tx.update_flag(replace(b, owner="bo", tags=("z",), archived=True))

    with backend.store.read() as tx:
        assert [f.key for f in tx.list_flags(project.id)] == ["a-flag", "b-flag"]
        assert tx.get_flag(project.id, "b-flag") == replace(
            b, owner="bo", tags=("z",), archived=True
        )
        assert tx.get_flag(project.id, "a-flag") == a
        assert a.tags == ()
        assert b.created_at == START
    with pytest.raises(KeyTaken, match="a-flag"), backend.store.transaction() as tx:
        tx.add_flag(project.id, "a-flag", "release", None, None, [])


def test_save_config__inserts_at_version_1_then_bumps__stamped_by_the_clock(
    backend: Backend,
) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        env = tx.add_environment(project.id, "dev", "Dev", "dev", 1)
        flag = tx.add_flag(project.id, "f", "release", None, None, [])
        first = tx.save_config(FlagConfig(flag.id, env.id, False, [], [], [], 0, START))
    backend.clock.advance(minutes=5)
    strategies = [{"name": "flexibleRollout", "parameters": {"rollout": "50"}}]
    with backend.store.transaction() as tx:
        current = tx.get_config(flag.id, env.id, for_update=True)
        assert current == first
        second = tx.save_config(replace(first, enabled=True, strategies=strategies))

    assert (first.version, second.version) == (1, 2)
    assert second.updated_at == START + timedelta(minutes=5)
    with backend.store.read() as tx:
        assert tx.configs_for_flag(flag.id) == [second]
        assert tx.get_config(flag.id, env.id) == second
        assert tx.get_config(flag.id, env.id + 99) is None


def test_segments__saved_versioned_listed_by_id_and_deleted(backend: Backend) -> None:
    project = _project(backend.store)
    constraint = {"contextName": "userId", "operator": "IN", "values": ["1"]}
    with backend.store.transaction() as tx:
        beta = tx.save_segment(project.id, "beta", "testers", [constraint])
        alpha = tx.save_segment(project.id, "alpha", None, [])
        beta2 = tx.save_segment(project.id, "beta", "testers v2", [])

    assert (beta.version, beta2.version, beta2.id) == (1, 2, beta.id)
    with backend.store.read() as tx:
        assert [s.name for s in tx.list_segments(project.id)] == ["beta", "alpha"]
        assert tx.get_segment(project.id, "alpha", for_update=True) == alpha
    with backend.store.transaction() as tx:
        assert tx.delete_segment(project.id, "alpha") is True
        assert tx.delete_segment(project.id, "alpha") is False
    with backend.store.read() as tx:
        assert tx.get_segment(project.id, "alpha") is None


def test_environment_state__holds_configured_unarchived_flags_by_key_and_the_segments(
    backend: Backend,
) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        env = tx.add_environment(project.id, "dev", "Dev", "dev", 1)
        for key in ("zeta", "alpha", "old", "unset"):
            flag = tx.add_flag(project.id, key, "release", None, None, [])
            if key != "unset":
                tx.save_config(FlagConfig(flag.id, env.id, True, [], [], [], 0, START))
            if key == "old":
                tx.update_flag(replace(flag, archived=True))
        tx.save_segment(project.id, "beta", None, [])

    with backend.store.read() as tx:
        state = tx.environment_state(env.id)
        assert tx.environment_state(env.id + 99) is None
    assert state is not None
    assert state.project == project
    assert state.environment == env
    assert [(f.key, c.version) for f, c in state.flags] == [("alpha", 1), ("zeta", 1)]
    assert [s.name for s in state.segments] == ["beta"]


def test_tokens__added_found_by_hash_listed_revoked_and_counted(backend: Backend) -> None:
    project = _project(backend.store)
    expires = START + timedelta(days=30)
    with backend.store.transaction() as tx:
        admin = tx.add_token(
            name="ci", kind="api", role="admin", project_id=None, environment_id=None,
            secret_hash="a" * 64, prefix="sw_api_", created_by="test", expires_at=None,
        )  # fmt: skip
        mine = tx.add_token(
            name="app", kind="server", role=None, project_id=project.id, environment_id=None,
            secret_hash="b" * 64, prefix="sw_srv_", created_by="test", expires_at=expires,
        )  # fmt: skip
        revoked = tx.revoke_token(admin.id, START + timedelta(hours=1))

    with backend.store.read() as tx:
        assert tx.find_token("b" * 64) == mine
        assert tx.find_token("c" * 64) is None
        assert tx.list_tokens(None) == [revoked, mine]
        assert tx.list_tokens(project.id) == [mine]
        assert tx.get_token(admin.id) == revoked
        assert tx.count_tokens() == 2
    assert revoked.revoked_at == START + timedelta(hours=1)
    assert mine.expires_at == expires


def test_audit__records_chain_from_genesis_and_verify(backend: Backend) -> None:
    with backend.store.read() as tx:
        assert tx.audit_chain_head() == GENESIS
    with backend.store.transaction() as tx:
        first = tx.append_audit(AuditEntry("ana", "flag.create", "flag", "f", project="shop"))
        backend.clock.advance(seconds=1)
        second = tx.append_audit(
            AuditEntry("bo", "flag.enable", "flag", "f", "shop", "dev", {"a": 1}, {"a": 2}, "why")
        )

    assert first.previous_hash == GENESIS
    assert second.previous_hash == first.hash
    assert second.id > first.id
    assert second.at == START + timedelta(seconds=1)
    with backend.store.read() as tx:
        assert tx.audit_chain_head() == second.hash
        assert list(tx.iter_audit()) == [first, second]
        assert verify_chain(tx.iter_audit_chain()) == []


def test_list_audit__filters_newest_first(backend: Backend) -> None:
    entries = [
        AuditEntry("token:Ana (#3)", "flag.create", "flag", "f", "shop", "dev"),
        AuditEntry("bo", "flag.enable", "flag", "f", "shop", "prod"),
        AuditEntry("bo", "segment.save", "segment", "beta", "other"),
        AuditEntry("cy", "flagged.x", "flag", "g", "shop"),
    ]
    with backend.store.transaction() as tx:
        for entry in entries:
            tx.append_audit(entry)
            backend.clock.advance(minutes=1)

    def actions(**query: object) -> list[str]:
        with backend.store.read() as tx:
            return [r.entry.action for r in tx.list_audit(AuditFilter(**query))]  # type: ignore[arg-type]

    assert actions() == ["flagged.x", "segment.save", "flag.enable", "flag.create"]
    assert actions(limit=2) == ["flagged.x", "segment.save"]
    assert actions(action="flag.*") == ["flag.enable", "flag.create"]
    assert actions(action="flag.enable") == ["flag.enable"]
    assert actions(actor="ana") == ["flag.create"]
    assert actions(project="shop", target_key="f", environment="prod") == ["flag.enable"]
    assert actions(target_type="segment") == ["segment.save"]
    since = START + timedelta(minutes=1)
    assert actions(since=since, until=since + timedelta(minutes=2)) == [
        "segment.save",
        "flag.enable",
    ]
    with backend.store.read() as tx:
        newest = tx.list_audit(AuditFilter(limit=1))[0]
    assert actions(before_id=newest.id) == ["segment.save", "flag.enable", "flag.create"]
    # The dashboard's live feed asks for what came after the newest record it has seen.
    assert actions(after_id=newest.id - 2) == ["flagged.x", "segment.save"]
    assert actions(after_id=newest.id) == []


def test_a_unit_of_work_that_raises__leaves_nothing_and_publishes_nothing(
    backend: Backend,
) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        env = tx.add_environment(project.id, "dev", "Dev", "dev", 1)
    with backend.store.read() as tx:
        head_before = tx.audit_chain_head()

    def change_then_fail(tx: Transaction) -> None:
        flag = tx.add_flag(project.id, "f", "release", None, None, [])
        tx.save_config(FlagConfig(flag.id, env.id, True, [], [], [], 0, START))
        tx.touch([env.id])
        tx.append_audit(AuditEntry("ana", "flag.create", "flag", "f"))
        tx.save_policy_source(project.id, "x = 1", START)
        raise _Failed

    with pytest.raises(_Failed):
        _in_one_unit(backend.store, change_then_fail)

    with backend.store.read() as tx:
        assert tx.list_flags(project.id) == []
        assert tx.get_environment_by_id(env.id) == env
        assert tx.audit_chain_head() == head_before
        assert list(tx.iter_audit()) == []
        assert tx.get_policy_source(project.id) is None


def test_a_read_unit_of_work__keeps_nothing_written_in_it(backend: Backend) -> None:
    # Given a project, read in a unit of work that (wrongly) writes
    project = _project(backend.store)
    with backend.store.read() as tx:
        tx.add_project("other", "Other", "UTC")
        tx.add_flag(project.id, "f", "release", None, None, [])
        tx.save_policy_source(project.id, "x = 1", START)

    # Then nothing of it is kept: a read has no audit record and no revision bump to
    # go with a change, so keeping one would be a change nobody can trace
    with backend.store.read() as tx:
        assert [p.key for p in tx.list_projects()] == ["shop"]
        assert tx.list_flags(project.id) == []
        assert tx.get_policy_source(project.id) is None


def test_exposures__totals_by_flag_with_variants__and_since_a_moment(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        env = tx.add_environment(project.id, "dev", "Dev", "dev", 1)
        assert tx.add_exposures(env.id, "web", {"f": ExposureCount(3, 1, {"a": 2})}) == 1
    backend.clock.advance(hours=1)
    with backend.store.transaction() as tx:
        tx.add_exposures(
            env.id, None, {"f": ExposureCount(2, 2, {"a": 1, "b": 1}), "g": ExposureCount(0, 5, {})}
        )

    with backend.store.read() as tx:
        assert tx.exposure_totals(env.id) == {
            "f": ExposureCount(5, 3, {"a": 3, "b": 1}),
            "g": ExposureCount(0, 5, {}),
        }
        later = START + timedelta(minutes=30)
        assert tx.exposures_since(env.id, "f", later) == ExposureCount(2, 2, {})
        assert tx.exposures_since(env.id, "f", START) == ExposureCount(5, 3, {})
        assert tx.exposure_totals(env.id + 99) == {}
