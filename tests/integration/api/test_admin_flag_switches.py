"""The quick switches on a flag's rules in one environment: enable, disable, rollout,
and the kill switch (off for everyone, audited with its reason), each with an optional
If-Match and each answering the new version as its ETag."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import (
    create_flag,
    error_field,
    issue,
    newest_audit_id,
    rules_path,
)
from tests.support.server import RunningServer


def _version(admin: httpx.Client, flag: str = "checkout") -> int:
    return int(admin.get(rules_path(flag, "staging")).json()["version"])


def test_enable_disable_and_rollout__each_bump_the_version_and_answer_the_etag(
    admin: httpx.Client,
) -> None:
    create_flag(admin, "checkout")
    enabled = admin.post(f"{rules_path('checkout', 'staging')}/enable")
    assert (enabled.status_code, enabled.json()["enabled"]) == (200, True)
    assert enabled.headers["ETag"] == '"2"'
    rollout = admin.post(f"{rules_path('checkout', 'staging')}/rollout", json={"percentage": 25})
    assert rollout.status_code == 200, rollout.text
    strategy = rollout.json()["strategies"][0]
    assert strategy["name"] == "flexibleRollout"
    assert strategy["parameters"] == {
        "rollout": "25",
        "stickiness": "default",
        "groupId": "checkout",
    }
    raised = admin.post(
        f"{rules_path('checkout', 'staging')}/rollout",
        json={"percentage": 50, "stickiness": "userId"},
        headers={"If-Match": '"3"'},
    )
    assert raised.json()["strategies"][0]["parameters"]["rollout"] == "50"
    assert raised.json()["strategies"][0]["parameters"]["groupId"] == "checkout"
    disabled = admin.post(
        f"{rules_path('checkout', 'staging')}/disable", headers={"If-Match": '"4"'}
    )
    assert (disabled.json()["enabled"], disabled.headers["ETag"]) == (False, '"5"')
    stale = admin.post(f"{rules_path('checkout', 'staging')}/enable", headers={"If-Match": '"4"'})
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"percentage": 101}, "percentage", id="over-100"),
        pytest.param({"percentage": -1}, "percentage", id="negative"),
        pytest.param({"percentage": "50"}, "percentage", id="a-string"),
        pytest.param({}, "percentage", id="missing"),
        pytest.param({"percentage": 5, "group": "x"}, "group", id="unknown-field"),
        pytest.param({"percentage": 5, "stickiness": "user id"}, "stickiness", id="bad-stickiness"),
    ],
)
def test_rollout__invalid_payload__is_a_422_naming_the_field(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    create_flag(admin, "checkout")
    before = newest_audit_id(admin)
    response = admin.post(f"{rules_path('checkout', 'staging')}/rollout", json=body)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert _version(admin) == 1
    assert newest_audit_id(admin) == before


def test_kill__turns_the_flag_off_for_everyone_and_audits_the_reason(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        # Given a flag rolled out to half of staging, which an SDK sees on
        create_flag(admin, "checkout")
        admin.post(f"{rules_path('checkout', 'staging')}/rollout", json={"percentage": 50})
        key = issue(admin, kind="server", project="default", environment="staging")

        # When a release manager pulls the kill switch
        manager = issue(admin, kind="api", project="default", role="release-manager")
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {manager}"}
        ) as client:
            response = client.post(
                f"{rules_path('checkout', 'staging')}/kill",
                json={"reason": "checkout errors, INC-42"},
            )

        # Then it is off, its rules kept for later, and the SDK's snapshot says so
        assert response.status_code == 200, response.text
        assert response.json()["enabled"] is False
        assert response.json()["strategies"][0]["name"] == "flexibleRollout"
        snapshot = httpx.get(
            f"{server.url}/sdk/v1/snapshot", headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert [(f["key"], f["enabled"]) for f in snapshot["flags"]] == [("checkout", False)]
        # And the audit log has who, why, before and after
        record = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"][0]
    assert (record["action"], record["reason"]) == ("flag.kill", "checkout errors, INC-42")
    assert record["actor"].startswith("token:api-release-manager (#")
    assert (record["before"]["enabled"], record["after"]["enabled"]) == (True, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "reason", id="missing"),
        pytest.param({"reason": ""}, "reason", id="empty"),
        pytest.param({"reason": "   "}, "reason", id="blank"),
        pytest.param({"reason": 42}, "reason", id="wrong-type"),
        pytest.param({"reason": "x", "everywhere": True}, "everywhere", id="unknown-field"),
    ],
)
def test_kill__without_a_reason__is_a_422_and_the_flag_stays_on(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    create_flag(admin, "checkout")
    admin.post(f"{rules_path('checkout', 'staging')}/enable")
    response = admin.post(f"{rules_path('checkout', 'staging')}/kill", json=body)
    assert response.status_code == 422
    assert error_field(response) == field
    assert admin.get(rules_path("checkout", "staging")).json()["enabled"] is True
