"""Labels through the API, on SQLite and PostgreSQL: given when a release starts or
later, they say what kind of change it is (``major`` makes a stage that asks for help
docs ask for them) and withdraw no approval; a bad one is a 422 naming it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import RunningServer, running_server

P = "/api/v1/projects/default"


@pytest.fixture
def admin(database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    with running_server(database_url=database_url, data_dir=tmp_path) as running:
        yield from _admin(running)


def _admin(running: RunningServer) -> Iterator[httpx.Client]:
    with running.admin() as client:
        yield client


def test_labels__given_at_the_start_and_changed_later__withdraw_no_approval(
    admin: httpx.Client,
) -> None:
    made = admin.post(
        f"{P}/releases", json={"title": "Checkout", "kind": "feature", "labels": ["beta"]}
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert made.json()["labels"] == ["beta"]

    changed = admin.patch(f"{P}/releases/{key}", json={"labels": ["major", "Major"]})

    assert changed.status_code == 200, changed.text
    assert changed.json()["labels"] == ["major"]
    assert changed.json()["content_version"] == made.json()["content_version"]


def test_a_bad_label__is_a_422_naming_it_and_changes_nothing(admin: httpx.Client) -> None:
    key = admin.post(f"{P}/releases", json={"title": "Checkout", "kind": "feature"}).json()["key"]

    refused = admin.patch(f"{P}/releases/{key}", json={"labels": ["HOTFIX"]})
    spaced = admin.patch(f"{P}/releases/{key}", json={"labels": ["big change"]})

    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "labels"
    assert "hotfix path" in refused.json()["error"]["message"]
    assert spaced.status_code == 422
    assert "'big change'" in spaced.json()["error"]["message"]
    assert admin.get(f"{P}/releases/{key}").json()["release"]["labels"] == []
