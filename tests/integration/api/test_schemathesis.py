"""Schemathesis against the running server's /openapi.json, as the global admin: for
every admin operation, generated requests, valid and invalid, never get a 5xx, and
every answer has a documented status and matches the schema given for it.

Bounded: a few examples per operation and mode, so a walk stays well under a minute.
It runs on SQLite and on PostgreSQL, which refuses more than SQLite does (NUL
characters, over-long values): those must be 422s from the API, not 500s from the
database.

Schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) cannot run
under pytest 9: it reads ``request.node._nodeid``, which pytest 9 no longer has. So each
operation's Hypothesis strategy (schemathesis' documented ``as_strategy``) is driven
here with ``@given``, one subtest per operation and generation mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from tests.support.server import RunningServer, running_server

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
EXAMPLES = 12  # per operation and mode: about 30 operations x 2 modes


@pytest.fixture
def running(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        with server.admin() as admin:
            # Something for generated requests to find: the keys Hypothesis tries first.
            admin.post("/api/v1/projects/default/flags", json={"key": "0"})
            admin.post("/api/v1/projects/default/segments", json={"name": "0", "constraints": []})
        yield server


def _walk(
    operation: schemathesis.APIOperation, mode: GenerationMode, server: RunningServer
) -> None:
    headers = {"Authorization": f"Bearer {server.admin_token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same walk every run: a failure is reproducible
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def walk(case: schemathesis.Case) -> None:
        # Revoking the token that drives the walk would leave nothing to test with.
        if (case.path_parameters or {}).get("token_id") == 1:
            return
        # 30 s is a hang guard like the other test clients' (schemathesis waits 10 s by
        # default; a rare ~10 s stall in full runs is under investigation, issue 12).
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    walk()


def test_admin_api__conforms_to_its_openapi_document(
    running: RunningServer, subtests: pytest.Subtests
) -> None:
    auth = {"Authorization": f"Bearer {running.admin_token}"}
    schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json", headers=auth)
    operations = [r.ok() for r in schema.include(path_regex="^/api/v1/").get_all_operations()]
    assert len(operations) >= 25  # the whole admin API, not a filter gone wrong
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with subtests.test(operation=operation.label, mode=mode.value):
                _walk(operation, mode, running)
