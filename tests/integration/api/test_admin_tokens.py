"""Tokens through the admin API: the secret shown once and stored only hashed, scoped to
a project (api) or an environment (SDK keys), revocable and expiring."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from tests.integration.api.helpers import as_token, error_field, newest_audit_id
from tests.support.server import RunningServer

TOKENS = "/api/v1/tokens"
VIEWER = {"name": "dashboard", "kind": "api", "project": "default", "role": "viewer"}


def test_create_token__shows_the_secret_once_and_stores_only_its_hash(
    sqlite_server: RunningServer, admin: httpx.Client
) -> None:
    # When a token is created
    response = admin.post(TOKENS, json=VIEWER)

    # Then the answer carries its secret, which works
    assert response.status_code == 201, response.text
    issued = response.json()
    secret = issued["secret"]
    assert secret.startswith("sw_api_")
    assert issued["prefix"] == secret[:12]
    assert (issued["kind"], issued["role"], issued["project"]) == ("api", "viewer", "default")
    with as_token(sqlite_server, secret) as viewer:
        assert viewer.get("/api/v1/projects/default").status_code == 200
    # And no later answer shows it again
    one = admin.get(f"{TOKENS}/{issued['id']}").json()
    assert "secret" not in one
    assert one == {k: v for k, v in issued.items() if k != "secret"}
    assert all("secret" not in t for t in admin.get(TOKENS).json()["tokens"])
    # And the database holds its hash, not the secret
    with sqlite_server.services.database.engine.connect() as connection:
        row = connection.execute(
            text("SELECT * FROM tokens WHERE id = :id"), {"id": issued["id"]}
        ).mappings()
        stored = dict(next(iter(row)))
    assert stored["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(v) for v in stored.values()}


def test_revoke_token__stops_it_at_once_and_is_audited_once(
    sqlite_server: RunningServer, admin: httpx.Client
) -> None:
    issued = admin.post(TOKENS, json=VIEWER).json()
    with as_token(sqlite_server, issued["secret"]) as viewer:
        assert viewer.get("/api/v1/projects").status_code == 200
        revoked = admin.delete(f"{TOKENS}/{issued['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        response = viewer.get("/api/v1/projects")
        assert response.status_code == 401
        assert "revoked" in response.json()["error"]["message"]
    before = newest_audit_id(admin)
    again = admin.delete(f"{TOKENS}/{issued['id']}")
    assert again.status_code == 200
    assert again.json() == revoked.json()
    assert newest_audit_id(admin) == before
    actions = [
        r["action"]
        for r in admin.get("/api/v1/audit", params={"target_type": "token"}).json()["records"]
    ]
    assert actions.count("token.revoke") == 1


def test_token_with_an_expiry__stops_working_when_it_expires(
    sqlite_server: RunningServer, admin: httpx.Client
) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    issued = admin.post(TOKENS, json={**VIEWER, "expires_at": expires.isoformat()}).json()
    assert datetime.fromisoformat(issued["expires_at"]) == expires
    with as_token(sqlite_server, issued["secret"]) as viewer:
        assert viewer.get("/api/v1/projects").status_code == 200
        time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
        response = viewer.get("/api/v1/projects")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_expiry_with_an_offset__is_stored_as_the_same_moment_in_utc(admin: httpx.Client) -> None:
    response = admin.post(TOKENS, json={**VIEWER, "expires_at": "2099-06-01T12:00:00+02:00"})
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["expires_at"]) == datetime(
        2099, 6, 1, 10, tzinfo=UTC
    )


def test_sdk_keys__belong_to_an_environment_and_have_no_role(admin: httpx.Client) -> None:
    for kind in ("server", "frontend"):
        body = {"name": "web", "kind": kind, "project": "default", "environment": "production"}
        response = admin.post(TOKENS, json=body)
        assert response.status_code == 201, response.text
        assert (response.json()["environment"], response.json()["role"]) == ("production", None)


def test_list_tokens__filtered_by_project(admin: httpx.Client) -> None:
    admin.post(TOKENS, json=VIEWER)
    admin.post("/api/v1/projects", json={"key": "shop"})
    admin.post(TOKENS, json={**VIEWER, "project": "shop"})
    listed = admin.get(TOKENS, params={"project": "shop"}).json()["tokens"]
    assert [t["project"] for t in listed] == ["shop"]
    assert len(admin.get(TOKENS).json()["tokens"]) == 3  # with the first admin


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({**VIEWER, "scope": "all"}, 422, "scope", id="unknown-field"),
        pytest.param({**VIEWER, "kind": "admin"}, 422, "kind", id="unknown-kind"),
        pytest.param({**VIEWER, "role": "owner"}, 422, "role", id="unknown-role"),
        pytest.param({**VIEWER, "name": ""}, 422, "name", id="empty-name"),
        pytest.param({**VIEWER, "name": "n" * 101}, 422, "name", id="name-too-long"),
        pytest.param({**VIEWER, "name": 12}, 422, "name", id="wrong-type"),
        pytest.param({"kind": "api", "project": "default"}, 422, "name", id="missing-name"),
        pytest.param({**VIEWER, "role": None}, 422, "role", id="api-token-without-role"),
        pytest.param({**VIEWER, "environment": "dev"}, 422, "environment", id="api-with-env"),
        pytest.param(
            {"name": "x", "kind": "server", "project": "default"},
            422,
            "environment",
            id="sdk-key-without-environment",
        ),
        pytest.param(
            {
                "name": "x",
                "kind": "server",
                "project": "default",
                "environment": "dev",
                "role": "qa",
            },
            422,
            "role",
            id="sdk-key-with-role",
        ),
        pytest.param({**VIEWER, "project": None}, 422, "project", id="global-viewer"),
        pytest.param(
            {**VIEWER, "expires_at": "2001-01-01T00:00:00Z"}, 422, "expires_at", id="past"
        ),
        pytest.param(
            {**VIEWER, "expires_at": "2099-01-01T00:00:00"}, 422, "expires_at", id="naive"
        ),
        pytest.param({**VIEWER, "expires_at": "soon"}, 422, "expires_at", id="not-a-date"),
        pytest.param(
            {**VIEWER, "expires_at": "9999-12-31T23:00:00-05:00"},
            422,
            "expires_at",
            id="past-the-calendar-in-utc",
        ),
        pytest.param({**VIEWER, "project": "nowhere"}, 404, None, id="unknown-project"),
    ],
)
def test_create_token__invalid_payload__is_a_4xx_naming_the_field_and_creates_nothing(
    admin: httpx.Client, body: dict[str, Any], status: int, field: str | None
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(TOKENS, json=body)
    assert response.status_code == status, response.text
    assert error_field(response) == field
    assert len(admin.get(TOKENS).json()["tokens"]) == 1  # the first admin's
    assert newest_audit_id(admin) == before


@pytest.mark.parametrize("token_id", ["0", "x", str(2**40)])
def test_token_id_that_cannot_be_one__is_a_422(admin: httpx.Client, token_id: str) -> None:
    response = admin.delete(f"{TOKENS}/{token_id}")
    assert response.status_code == 422
    assert error_field(response) == "token_id"


def test_unknown_token__is_a_404(admin: httpx.Client) -> None:
    assert admin.get(f"{TOKENS}/999").status_code == 404
    assert admin.delete(f"{TOKENS}/999").status_code == 404
