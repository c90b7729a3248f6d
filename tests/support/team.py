"""A project's people and the state the dashboard's browser tests start from, made through
the admin API (the same routes the CLI uses), and read back through it to see what a
click changed."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

PROJECT = "default"
API = f"/api/v1/projects/{PROJECT}"
# Who is who: alice writes changes, bob reviews them, carol manages releases, quinn tests
# them (QA), vic only looks.
ROLES = {
    "alice": "developer",
    "bob": "developer",
    "carol": "release-manager",
    "quinn": "qa",
    "vic": "viewer",
}


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.url}: {response.text}"
    return response.json()


class Team:
    """The people of ROLES with a personal api token each, and the admin's client."""

    def __init__(self, admin: httpx.Client) -> None:
        self.admin = admin
        self.tokens: dict[str, str] = {
            name: ok(
                admin.post(
                    "/api/v1/tokens",
                    json={"name": name, "kind": "api", "project": PROJECT, "role": role},
                )
            )["secret"]
            for name, role in ROLES.items()
        }

    def release(self, title: str, *, ci: bool = True) -> str:
        """A feature release alice opened (CI green for its commit unless ``ci=False``);
        its key."""
        commit = secrets.token_hex(20)
        body = {
            "title": title,
            "kind": "feature",
            "commit": commit,
            "rollback_plan": f"Turn {title} off; revert the merge commit.",
        }
        made = self.admin.post(f"{API}/releases", json=body, headers=self.as_person("alice"))
        key = str(ok(made)["key"])
        if ci:
            state = {"commit": commit, "context": "tests", "state": "success"}
            ok(self.admin.post(f"{API}/ci", json=state))
        return key

    def as_person(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def promoted(self, key: str) -> str:
        """``key`` approved by bob and promoted by carol, through the API; its new stage."""
        ok(self.admin.post(f"{API}/releases/{key}/approve", json={}, headers=self.as_person("bob")))
        promoted = self.admin.post(
            f"{API}/releases/{key}/promote", json={}, headers=self.as_person("carol")
        )
        return str(ok(promoted)["release"]["stage"])

    def release_state(self, key: str) -> dict[str, Any]:
        return ok(self.admin.get(f"{API}/releases/{key}"))  # type: ignore[no-any-return]

    def stage(self, key: str) -> str | None:
        return self.release_state(key)["release"]["stage"]  # type: ignore[no-any-return]

    def failing_gates(self, key: str) -> list[dict[str, Any]]:
        """The gates of the release's next stage that do not pass, as the API says."""
        decision = ok(self.admin.get(f"{API}/releases/{key}/gates"))
        return [gate for gate in decision["gates"] if not gate["passed"]]

    def deployed(self, key: str, environment: str) -> None:
        """The release's commit deployed to ``environment``, reported as a CI pipeline
        reports it (the dashboard records no deploys: they happen elsewhere)."""
        commit = self.release_state(key)["release"]["commit"]
        ok(self.admin.post(f"{API}/deploys", json={"environment": environment, "commit": commit}))

    def flag(self, key: str) -> dict[str, Any]:
        """A new flag, off in every environment."""
        return ok(self.admin.post(f"{API}/flags", json={"key": key}))  # type: ignore[no-any-return]

    def rules(self, flag: str, environment: str) -> dict[str, Any]:
        """``flag``'s rules in ``environment`` as the API reads them (with their version)."""
        return ok(self.admin.get(f"{API}/flags/{flag}/environments/{environment}"))  # type: ignore[no-any-return]

    def set_rules(self, flag: str, environment: str, rules: dict[str, Any]) -> dict[str, Any]:
        """Replace ``flag``'s rules in ``environment`` (an unprotected one) through the
        API, naming the version it replaces; the new rules."""
        version = self.rules(flag, environment)["version"]
        path = f"{API}/flags/{flag}/environments/{environment}"
        written = self.admin.put(path, json=rules, headers={"If-Match": f'"{version}"'})
        return ok(written)  # type: ignore[no-any-return]

    def sdk_key(self, environment: str) -> str:
        body = {"name": f"web-{environment}", "kind": "server", "project": PROJECT}
        body["environment"] = environment
        return str(ok(self.admin.post("/api/v1/tokens", json=body))["secret"])
