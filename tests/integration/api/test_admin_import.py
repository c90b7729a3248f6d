"""Moving in from Unleash through the admin API: a features document with segments lands
in one environment, or, when anything cannot be represented, nothing does and every
such flag is named."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import FLAGS, error_field, newest_audit_id
from tests.support.server import RunningServer

IMPORT = "/api/v1/projects/default/environments/staging/import/unleash"

DOCUMENT: dict[str, Any] = {
    "version": 2,
    "features": [
        {
            "name": "new-checkout",
            "type": "release",
            "enabled": True,
            "description": "the new checkout",
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "25", "stickiness": "userId", "groupId": "nc"},
                    "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO"]}],
                    "segments": [7],
                }
            ],
            "variants": [{"name": "blue", "weight": 1000, "stickiness": "default"}],
        },
        {
            "name": "dark-mode",
            "type": "operational",
            "enabled": False,
            "strategies": [{"name": "default"}],
            "dependencies": [{"feature": "new-checkout"}],
        },
        {"name": "search.v2", "type": "custom-type", "enabled": True, "strategies": []},
    ],
    "segments": [
        {
            "id": 7,
            "name": "Beta Testers",
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["beta"]}],
        }
    ],
}


def test_import__creates_flags_and_segments_in_that_environment_only(admin: httpx.Client) -> None:
    response = admin.post(IMPORT, json=DOCUMENT)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created_flags"] == ["new-checkout", "dark-mode", "search.v2"]
    assert report["updated_flags"] == []
    assert report["segments"] == {"7": "beta-testers"}
    assert report["notes"] == ["flag 'search.v2': type 'custom-type' became 'release'"]
    segment = admin.get("/api/v1/projects/default/segments/beta-testers").json()
    flag = admin.get(f"{FLAGS}/new-checkout").json()
    staging = flag["environments"]["staging"]
    assert staging["enabled"] is True
    assert staging["strategies"][0]["segments"] == [segment["id"]]  # the id Shipwise gave it
    assert staging["strategies"][0]["parameters"]["rollout"] == "25"
    assert staging["variants"][0]["name"] == "blue"
    assert flag["environments"]["production"]["enabled"] is False
    assert flag["description"] == "the new checkout"
    dark = admin.get(f"{FLAGS}/dark-mode").json()
    assert dark["kind"] == "operational"
    assert dark["environments"]["staging"]["dependencies"] == [{"feature": "new-checkout"}]


def test_import__twice__updates_the_flags_and_reuses_the_segment(admin: httpx.Client) -> None:
    admin.post(IMPORT, json=DOCUMENT)
    again = admin.post(IMPORT, json=DOCUMENT).json()
    assert again["created_flags"] == []
    assert again["updated_flags"] == ["new-checkout", "dark-mode", "search.v2"]
    assert again["segments"] == {"7": "beta-testers"}
    assert len(admin.get("/api/v1/projects/default/segments").json()["segments"]) == 1


def test_import__segment_name_taken_by_other_constraints__imports_under_a_new_name(
    admin: httpx.Client,
) -> None:
    staff = [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@shop.io"]}]
    admin.post(
        "/api/v1/projects/default/segments", json={"name": "beta-testers", "constraints": staff}
    )
    report = admin.post(IMPORT, json=DOCUMENT).json()
    assert report["segments"] == {"7": "beta-testers-2"}
    assert "imported as 'beta-testers-2'" in report["notes"][0]
    kept = admin.get("/api/v1/projects/default/segments/beta-testers").json()
    assert kept["constraints"] == staff


def test_import__audits_each_flag_with_before_and_after(admin: httpx.Client) -> None:
    admin.post(IMPORT, json=DOCUMENT)
    records = admin.get("/api/v1/audit", params={"project": "default"}).json()["records"]
    actions = [(r["action"], r["target_key"]) for r in records]
    assert actions[0] == ("import.unleash", "staging")
    assert ("flag.import", "new-checkout") in actions
    assert (
        "segment.create",
        "beta-testers",
    ) in actions
    imported = next(r for r in records if r["action"] == "flag.import")
    assert imported["before"]["enabled"] is False
    assert "after" in imported


def _unrepresentable() -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["features"][0]["strategies"].append({"name": "myCustomStrategy", "parameters": {}})
    document["features"][2]["name"] = "Search V2"
    return document


def test_import__what_cannot_be_represented__is_a_422_naming_every_such_flag_and_writes_nothing(
    admin: httpx.Client,
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(IMPORT, json=_unrepresentable())

    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "nothing was imported" in message
    assert "'new-checkout'" in message
    assert "myCustomStrategy" in message
    assert "'Search V2'" in message
    assert "'dark-mode'" not in message.split(":")[0]
    assert error_field(response) == "features[0].strategies[1].name"
    assert admin.get(FLAGS).json()["flags"] == []
    assert admin.get("/api/v1/projects/default/segments").json()["segments"] == []
    assert newest_audit_id(admin) == before


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param({"features": "none"}, "features", id="features-not-a-list"),
        pytest.param({"segments": []}, "features", id="missing-features"),
        pytest.param({**DOCUMENT, "flags": []}, "flags", id="unknown-envelope-field"),
        pytest.param(
            {"features": [{"name": "x"}]}, "features[0].enabled", id="flag-without-enabled"
        ),
        pytest.param(
            {
                "features": [
                    {
                        "name": "x",
                        "enabled": True,
                        "strategies": [{"name": "default", "segments": [3]}],
                    }
                ]
            },
            "features[0].strategies[0].segments[0]",
            id="segment-not-in-document",
        ),
    ],
)
def test_import__malformed_document__is_a_422_naming_the_field_and_writes_nothing(
    admin: httpx.Client, document: dict[str, Any], field: str
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(IMPORT, json=document)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert admin.get(FLAGS).json()["flags"] == []
    assert newest_audit_id(admin) == before


def test_import__text_no_database_can_hold__is_a_422_on_every_database(
    server: RunningServer,
) -> None:
    # PostgreSQL cannot store NUL in text: refused by name, never a 500
    flag = {"name": "search", "enabled": True, "description": "a\x00b", "strategies": []}
    with server.admin() as admin:
        before = newest_audit_id(admin)
        response = admin.post(IMPORT, json={"features": [flag]})
        assert response.status_code == 422, response.text
        assert error_field(response) == "features[0].description"
        assert admin.get(FLAGS).json()["flags"] == []
        assert newest_audit_id(admin) == before
