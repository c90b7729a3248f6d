"""GitHub deliveries for tests against a real server: payloads in GitHub's documented
shapes (``tests/fixtures/github``), signed with HMAC-SHA256 exactly as GitHub signs them,
and the views of a release a delivery could change."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import STALL_HOOKS, TLS, RunningServer

from shipwise.domain.github import sign

SECRET = "whsec-for-tests-only"
P = "/api/v1/projects/default"
HOOK = "/webhooks/github/default"
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # inside business hours
FIXTURES = Path(__file__).parents[1] / "fixtures" / "github"
HEAD = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
NEW_HEAD = "1d3f5b7d9f1b3d5f7b9d1f3b5d7f9b1d3f5b7d9f"
MERGE = "b7e4d1c8a5f2e9b6c3d0a7f4e1b8c5d2a9f6e3b0"
EVENTS = {
    "pull_request.opened": "pull_request",
    "pull_request.synchronize": "pull_request",
    "pull_request.closed.merged": "pull_request",
    "pull_request_review.submitted": "pull_request_review",
    "push": "push",
    "status": "status",
    "check_suite.completed": "check_suite",
    "deployment_status": "deployment_status",
}
NEW = "a fresh X-GitHub-Delivery id"  # deliver()'s default
NONE = "no X-GitHub-Delivery header"


def payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def deliver(
    server: RunningServer,
    event: str,
    data: dict[str, Any] | bytes,
    *,
    secret: str | None = SECRET,
    signature: str | None = None,
    content_type: str = "application/json",
    delivery: str = NEW,
) -> httpx.Response:
    """POST a delivery as GitHub does: the raw body signed with ``secret`` (None: no
    signature header), or with ``signature`` as given; ``delivery`` is the
    ``X-GitHub-Delivery`` id (``NEW``: a fresh one, ``NONE``: no header)."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {
        "X-GitHub-Event": event,
        "Content-Type": content_type,
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    if delivery != NONE:
        headers["X-GitHub-Delivery"] = str(uuid.uuid4()) if delivery == NEW else delivery
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = sign(secret.encode(), body)
    # 30 s is a hang guard; a stall past 8 s reports itself (stall_watch).
    with httpx.Client(timeout=30, event_hooks=STALL_HOOKS, verify=TLS) as client:
        return client.post(f"{server.url}{HOOK}", content=body, headers=headers)


def fixture(server: RunningServer, name: str) -> httpx.Response:
    response = deliver(server, EVENTS[name], payload(name))
    assert response.status_code == 202, response.text
    return response


def ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json()


def new_release(admin: httpx.Client) -> str:
    """rel-1, "New checkout", written by alice on feature/new-checkout, no commit yet."""
    body = {
        "title": "New checkout",
        "kind": "feature",
        "key": "rel-1",
        "owner": "alice",
        "branch": "feature/new-checkout",
        "rollback_plan": "Revert the merge commit.",
    }
    return str(ok(admin.post(f"{P}/releases", json=body))["key"])


def state(admin: httpx.Client, key: str) -> dict[str, Any]:
    """Everything a delivery could change: the release with its next gates, the gates of
    production (CI, deploys, approvals there), and the whole audit log."""
    return {
        "release": ok(admin.get(f"{P}/releases/{key}")),
        "production": ok(
            admin.get(f"{P}/releases/{key}/gates", params={"environment": "production"})
        ),
        "audit": ok(admin.get("/api/v1/audit", params={"limit": 500}))["records"],
    }


def gate(admin: httpx.Client, key: str, name: str, environment: str = "dev") -> dict[str, Any]:
    gates = ok(admin.get(f"{P}/releases/{key}/gates", params={"environment": environment}))
    return next(g for g in gates["gates"] if g["gate"] == name)  # type: ignore[no-any-return]


def newest_audit(admin: httpx.Client, key: str) -> list[dict[str, Any]]:
    records = ok(admin.get("/api/v1/audit", params={"project": "default", "target_key": key}))
    return records["records"]  # type: ignore[no-any-return]
