"""The world the protected-environment tests share: a real server on a business-hours
clock (SQLite or PostgreSQL), developer, QA and release-manager tokens, the team that
walks a release through its gates, and what a refusal must leave untouched.

Starting states in production are written in-process with an authority ("test setup"),
as the demo's seeding does; everything under test goes through HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tests.integration.api.helpers import newest_audit_id, rules_path
from tests.support.clock import ManualClock
from tests.support.server import STALL_HOOKS, TLS, RunningServer, running_server

from shipwise.server.services.principal import SYSTEM

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # inside business hours
P = "/api/v1/projects/default"
COMMIT = "c0ffee00" * 5
SETUP = "test setup"
ROLES = {"dev": "developer", "qa": "qa", "rm": "release-manager"}
# Who walks a release through its gates (never the author, alice, approving her own).
TEAM = {"alice": "developer", "bob": "developer", "carol": "release-manager", "quinn": "qa"}
PLAN_COUNTRY = {"contextName": "country", "operator": "IN", "values": ["NO"]}
PLAN_PRO = {"contextName": "plan", "operator": "IN", "values": ["pro"]}
BLUE = {"name": "blue", "weight": 1000, "stickiness": "default"}
LIVE_RULES: dict[str, Any] = {
    "enabled": True,
    "strategies": [
        {
            "name": "flexibleRollout",
            "parameters": {"rollout": "10", "stickiness": "default", "groupId": "search-v2"},
            "constraints": [PLAN_COUNTRY],
        }
    ],
    "variants": [BLUE],
    "dependencies": [{"feature": "bulk-edit"}],
}


class World:
    """A server with people, flags and a segment; production as each test needs it."""

    def __init__(self, server: RunningServer, clock: ManualClock) -> None:
        self.server, self.clock = server, clock
        self.services = server.services
        self.clients: dict[str, httpx.Client] = {}
        for name, role in {**ROLES, **TEAM}.items():
            secret = self.services.tokens.create(
                SYSTEM, name=name, kind="api", project_key="default", role=role
            ).secret
            headers = {"Authorization": f"Bearer {secret}"}
            # 30 s is a hang guard; a request past 8 s reports itself (stall_watch).
            self.clients[name] = httpx.Client(
                base_url=server.url,
                headers=headers,
                timeout=30,
                event_hooks=STALL_HOOKS,
                verify=TLS,
            )
        self.admin = server.admin()
        for key, kind in (
            ("bulk-edit", "release"),
            ("search-v2", "release"),
            ("ops", "operational"),
        ):
            self.services.flags.create(SYSTEM, "default", key, kind=kind)
        self.services.segments.create(SYSTEM, "default", "beta-testers", [PLAN_PRO])

    def __getattr__(self, name: str) -> httpx.Client:
        return self.clients[name]

    def close(self) -> None:
        for client in [*self.clients.values(), self.admin]:
            client.close()

    def setup_rules(
        self, flag: str, rules: dict[str, Any], environment: str = "production"
    ) -> None:
        self.services.flags.update_rules(
            SYSTEM, "default", flag, environment, rules, expected_version=None, authority=SETUP
        )

    def rules(self, flag: str, environment: str = "production") -> dict[str, Any]:
        response = self.admin.get(rules_path(flag, environment))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def snapshot(self, *flags: str) -> tuple[Any, ...]:
        """What must not change under a refusal: rules, plans, segments, the audit log."""
        plans = self.admin.get(f"{P}/rollouts").json()
        segments = self.admin.get(f"{P}/segments").json()
        return (
            [self.rules(f) for f in flags],
            plans,
            segments,
            newest_audit_id(self.admin),
        )

    def release(self, flag: str, title: str) -> str:
        body = {
            "title": title,
            "kind": "feature",
            "flags": [flag],
            "commit": COMMIT,
            "rollback_plan": f"Turn {flag} off; revert the merge.",
        }
        return str(ok(self.alice.post(f"{P}/releases", json=body))["key"])

    def walk_to_production(self, key: str) -> None:
        """dev -> staging -> production through every gate of the default policy."""
        ok(self.alice.post(f"{P}/ci", json={"commit": COMMIT, "context": "ci", "state": "success"}))
        for environment in ("dev", "staging"):
            ok(self.bob.post(f"{P}/releases/{key}/approve", json={}))
            ok(self.carol.post(f"{P}/releases/{key}/promote", json={}))
            ok(self.alice.post(f"{P}/deploys", json={"environment": environment, "commit": COMMIT}))
        ok(self.bob.post(f"{P}/releases/{key}/approve", json={}))
        ok(self.carol.post(f"{P}/releases/{key}/approve", json={}))
        ok(self.quinn.post(f"{P}/releases/{key}/signoff", json={"kind": "qa", "stage": "staging"}))
        drill = ok(self.carol.post(f"{P}/releases/{key}/rollback-drill", json={}))
        assert drill["succeeded"] is True, drill
        promoted = ok(self.carol.post(f"{P}/releases/{key}/promote", json={}))
        assert promoted["release"]["stage"] == "production", promoted


def ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json()


@contextmanager
def protected_world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(WEDNESDAY_10)
    with running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as server:
        people = World(server, clock)
        try:
            yield people
        finally:
            people.close()


def refused(response: httpx.Response, *words: str) -> str:
    """A 409 whose message says each of ``words``; returns the message."""
    assert response.status_code == 409, response.text
    message = str(response.json()["error"]["message"])
    for word in words:
        assert word in message, (word, message)
    return message


def start(client: httpx.Client, flag: str, **body: Any) -> httpx.Response:
    return client.post(f"{P}/rollouts", json={"flag": flag, "environment": "production", **body})
