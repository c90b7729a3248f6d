"""Services stamp times with the injected clock, never the wall clock: under a simulated
clock (``shipwise simulate``, SHIPWISE_CLOCK_START) a stale change request is stamped
with the simulated time, like everything the store stamps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.api.helpers import as_token, create_flag, issue, rules_path
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

# Far from any real "now", so a wall-clock stamp cannot pass for the clock's.
LONG_AGO = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
CR = "/api/v1/projects/default/change-requests"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    clock = ManualClock(LONG_AGO)
    with running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as running:
        yield running


def test_stale_change_request__under_a_simulated_clock__is_stamped_with_the_clocks_time(
    server: RunningServer,
) -> None:
    # Given a request to switch a flag on, based on its current version
    with server.admin() as admin:
        create_flag(admin, "bulk-edit", kind="operational")
        alice = as_token(server, issue(admin, kind="api", project="default", role="developer"))
        with alice:
            body = {"kind": "flag", "flag": "bulk-edit", "environment": "production"}
            rules = {"enabled": True, "strategies": [{"name": "default"}]}
            opened = alice.post(CR, json={**body, "rules": rules, "reason": "asked"})
            assert opened.status_code == 201, opened.text

            # When the flag changes under it
            changed = admin.post(f"{rules_path('bulk-edit')}/disable")
            assert changed.status_code == 200, changed.text

            # Then the request went stale at the clock's time, not the wall clock's
            shown = alice.get(f"{CR}/{opened.json()['id']}").json()
    assert shown["state"] == "stale"
    assert datetime.fromisoformat(shown["updated_at"]) == LONG_AGO
