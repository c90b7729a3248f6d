"""The store contract, channels: a project's notification channels and the threads a
channel remembers. On the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.support.store_backend import START, Backend

from shipwise.server.ports import KeyTaken, Store


def _project(store: Store, key: str = "shop") -> int:
    with store.transaction() as tx:
        return tx.add_project(key, key.title(), "UTC").id


def test_channels__added__are_listed_in_order_and_found_by_id(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        first = tx.add_channel(
            project_id=project,
            name="releases",
            kind="slack",
            settings={"channel": "#releases"},
            sealed="gAAAA-sealed",
            created_by="ana",
        )
        tx.add_channel(
            project_id=project, name="log", kind="log", settings={}, sealed=None, created_by="ana"
        )

    with backend.store.read() as tx:
        listed = tx.list_channels(project)
        found = tx.get_channel(first.id)
        assert tx.get_channel(first.id + 100) is None
    assert [c.name for c in listed] == ["releases", "log"]
    assert found == first
    assert (found.settings, found.sealed, found.version) == (
        {"channel": "#releases"},
        "gAAAA-sealed",
        1,
    )
    assert found.created_at == START


def test_add_channel__a_name_the_project_has__is_key_taken(backend: Backend) -> None:
    project = _project(backend.store)
    other = _project(backend.store, "blog")
    with backend.store.transaction() as tx:
        tx.add_channel(
            project_id=project, name="ops", kind="log", settings={}, sealed=None, created_by="a"
        )
        tx.add_channel(
            project_id=other, name="ops", kind="log", settings={}, sealed=None, created_by="a"
        )

    with pytest.raises(KeyTaken), backend.store.transaction() as tx:
        tx.add_channel(
            project_id=project, name="ops", kind="log", settings={}, sealed=None, created_by="a"
        )


def test_update_channel__bumps_the_version_and_stamps_the_clock(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        added = tx.add_channel(
            project_id=project,
            name="ops",
            kind="email",
            settings={"port": 25},
            sealed="a",
            created_by="a",
        )
    backend.clock.advance(minutes=5)
    with backend.store.transaction() as tx:
        tx.update_channel(added.id, settings={"port": 587}, sealed="b")

    with backend.store.read() as tx:
        found = tx.get_channel(added.id)
    assert found is not None
    assert (found.settings, found.sealed, found.version) == ({"port": 587}, "b", 2)
    assert found.updated_at == START + timedelta(minutes=5)
    assert found.created_at == START


def test_channel_threads__remembered_replaced_and_gone_with_their_channel(backend: Backend) -> None:
    project = _project(backend.store)
    with backend.store.transaction() as tx:
        channel = tx.add_channel(
            project_id=project,
            name="releases",
            kind="slack",
            settings={},
            sealed="s",
            created_by="a",
        )
        tx.set_channel_thread(channel.id, "rollout-plan:1", "C1 1.0001")
        tx.set_channel_thread(channel.id, "rollout-plan:1", "C1 1.0002")
        tx.set_channel_thread(channel.id, "rollout-plan:2", "C1 1.0003")

    with backend.store.read() as tx:
        assert tx.channel_thread(channel.id, "rollout-plan:1") == "C1 1.0002"
        assert tx.channel_thread(channel.id, "rollout-plan:9") is None
    with backend.store.transaction() as tx:
        assert tx.remove_channel(channel.id) is True
        assert tx.remove_channel(channel.id) is False
    with backend.store.read() as tx:
        assert tx.get_channel(channel.id) is None
        assert tx.list_channels(project) == []
        assert tx.channel_thread(channel.id, "rollout-plan:2") is None
