"""Flags through the admin API: create, read, change what a flag is, and refuse a bad
payload with a 422 naming the field while changing nothing."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import FLAGS, create_flag, error_field, newest_audit_id
from tests.support.server import RunningServer


def test_create_flag__answers_it_off_in_every_environment_and_audits_it(
    admin: httpx.Client,
) -> None:
    # When a flag is created with its metadata
    body = {"key": "checkout", "kind": "experiment", "owner": "ana", "tags": ["payments"]}
    created = create_flag(admin, **body)

    # Then it is off, at version 1, in each environment in pipeline order
    assert created["kind"] == "experiment"
    assert created["owner"] == "ana"
    assert created["tags"] == ["payments"]
    assert created["archived"] is False
    assert list(created["environments"]) == ["dev", "staging", "production"]
    for rules in created["environments"].values():
        assert (rules["enabled"], rules["strategies"], rules["version"]) == (False, [], 1)
    # And reading it back gives the same flag, alone in the list
    assert admin.get(f"{FLAGS}/checkout").json() == created
    assert [f["key"] for f in admin.get(FLAGS).json()["flags"]] == ["checkout"]
    # And the audit log says who created what
    record = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"][0]
    assert (record["action"], record["target_key"], record["project"]) == (
        "flag.create",
        "checkout",
        "default",
    )
    assert record["actor"].startswith("token:first admin")
    assert record["after"]["kind"] == "experiment"


def test_create_flag__twice__is_a_409_naming_the_key(admin: httpx.Client) -> None:
    create_flag(admin, "checkout")
    before = newest_audit_id(admin)
    response = admin.post(FLAGS, json={"key": "checkout"})
    assert response.status_code == 409
    assert error_field(response) == "key"
    assert "already exists" in response.json()["error"]["message"]
    assert newest_audit_id(admin) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"key": "checkout", "colour": "red"}, "colour", id="unknown-field"),
        pytest.param({"key": "checkout", "tags": "payments"}, "tags", id="wrong-type"),
        pytest.param({"key": "checkout", "tags": ["Payments"]}, "tags[0]", id="bad-tag"),
        pytest.param({"key": "Check Out"}, "key", id="bad-key"),
        pytest.param({"key": "check/out"}, "key", id="key-with-a-slash"),
        pytest.param({"key": ".."}, "key", id="key-that-is-a-path-step"),
        pytest.param({"key": "x" * 101}, "key", id="key-too-long"),
        pytest.param({"kind": "release"}, "key", id="missing-key"),
        pytest.param({"key": "checkout", "kind": "toggle"}, "kind", id="unknown-kind"),
        pytest.param({"key": "checkout", "owner": "a" * 201}, "owner", id="owner-too-long"),
        pytest.param({"key": "checkout", "owner": "a\x00b"}, "owner", id="owner-with-nul"),
    ],
)
def test_create_flag__invalid_payload__is_a_422_naming_the_field_and_creates_nothing(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(FLAGS, json=body)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert admin.get(FLAGS).json()["flags"] == []
    assert newest_audit_id(admin) == before


def test_create_flag__body_that_is_not_json__is_a_422(admin: httpx.Client) -> None:
    response = admin.post(FLAGS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert admin.get(FLAGS).json()["flags"] == []


def test_patch_flag__changes_only_the_fields_sent_and_audits_before_and_after(
    admin: httpx.Client,
) -> None:
    create_flag(admin, "checkout", owner="ana", description="new checkout", tags=["a"])
    response = admin.patch(f"{FLAGS}/checkout", json={"owner": "bo", "archived": True})
    assert response.status_code == 200, response.text
    flag = response.json()
    assert (flag["owner"], flag["archived"]) == ("bo", True)
    assert (flag["description"], flag["tags"], flag["kind"]) == ("new checkout", ["a"], "release")
    record = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"][0]
    assert record["action"] == "flag.update"
    assert (record["before"]["owner"], record["after"]["owner"]) == ("ana", "bo")
    assert (record["before"]["archived"], record["after"]["archived"]) == (False, True)


def test_patch_flag__null_owner__clears_it(admin: httpx.Client) -> None:
    create_flag(admin, "checkout", owner="ana")
    response = admin.patch(f"{FLAGS}/checkout", json={"owner": None})
    assert response.status_code == 200
    assert response.json()["owner"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"archived": "yes"}, "archived", id="wrong-type"),
        pytest.param({"key": "renamed"}, "key", id="unknown-field"),
        pytest.param({"tags": ["Not A Tag"]}, "tags[0]", id="bad-tag"),
        pytest.param({"kind": "toggle"}, "kind", id="unknown-kind"),
        pytest.param({}, "body", id="nothing-to-change"),
    ],
)
def test_patch_flag__invalid_payload__is_a_422_naming_the_field_and_changes_nothing(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before_flag = create_flag(admin, "checkout", owner="ana")
    before = newest_audit_id(admin)
    response = admin.patch(f"{FLAGS}/checkout", json=body)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert admin.get(f"{FLAGS}/checkout").json() == before_flag
    assert newest_audit_id(admin) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/nowhere/flags/checkout",
        f"{FLAGS}/missing",
        f"{FLAGS}/checkout/environments/nowhere",
    ],
)
def test_get__something_that_does_not_exist__is_a_404_saying_what(
    admin: httpx.Client, path: str
) -> None:
    create_flag(admin, "checkout")
    response = admin.get(path)
    assert response.status_code == 404
    assert "no " in response.json()["error"]["message"]


def test_path_key_that_is_not_a_key__is_a_422_naming_the_path_parameter(
    admin: httpx.Client,
) -> None:
    response = admin.get(f"{FLAGS}/Not%20A%20Key")
    assert response.status_code == 422
    assert error_field(response) == "key"


def test_no_token__is_a_401_with_the_error_body(admin: httpx.Client) -> None:
    response = httpx.get(f"{admin.base_url}{FLAGS}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error_field(response) is None


def test_create_flag__eight_concurrent_creators_of_one_key__one_201_and_seven_409s(
    server: RunningServer,
) -> None:
    # Each checks that the key is free before inserting; the database decides the race
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def create(owner: int) -> None:
        with server.admin() as client:
            barrier.wait()
            response = client.post(FLAGS, json={"key": "checkout", "owner": f"team-{owner}"})
            statuses.append(response.status_code)

    creators = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for creator in creators:
        creator.start()
    for creator in creators:
        creator.join(timeout=30)

    assert sorted(statuses) == [201] + [409] * 7
    with server.admin() as admin:
        assert [f["key"] for f in admin.get(FLAGS).json()["flags"]] == ["checkout"]
        creations = admin.get("/api/v1/audit", params={"target_type": "flag"}).json()["records"]
    assert [r["action"] for r in creations] == ["flag.create"]
