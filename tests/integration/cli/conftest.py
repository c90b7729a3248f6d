"""Fixtures for the CLI tests: the command (see cli_runner.py), and one real server
(SQLite) per module with the options that point the command at it as its first admin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer, running_server


@pytest.fixture
def shipwise(tmp_path: Path) -> Shipwise:
    return Shipwise(tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server (SQLite) for a module's tests; each test uses projects of its own."""
    with running_server(data_dir=tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def remote(server: RunningServer) -> tuple[str, ...]:
    """The options that point a command at the test server as its first admin."""
    return ("--url", server.url, "--token", server.admin_token)
