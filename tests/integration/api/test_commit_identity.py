"""One spelling per commit at every edge, against a real server on SQLite and PostgreSQL:
the gates (and SQL) compare commits exactly, so a release made with an upper-case SHA
must still go green from CI reported in lower case, and a short SHA, which would never
match the full one CI reports, is refused with a 422 naming the field and nothing stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.clock import ManualClock
from tests.support.github_webhooks import (
    HEAD,
    SECRET,
    WEDNESDAY_10,
    P,
    deliver,
    gate,
    ok,
    payload,
    state,
)
from tests.support.server import RunningServer, running_server

SHORT = HEAD[:7]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(
        database_url=database_url,
        data_dir=tmp_path,
        clock=ManualClock(WEDNESDAY_10),
        github_webhook_secret=SECRET,
    ) as running:
        yield running


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


def _release(admin: httpx.Client, commit: str) -> dict[str, Any]:
    body = {"title": "New checkout", "kind": "feature", "key": "rel-1", "commit": commit}
    return ok(admin.post(f"{P}/releases", json=body))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("made_with", "reported_as"), [(HEAD.upper(), HEAD), (HEAD, HEAD.upper())])
def test_release_and_ci_report_in_different_case__ci_gate_goes_green(
    admin: httpx.Client, made_with: str, reported_as: str
) -> None:
    assert _release(admin, made_with)["commit"] == HEAD
    report = {"commit": reported_as, "context": "ci/tests", "state": "success"}
    assert admin.post(f"{P}/ci", json=report).status_code == 201

    ci = gate(admin, "rel-1", "ci")
    assert ci["passed"] is True, ci


def test_release_and_deploy_report_in_different_case__previous_deploy_gate_goes_green(
    admin: httpx.Client,
) -> None:
    _release(admin, HEAD.upper())
    deploy = {"environment": "dev", "commit": HEAD}
    assert admin.post(f"{P}/deploys", json=deploy).status_code == 201

    previous = gate(admin, "rel-1", "previous-deploy", environment="staging")
    assert previous["passed"] is True, previous


@pytest.mark.parametrize("github_case", [str.lower, str.upper])
def test_github_status_webhook__sha_in_either_case__greens_an_upper_case_release(
    server: RunningServer, admin: httpx.Client, github_case: Any
) -> None:
    _release(admin, HEAD.upper())
    data = payload("status")
    data["sha"] = github_case(HEAD)
    assert deliver(server, "status", data).status_code == 202

    ci = gate(admin, "rel-1", "ci")
    assert ci["passed"] is True, ci


def _short_sha_requests() -> list[Any]:
    return [
        pytest.param(
            "POST", f"{P}/releases", {"title": "T", "kind": "feature", "commit": SHORT}, id="create"
        ),
        pytest.param("PATCH", f"{P}/releases/rel-1", {"commit": SHORT}, id="update"),
        pytest.param(
            "POST", f"{P}/ci", {"commit": SHORT, "context": "ci", "state": "success"}, id="ci"
        ),
        pytest.param("POST", f"{P}/deploys", {"environment": "dev", "commit": SHORT}, id="deploy"),
    ]


@pytest.mark.parametrize(("method", "path", "body"), _short_sha_requests())
def test_short_sha__422_naming_the_field__and_nothing_stored(
    admin: httpx.Client, method: str, path: str, body: dict[str, Any]
) -> None:
    _release(admin, HEAD)
    before = state(admin, "rel-1")

    response = admin.request(method, path, json=body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "commit"
    assert (
        f"commit '{SHORT}' is short: give the full 40-character SHA "
        f"(e.g. `git rev-parse {SHORT}`), since the gates compare whole commits"
    ) in error["message"]
    assert state(admin, "rel-1") == before
