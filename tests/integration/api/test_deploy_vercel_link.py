"""A deploy report naming its Vercel deployment, through a real server on SQLite and
PostgreSQL: a successful deploy ties the deployment to its commit and environment in the
deploy's own transaction (its audit record names it); an id that is not Vercel's is a
422 naming ``vercel_deployment`` with nothing recorded, not even the deploy; a failed
deploy records the deploy but links nothing, since its deployment served nobody."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import RunningServer, running_server

from shipwise.server.ports import AuditFilter

P = "/api/v1/projects/default"
COMMIT = "4f2a9c1e" * 5
DEPLOYMENT = "dpl_2YjTyBpWVEXBpbTA2XvkX3bYb4Dh"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url, tmp_path) as running:
        yield running


def _deploy(server: RunningServer, **body: Any) -> httpx.Response:
    with server.admin() as admin:
        return admin.post(f"{P}/deploys", json={"environment": "production", **body})


def _linked(server: RunningServer, environment: str = "production") -> tuple[str, ...]:
    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        return tx.vercel_deployments(project.id, environment, COMMIT)


def _deploy_audit(server: RunningServer) -> list[dict[str, Any]]:
    with server.services.store.read() as tx:
        records = tx.list_audit(AuditFilter(project="default", action="deploy.report"))
        return [dict(record.entry.after or {}) for record in records]


def test_deploy_with_a_vercel_deployment__links_it_to_the_commit_and_environment(
    server: RunningServer,
) -> None:
    answer = _deploy(server, commit=COMMIT, vercel_deployment=DEPLOYMENT)

    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "recorded": True,
        "vercel_deployment": DEPLOYMENT,
        "vercel_linked": True,
    }
    assert _linked(server) == (DEPLOYMENT,)
    assert _linked(server, "staging") == ()
    [audit] = _deploy_audit(server)
    assert audit["vercel_deployment"] == DEPLOYMENT
    assert audit["commit"] == COMMIT


def test_deploy_without_a_vercel_deployment__answers_as_before_and_links_nothing(
    server: RunningServer,
) -> None:
    answer = _deploy(server, commit=COMMIT)

    assert answer.status_code == 201, answer.text
    assert answer.json() == {"recorded": True, "vercel_deployment": None, "vercel_linked": False}
    assert _linked(server) == ()
    [audit] = _deploy_audit(server)
    assert "vercel_deployment" not in audit


@pytest.mark.parametrize(
    "bad",
    [
        "2YjTyBpWVEXBpbTA2XvkX3bYb4Dh",
        "dpl_",
        "dpl_abc-def",
        "https://shop-abc123.vercel.app",
        "DPL_abc",
        "dpl_" + "a" * 200,
        "dpl_abc\n",
    ],
    ids=["no-prefix", "prefix-only", "dash", "url", "upper-prefix", "too-long", "newline"],
)
def test_deploy_with_a_malformed_vercel_deployment__is_422_naming_it_and_records_nothing(
    server: RunningServer, bad: str
) -> None:
    answer = _deploy(server, commit=COMMIT, vercel_deployment=bad)

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "vercel_deployment", error
    assert "vercel_deployment" in error["message"], error
    assert _linked(server) == ()
    assert _deploy_audit(server) == []  # no deploy either


def test_failed_deploy_with_a_vercel_deployment__records_the_deploy_and_links_nothing(
    server: RunningServer,
) -> None:
    answer = _deploy(server, commit=COMMIT, succeeded=False, vercel_deployment=DEPLOYMENT)

    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "recorded": True,
        "vercel_deployment": DEPLOYMENT,
        "vercel_linked": False,
    }
    assert _linked(server) == ()
    [audit] = _deploy_audit(server)
    assert audit == {"commit": COMMIT, "succeeded": False, "vercel_deployment": DEPLOYMENT}


def test_deploy_to_an_unknown_environment_with_a_vercel_deployment__is_404_and_links_nothing(
    server: RunningServer,
) -> None:
    answer = _deploy(server, commit=COMMIT, vercel_deployment=DEPLOYMENT, environment="nowhere")

    assert answer.status_code == 404, answer.text
    assert _linked(server, "nowhere") == ()
    assert _deploy_audit(server) == []


def test_the_same_deployment_reported_again_for_another_commit__follows_the_latest_report(
    server: RunningServer,
) -> None:
    other = "9a8b7c6d" * 5
    assert _deploy(server, commit=other, vercel_deployment=DEPLOYMENT).status_code == 201
    assert _deploy(server, commit=COMMIT, vercel_deployment=DEPLOYMENT).status_code == 201

    assert _linked(server) == (DEPLOYMENT,)
    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        assert tx.vercel_deployments(project.id, "production", other) == ()
