"""Segments through the admin API: create, read, replace under If-Match, and refuse a
bad payload naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import create_flag, error_field, newest_audit_id, rules_path

SEGMENTS = "/api/v1/projects/default/segments"
BETA = [{"contextName": "plan", "operator": "IN", "values": ["beta"]}]


def _create(admin: httpx.Client, name: str = "beta-testers") -> dict[str, Any]:
    response = admin.post(SEGMENTS, json={"name": name, "constraints": BETA})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_create_segment__reads_back_with_its_version_and_a_flag_can_use_it(
    admin: httpx.Client,
) -> None:
    segment = _create(admin)
    assert (segment["name"], segment["constraints"], segment["version"]) == (
        "beta-testers",
        BETA,
        1,
    )
    response = admin.get(f"{SEGMENTS}/beta-testers")
    assert (response.json(), response.headers["ETag"]) == (segment, '"1"')
    assert admin.get(SEGMENTS).json()["segments"] == [segment]
    create_flag(admin, "checkout")
    rules = {"enabled": True, "strategies": [{"name": "default", "segments": [segment["id"]]}]}
    used = admin.put(rules_path("checkout", "staging"), json=rules, headers={"If-Match": '"1"'})
    assert used.status_code == 200, used.text


def test_create_segment__twice__is_a_409(admin: httpx.Client) -> None:
    _create(admin)
    response = admin.post(SEGMENTS, json={"name": "beta-testers", "constraints": []})
    assert response.status_code == 409
    assert admin.get(f"{SEGMENTS}/beta-testers").json()["constraints"] == BETA


def test_put_segment__under_if_match__replaces_it_and_audits_before_and_after(
    admin: httpx.Client,
) -> None:
    _create(admin)
    internal = [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@shop.io"]}]
    body = {"description": "staff", "constraints": internal}
    missing = admin.put(f"{SEGMENTS}/beta-testers", json=body)
    assert (missing.status_code, error_field(missing)) == (428, "If-Match")
    response = admin.put(f"{SEGMENTS}/beta-testers", json=body, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert (response.json()["constraints"], response.headers["ETag"]) == (internal, '"2"')
    record = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"][0]
    assert record["action"] == "segment.update"
    assert (record["before"]["constraints"], record["after"]["constraints"]) == (BETA, internal)
    stale = admin.put(f"{SEGMENTS}/beta-testers", json=body, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert "version 2, not 1" in stale.json()["error"]["message"]


def test_put_segment__that_does_not_exist__is_a_404(admin: httpx.Client) -> None:
    response = admin.put(
        f"{SEGMENTS}/nobody", json={"constraints": BETA}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "beta", "constraints": BETA, "x": 1}, "x", id="unknown-field"),
        pytest.param({"name": "beta", "constraints": {}}, "constraints", id="wrong-type"),
        pytest.param({"name": "Beta Testers", "constraints": BETA}, "name", id="bad-name"),
        pytest.param({"constraints": BETA}, "name", id="missing-name"),
        pytest.param(
            {"name": "beta", "constraints": [{"contextName": "plan", "operator": "LIKE"}]},
            "constraints[0].operator",
            id="unknown-operator",
        ),
        pytest.param(
            {"name": "beta", "constraints": [{"operator": "IN", "values": ["x"]}]},
            "constraints[0].contextName",
            id="constraint-without-field",
        ),
        pytest.param(
            {
                "name": "beta",
                "constraints": [
                    {"contextName": "v", "operator": "SEMVER_GT", "value": "not-a-version"}
                ],
            },
            "constraints[0].value",
            id="operand-that-is-not-a-version",
        ),
        pytest.param(
            {"name": "beta", "constraints": [{**BETA[0], "caseinsensitive": True}]},
            "constraints[0].caseinsensitive",
            id="misspelt-constraint-field",
        ),
    ],
)
def test_create_segment__invalid_payload__is_a_422_naming_the_field_and_creates_nothing(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(SEGMENTS, json=body)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert admin.get(SEGMENTS).json()["segments"] == []
    assert newest_audit_id(admin) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"description": "x"}, "constraints", id="missing-constraints"),
        pytest.param({"constraints": BETA, "name": "other"}, "name", id="unknown-field"),
        pytest.param(
            {"constraints": [{"contextName": 1}]}, "constraints[0].contextName", id="type"
        ),
    ],
)
def test_put_segment__invalid_payload__is_a_422_and_changes_nothing(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    segment = _create(admin)
    before = newest_audit_id(admin)
    response = admin.put(f"{SEGMENTS}/beta-testers", json=body, headers={"If-Match": '"1"'})
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert admin.get(f"{SEGMENTS}/beta-testers").json() == segment
    assert newest_audit_id(admin) == before
