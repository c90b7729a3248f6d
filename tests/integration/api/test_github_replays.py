"""Replayed and late GitHub deliveries cannot fool a gate, against a real server on
SQLite and PostgreSQL, through the real route with real signatures.

A delivery the project already received (its ``X-GitHub-Delivery`` id, or its signed
body) answers 200 as a duplicate and changes nothing, not even the audit log. A CI
result or deploy older, by the time in its own payload, than the one recorded for its
commit and context is skipped with the reason. The release under test is rel-1, whose
commit is HEAD once its pull request is linked; the server's clock moves a minute
between deliveries, as a real one would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from tests.support.clock import ManualClock
from tests.support.github_webhooks import (
    EVENTS,
    NONE,
    SECRET,
    WEDNESDAY_10,
    deliver,
    fixture,
    gate,
    new_release,
    ok,
    payload,
    state,
)
from tests.support.server import RunningServer, running_server

from shipwise.server.services.github_intake import DELIVERY_RETENTION


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_10)


@pytest.fixture
def server(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(
        database_url=database_url, data_dir=tmp_path, clock=clock, github_webhook_secret=SECRET
    ) as running:
        yield running


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


@pytest.fixture
def release(server: RunningServer, admin: httpx.Client) -> str:
    key = new_release(admin)
    fixture(server, "pull_request.opened")  # rel-1's commit is now HEAD
    return key


def ci_result(kind: str, outcome: str, at: str) -> tuple[str, dict[str, Any]]:
    """A ``status`` or a completed ``check_suite`` on HEAD with ``outcome`` at ``at``
    (GitHub's own time for the event)."""
    if kind == "status":
        data = payload("status")
        data["state"], data["created_at"], data["updated_at"] = outcome, at, at
        return "status", data
    data = payload("check_suite.completed")
    data["check_suite"]["conclusion"] = outcome
    data["check_suite"]["updated_at"] = at
    return "check_suite", data


def send(
    server: RunningServer, clock: ManualClock, event: str, data: dict[str, Any] | bytes, **kw: Any
) -> httpx.Response:
    """A delivery a minute after the last one. (The one a test checks comes at the same
    minute as the state it compares with: some production gates show the time.)"""
    clock.advance(minutes=1)
    return deliver(server, event, data, **kw)


def ci_passes(admin: httpx.Client, release: str) -> bool:
    return bool(gate(admin, release, "ci")["passed"])


# -- repeated deliveries ---------------------------------------------------------------------


def test_success_failure_then_the_success_replayed__gate_stays_red_and_nothing_is_recorded(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock
) -> None:
    # Given d-ok (a success) then d-bad (a later failure): the gate went green, then red
    _, d_ok = ci_result("status", "success", "2026-12-02T09:20:55Z")
    _, d_bad = ci_result("status", "failure", "2026-12-02T09:40:00Z")
    assert send(server, clock, "status", d_ok, delivery="d-ok").status_code == 202
    assert ci_passes(admin, release)
    assert send(server, clock, "status", d_bad, delivery="d-bad").status_code == 202
    assert not ci_passes(admin, release)
    before = state(admin, release)

    # When d-ok is delivered again
    replay = deliver(server, "status", d_ok, delivery="d-ok")

    # Then it is a duplicate: 200, nothing changed, no audit record, the gate still red
    assert replay.status_code == 200, replay.text
    answer = replay.json()
    assert (answer["duplicate"], answer["applied"], answer["delivery"]) == (True, [], "d-ok")
    assert answer["skipped"][0].startswith("duplicate: the same delivery d-ok (status)")
    assert "applied CI ci/tests: success" in answer["skipped"][0]
    assert state(admin, release) == before


def test_the_same_signed_body_under_a_new_delivery_id__is_a_duplicate_too(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock
) -> None:
    _, d_ok = ci_result("status", "success", "2026-12-02T09:20:55Z")
    _, d_bad = ci_result("status", "failure", "2026-12-02T09:40:00Z")
    send(server, clock, "status", d_ok, delivery="d-ok")
    send(server, clock, "status", d_bad, delivery="d-bad")
    before = state(admin, release)

    replay = deliver(server, "status", d_ok, delivery="d-ok-under-another-id")

    assert replay.status_code == 200, replay.text
    assert replay.json()["duplicate"] is True
    assert "the same body as delivery d-ok" in replay.json()["skipped"][0]
    assert state(admin, release) == before


@pytest.mark.parametrize(
    "name",
    ["pull_request.synchronize", "pull_request_review.submitted", "push", "deployment_status"],
)
def test_any_event_delivered_again__answers_200_and_changes_nothing(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock, name: str
) -> None:
    event = EVENTS[name]
    first = send(server, clock, event, payload(name), delivery="d-first")
    assert first.status_code == 202, first.text
    before = state(admin, release)

    again = deliver(server, event, payload(name), delivery="d-first")

    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert state(admin, release) == before


def test_delivery_without_x_github_delivery__422_naming_the_header_and_nothing_changes(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock
) -> None:
    before = state(admin, release)
    _, failure = ci_result("status", "failure", "2026-12-02T09:40:00Z")

    response = deliver(server, "status", failure, delivery=NONE)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["status"], error["field"]) == (422, "X-GitHub-Delivery")
    assert "X-GitHub-Delivery" in error["message"]
    assert state(admin, release) == before


