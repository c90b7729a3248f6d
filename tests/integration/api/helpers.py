"""Calls the admin API tests share: tokens, the newest audit record, error fields."""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.server import STALL_HOOKS, TLS, RunningServer


def as_token(server: RunningServer, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
        event_hooks=STALL_HOOKS,
        verify=TLS,
    )


def issue(admin: httpx.Client, **body: Any) -> str:
    """A new token's secret (``name`` defaults to its kind and role)."""
    body.setdefault("name", f"{body.get('kind')}-{body.get('role') or body.get('environment')}")
    response = admin.post("/api/v1/tokens", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


def newest_audit_id(admin: httpx.Client) -> int:
    """The id of the newest audit record: unchanged means nothing was written."""
    response = admin.get("/api/v1/audit", params={"limit": 1})
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    return int(records[0]["id"]) if records else 0


def error_field(response: httpx.Response) -> str | None:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]["field"]  # type: ignore[no-any-return]


FLAGS = "/api/v1/projects/default/flags"


def rules_path(flag: str, environment: str = "production") -> str:
    return f"{FLAGS}/{flag}/environments/{environment}"


def create_flag(admin: httpx.Client, key: str, **fields: Any) -> dict[str, Any]:
    response = admin.post(FLAGS, json={"key": key, **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
