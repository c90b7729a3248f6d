"""GET /releases filters by stage and status in the database, and a status that is
none of the four is a 422 naming the field (it used to match nothing, silently)."""

from __future__ import annotations

from dataclasses import replace

import httpx
from tests.integration.api.helpers import error_field
from tests.support.server import RunningServer

RELEASES = "/api/v1/projects/default/releases"


def _keys(admin: httpx.Client, **params: str) -> list[str]:
    response = admin.get(RELEASES, params=params)
    assert response.status_code == 200, response.text
    return [r["key"] for r in response.json()["releases"]]


def test_list_releases__by_status_and_stage__lists_only_those(
    sqlite_server: RunningServer, admin: httpx.Client
) -> None:
    for title in ("One", "Two", "Three"):
        assert admin.post(RELEASES, json={"title": title, "kind": "feature"}).status_code == 201
    abandoned = admin.post(f"{RELEASES}/rel-2/abandon", json={"reason": "not needed"})
    assert abandoned.status_code == 200, abandoned.text
    with sqlite_server.services.database.transaction() as tx:  # as if promoted into dev
        project = tx.get_project("default")
        assert project is not None
        third = tx.get_release(project.id, "rel-3")
        assert third is not None
        tx.save_release(replace(third, stage="dev"))

    assert _keys(admin) == ["rel-1", "rel-2", "rel-3"]
    assert _keys(admin, status="in-progress") == ["rel-1", "rel-3"]
    assert _keys(admin, status="abandoned") == ["rel-2"]
    assert _keys(admin, stage="dev") == ["rel-3"]
    assert _keys(admin, stage="dev", status="abandoned") == []


def test_list_releases__unknown_status__422_naming_status(admin: httpx.Client) -> None:
    response = admin.get(RELEASES, params={"status": "shipped"})

    assert response.status_code == 422
    assert error_field(response) == "status"
    assert "in-progress" in response.json()["error"]["message"]
