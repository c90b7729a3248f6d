"""A real server per test for the admin API tests (shared calls are in `helpers`).

`server` runs on each database (`database_url`: SQLite, then PostgreSQL) for the tests
where the database matters (versions, concurrency, the audit chain); `sqlite_server`
runs on SQLite only, for the API's own behaviour (validation, shapes, roles).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import RunningServer, running_server


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path) as running:
        yield running


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[RunningServer]:
    url = f"sqlite:///{tmp_path / 'shipwise.db'}"
    with running_server(database_url=url, data_dir=tmp_path) as running:
        yield running


@pytest.fixture
def admin(sqlite_server: RunningServer) -> Iterator[httpx.Client]:
    """The global admin's client on a SQLite server."""
    with sqlite_server.admin() as client:
        yield client