def test_the_same_delivery_eight_times_at_once__is_applied_once(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    _, failure = ci_result("status", "failure", "2026-12-02T09:40:00Z")
    body = json.dumps(failure).encode()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: deliver(server, "status", body, delivery="d-once"), range(8))
        )

    assert sorted(a.status_code for a in answers) == [200] * 7 + [202], [a.text for a in answers]
    records = ok(admin.get("/api/v1/audit", params={"target_type": "commit"}))["records"]
    assert [r["action"] for r in records] == ["ci.report"]


def test_delivery_ids__are_forgotten_after_the_retention__the_payload_time_still_holds(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock
) -> None:
    # Given d-old recorded, and still a duplicate a day before the retention ends
    _, old = ci_result("status", "success", "2026-12-02T09:20:55Z")
    send(server, clock, "status", old, delivery="d-old")
    clock.advance(seconds=(DELIVERY_RETENTION.total_seconds() - 86_400))
    assert send(server, clock, "status", old, delivery="d-old").status_code == 200

    # When the retention has passed and another delivery arrives
    clock.advance(days=2)
    _, newer = ci_result("status", "failure", "2026-12-20T09:00:00Z")
    assert send(server, clock, "status", newer, delivery="d-new").status_code == 202

    # Then d-old is forgotten: the table holds d-new only
    with server.services.database.engine.connect() as connection:
        kept = connection.execute(text("SELECT delivery FROM github_deliveries")).scalars()
        assert list(kept) == ["d-new"]
    # ... and d-old, accepted again, is older than the failure: skipped, the gate red
    before = state(admin, release)
    again = deliver(server, "status", old, delivery="d-old")
    assert (again.status_code, again.json()["duplicate"]) == (202, False)
    assert "older than the failure of 2026-12-20 09:00:00Z" in again.json()["skipped"][0]
    assert state(admin, release) == before


# -- results out of order --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["status", "check_suite"])
def test_older_success_arriving_after_a_newer_failure__is_skipped_and_the_gate_stays_red(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock, kind: str
) -> None:
    event, newer_failure = ci_result(kind, "failure", "2026-12-02T09:40:00Z")
    _, older_success = ci_result(kind, "success", "2026-12-02T09:20:55Z")
    assert send(server, clock, event, newer_failure).status_code == 202
    assert not ci_passes(admin, release)
    before = state(admin, release)

    late = deliver(server, event, older_success)

    assert late.status_code == 202, late.text
    assert late.json()["applied"] == []
    reason = late.json()["skipped"][0]
    assert "success on 4f2a9c1e8b7d at 2026-12-02 09:20:55Z" in reason
    assert "older than the failure of 2026-12-02 09:40:00Z already recorded" in reason
    assert state(admin, release) == before


@pytest.mark.parametrize("kind", ["status", "check_suite"])
def test_newer_success_after_an_older_failure__turns_the_gate_green(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock, kind: str
) -> None:
    event, failure = ci_result(kind, "failure", "2026-12-02T09:20:55Z")
    _, rerun = ci_result(kind, "success", "2026-12-02T09:40:00Z")
    send(server, clock, event, failure)
    assert not ci_passes(admin, release)
    assert send(server, clock, event, rerun).json()["skipped"] == []
    assert ci_passes(admin, release)


def test_green_and_red_of_the_same_second__red_stands_whichever_arrives_last(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock
) -> None:
    same = "2026-12-02T09:40:00Z"
    _, green = ci_result("status", "success", same)
    _, red = ci_result("status", "failure", same)
    send(server, clock, "status", green)
    assert send(server, clock, "status", red).json()["applied"] != []  # red over green
    assert not ci_passes(admin, release)

    # green again, the same second, as a new delivery (re-serialised: not a repeated body)
    late = send(server, clock, "status", json.dumps(green, indent=1).encode())

    assert late.json()["applied"] == []
    assert "from the same instant as the failure" in late.json()["skipped"][0]
    assert not ci_passes(admin, release)


def test_older_deployment_status_arriving_late__is_skipped(
    server: RunningServer, admin: httpx.Client, release: str, clock: ManualClock
) -> None:
    newer_failure = payload("deployment_status")
    newer_failure["deployment_status"].update(state="failure", updated_at="2026-12-02T09:55:00Z")
    older_success = payload("deployment_status")  # succeeded at 09:50:55
    assert send(server, clock, "deployment_status", newer_failure).status_code == 202
    before = state(admin, release)

    late = deliver(server, "deployment_status", older_success)

    assert late.json()["applied"] == []
    assert "older than the failure of 2026-12-02 09:55:00Z" in late.json()["skipped"][0]
    assert state(admin, release) == before
    deployed = gate(admin, release, "previous-deploy", "production")
    assert deployed["passed"] is False
    assert "failed" in deployed["detail"]
