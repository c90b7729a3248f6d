"""``any_store``: the same store-contract test on the memory store, SQLite and
PostgreSQL (each real, each empty), with a clock the test sets by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.store_backend import START, Backend

from shipwise.server.ports.memory import MemoryStore
from shipwise.server.storage.database import Database


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    clock = ManualClock(START)
    if request.param == "memory":
        yield Backend(MemoryStore(clock), clock, "memory")
        return
    url = (
        f"sqlite:///{tmp_path / 'shipwise.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    database = Database(url, clock=clock)
    database.upgrade()
    try:
        yield Backend(database, clock, request.param)
    finally:
        database.dispose()
