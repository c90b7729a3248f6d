"""Projects and environments through the admin API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import create_flag, error_field, newest_audit_id

PROJECTS = "/api/v1/projects"


def test_first_start__has_the_default_project_with_its_pipeline(admin: httpx.Client) -> None:
    projects = admin.get(PROJECTS).json()["projects"]
    assert [p["key"] for p in projects] == ["default"]
    environments = admin.get(f"{PROJECTS}/default/environments").json()["environments"]
    assert [(e["key"], e["branch"], e["position"]) for e in environments] == [
        ("dev", "dev", 0),
        ("staging", "staging", 1),
        ("production", "main", 2),
    ]


def test_create_project__with_its_own_pipeline__reads_back_and_is_audited(
    admin: httpx.Client,
) -> None:
    body = {
        "key": "shop",
        "name": "Shop",
        "timezone": "Europe/Oslo",
        "environments": [{"key": "test"}, {"key": "live", "name": "Live", "branch": "main"}],
    }
    response = admin.post(PROJECTS, json=body)
    assert response.status_code == 201, response.text
    project = response.json()
    assert (project["key"], project["name"], project["timezone"]) == ("shop", "Shop", "Europe/Oslo")
    assert [(e["key"], e["name"], e["branch"]) for e in project["environments"]] == [
        ("test", "test", "test"),
        ("live", "Live", "main"),
    ]
    assert admin.get(f"{PROJECTS}/shop").json() == project
    record = admin.get("/api/v1/audit", params={"project": "shop"}).json()["records"][0]
    assert (record["action"], record["after"]["timezone"]) == ("project.create", "Europe/Oslo")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"key": "shop", "owner": "x"}, 422, "owner", id="unknown-field"),
        pytest.param({"key": 7}, 422, "key", id="wrong-type"),
        pytest.param({"key": "Shop!"}, 422, "key", id="bad-key"),
        pytest.param({"name": "Shop"}, 422, "key", id="missing-key"),
        pytest.param(
            {"key": "shop", "timezone": "Mars/Olympus"}, 422, "timezone", id="unknown-zone"
        ),
        pytest.param(
            {"key": "shop", "environments": []}, 422, "environments", id="no-environments"
        ),
        pytest.param(
            {"key": "shop", "environments": [{"key": "a"}, {"key": "a"}]},
            422,
            "environments[1].key",
            id="environment-twice",
        ),
        pytest.param(
            {"key": "shop", "environments": [{"key": "a", "branch": "has space"}]},
            422,
            "environments[0].branch",
            id="bad-branch",
        ),
        pytest.param({"key": "default"}, 409, "key", id="key-taken"),
    ],
)
def test_create_project__invalid_payload__is_a_4xx_naming_the_field_and_creates_nothing(
    admin: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(PROJECTS, json=body)
    assert response.status_code == status, response.text
    assert error_field(response) == field
    assert [p["key"] for p in admin.get(PROJECTS).json()["projects"]] == ["default"]
    assert newest_audit_id(admin) == before


def test_add_environment__appends_to_the_pipeline_with_every_flag_off(
    admin: httpx.Client,
) -> None:
    create_flag(admin, "checkout")
    response = admin.post(f"{PROJECTS}/default/environments", json={"key": "canary"})
    assert response.status_code == 201, response.text
    assert (response.json()["key"], response.json()["position"]) == ("canary", 3)
    assert admin.get(f"{PROJECTS}/default/environments/canary").json() == response.json()
    rules = admin.get("/api/v1/projects/default/flags/checkout").json()["environments"]
    assert list(rules) == ["dev", "staging", "production", "canary"]
    assert rules["canary"]["enabled"] is False


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"key": "qa", "colour": "red"}, 422, "colour", id="unknown-field"),
        pytest.param({"key": ["qa"]}, 422, "key", id="wrong-type"),
        pytest.param({"key": "Q A"}, 422, "key", id="bad-key"),
        pytest.param({}, 422, "key", id="missing-key"),
        pytest.param({"key": "dev"}, 409, "key", id="key-taken"),
    ],
)
def test_add_environment__invalid_payload__is_a_4xx_naming_the_field(
    admin: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(f"{PROJECTS}/default/environments", json=body)
    assert response.status_code == status, response.text
    assert error_field(response) == field
    assert len(admin.get(f"{PROJECTS}/default/environments").json()["environments"]) == 3
    assert newest_audit_id(admin) == before


def test_unknown_project_or_environment__is_a_404(admin: httpx.Client) -> None:
    assert admin.get(f"{PROJECTS}/nowhere").status_code == 404
    assert admin.get(f"{PROJECTS}/default/environments/nowhere").status_code == 404
    response = admin.post(f"{PROJECTS}/nowhere/environments", json={"key": "qa"})
    assert response.status_code == 404
