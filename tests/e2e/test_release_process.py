"""One feature release walked from development to production exactly as PRODUCT.md
describes, through the API, against a real server on SQLite. On the way, every unsafe
promotion the process forbids is refused with a clear reason, and changes nothing.

People (api tokens named after them): alice writes the change (developer), bob reviews
as code owner (developer), carol is the release manager, quinn is QA, ci reports deploys.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

from shipwise.server.services.principal import SYSTEM

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # inside business hours
COMMIT = "4f2a9c1e" * 5
OTHER_COMMIT = "9b1d0e77" * 5
P = "/api/v1/projects/default"
PEOPLE = {
    "alice": "developer",
    "bob": "developer",
    "carol": "release-manager",
    "dana": "release-manager",  # the second pair of eyes on a weakening policy change
    "quinn": "qa",
    "ci": "developer",
}


class Team:
    def __init__(self, server: RunningServer) -> None:
        self.clients: dict[str, httpx.Client] = {}
        for name, role in PEOPLE.items():
            secret = server.services.tokens.create(
                SYSTEM, name=name, kind="api", project_key="default", role=role
            ).secret
            self.clients[name] = httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=10
            )

    def __getattr__(self, name: str) -> httpx.Client:
        return self.clients[name]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_10)


@pytest.fixture
def server(tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path, clock=clock) as running:
        running.services.flags.create(SYSTEM, "default", "new-checkout")
        running.services.flags.create(SYSTEM, "default", "saved-carts")
        yield running


@pytest.fixture
def team(server: RunningServer) -> Iterator[Team]:
    people = Team(server)
    yield people
    people.close()


def ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json()


def stage_of(team: Team, key: str) -> str | None:
    return ok(team.carol.get(f"{P}/releases/{key}"))["release"]["stage"]


def refused(team: Team, key: str, gate: str, environment: str | None = None) -> str:
    """Promotion refused because of ``gate``; nothing changed. Returns the remedy."""
    before = ok(team.carol.get(f"{P}/releases/{key}"))
    response = team.carol.post(f"{P}/releases/{key}/promote", json={"environment": environment})
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    unmet = {g["gate"]: g for g in error["gates"] if not g["passed"]}
    assert gate in unmet, (gate, unmet)
    assert ok(team.carol.get(f"{P}/releases/{key}")) == before
    return str(unmet[gate]["remedy"])


def promote(team: Team, key: str) -> None:
    body = ok(team.carol.post(f"{P}/releases/{key}/promote", json={}))
    assert body["allowed"] is True


def test_feature__walks_dev_staging_production__refusing_every_unsafe_promotion(  # noqa: PLR0915 - the walk is the process, step by step
    server: RunningServer, team: Team, clock: ManualClock
) -> None:
    # 1. Development complete: alice opens the release for her feature.
    release = ok(
        team.alice.post(
            f"{P}/releases",
            json={
                "title": "New checkout",
                "kind": "feature",
                "flags": ["new-checkout"],
                "commit": COMMIT,
                "branch": "feature/new-checkout",
                "pull_requests": [{"number": 42, "title": "New checkout"}],
                "rollback_plan": "Turn new-checkout off; revert the merge commit.",
                "communication_plan": "Release notes to support on day 1.",
            },
        )
    )
    key = release["key"]
    assert release["stage"] is None

    # Into dev: tests passing (CI) and a code owner's approval; never the author's own.
    refused(team, key, "ci")
    ok(team.ci.post(f"{P}/ci", json={"commit": COMMIT, "context": "tests", "state": "success"}))
    self_approval = team.alice.post(f"{P}/releases/{key}/approve", json={})
    assert self_approval.status_code == 409
    assert "cannot approve" in self_approval.json()["error"]["message"]
    assert "code-owner" in refused(team, key, "approvals")
    ok(team.bob.post(f"{P}/releases/{key}/approve", json={}))
    promote(team, key)
    assert stage_of(team, key) == "dev"

    # 2-3. Dev testing, then dev -> staging with one approval, after the dev deploy.
    refused(team, key, "previous-deploy")
    ok(team.ci.post(f"{P}/deploys", json={"environment": "dev", "commit": COMMIT}))
    refused(team, key, "approvals")
    ok(team.bob.post(f"{P}/releases/{key}/approve", json={}))
    promote(team, key)
    assert stage_of(team, key) == "staging"

    # 4-5. QA on staging, then production: two approvals, QA sign-off, the same commit
    # deployed to staging, a rehearsed rollback, business hours, no freeze.
    ok(team.ci.post(f"{P}/deploys", json={"environment": "staging", "commit": OTHER_COMMIT}))
    refused(team, key, "previous-deploy")  # another commit on staging does not count
    ok(team.ci.post(f"{P}/deploys", json={"environment": "staging", "commit": COMMIT}))

    ok(team.bob.post(f"{P}/releases/{key}/approve", json={}))
    remedy = refused(team, key, "approvals")  # production with one approval
    assert "1 more" in remedy
    ok(team.carol.post(f"{P}/releases/{key}/approve", json={}))

    refused(team, key, "signoff:qa")  # without QA sign-off
    ok(team.quinn.post(f"{P}/releases/{key}/signoff", json={"kind": "qa", "stage": "staging"}))

    refused(team, key, "rollback-drill")  # without a rehearsed rollback
    # Promoting into staging switched new-checkout on there for QA, so the drill has
    # something to switch off; it verifies through the SDK and puts the flag back.
    on_in_staging = server.services.flags.config(SYSTEM, "default", "new-checkout", "staging")
    assert on_in_staging.enabled
    body = {"environment": "staging", "sample": 50}
    drill = ok(team.carol.post(f"{P}/releases/{key}/rollback-drill", json=body))
    assert drill["succeeded"] is True, drill

    clock.set(datetime(2026, 12, 2, 20, 0, tzinfo=UTC))
    refused(team, key, "business-hours")  # outside business hours
    clock.set(WEDNESDAY_10)

    freeze = '[[freeze]]\nname = "December freeze"\nstart = 2026-12-01\nend = 2026-12-03\n'
    ok(team.carol.put(f"{P}/policy", json={"source": freeze}))
    refused(team, key, "freeze")  # during a freeze
    # Lifting the freeze weakens the policy: it waits for a second release manager.
    lifted = ok(team.carol.put(f"{P}/policy", json={"source": ""}))["change_request"]["id"]
    refused(team, key, "freeze")  # still frozen until then
    ok(team.dana.post(f"{P}/change-requests/{lifted}/approve"))
    ok(team.dana.post(f"{P}/change-requests/{lifted}/apply"))

    # A second feature rolling out at the same time is refused (the first one holds it).
    gates = ok(team.carol.get(f"{P}/releases/{key}/gates", params={"environment": "production"}))
    assert gates["allowed"] is True
    promote(team, key)
    assert stage_of(team, key) == "production"

    second = ok(
        team.alice.post(
            f"{P}/releases",
            json={
                "title": "Saved carts",
                "kind": "feature",
                "flags": ["saved-carts"],
                "commit": OTHER_COMMIT,
                "rollback_plan": "Turn saved-carts off.",
            },
        )
    )["key"]
    ok(
        team.ci.post(
            f"{P}/ci", json={"commit": OTHER_COMMIT, "context": "tests", "state": "success"}
        )
    )
    ok(team.bob.post(f"{P}/releases/{second}/approve", json={}))
    promote(team, second)
    ok(team.ci.post(f"{P}/deploys", json={"environment": "dev", "commit": OTHER_COMMIT}))
    ok(team.bob.post(f"{P}/releases/{second}/approve", json={}))
    promote(team, second)
    for person in ("bob", "carol"):
        ok(team.clients[person].post(f"{P}/releases/{second}/approve", json={}))
    ok(team.quinn.post(f"{P}/releases/{second}/signoff", json={"kind": "qa", "stage": "staging"}))
    ok(
        team.carol.post(
            f"{P}/releases/{second}/drills", json={"environment": "staging", "succeeded": True}
        )
    )
    refused(team, second, "one-feature-rolling-out")

    # Every transition is in the audit log.
    records = ok(team.carol.get("/api/v1/audit", params={"project": "default", "target_key": key}))
    actions = [r["action"] for r in records["records"]]
    assert actions.count("release.promote") == 3
    assert "release.approval" in actions


def test_approvals__withdrawn_when_the_release_changes(server: RunningServer, team: Team) -> None:
    key = ok(
        team.alice.post(
            f"{P}/releases",
            json={
                "title": "Checkout",
                "kind": "feature",
                "flags": ["new-checkout"],
                "commit": COMMIT,
            },
        )
    )["key"]
    ok(team.ci.post(f"{P}/ci", json={"commit": COMMIT, "context": "tests", "state": "success"}))
    ok(team.bob.post(f"{P}/releases/{key}/approve", json={}))
    assert ok(team.carol.get(f"{P}/releases/{key}"))["allowed"] is True

    changed = ok(team.alice.patch(f"{P}/releases/{key}", json={"commit": OTHER_COMMIT}))
    assert changed["content_version"] == 2

    ok(
        team.ci.post(
            f"{P}/ci", json={"commit": OTHER_COMMIT, "context": "tests", "state": "success"}
        )
    )
    refused(team, key, "approvals")
    ok(team.bob.post(f"{P}/releases/{key}/approve", json={}))
    promote(team, key)


def test_hotfix__critical_bug_goes_from_main_straight_to_production(
    server: RunningServer, team: Team, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 12, 5, 23, 30, tzinfo=UTC))  # Saturday night: outages do not wait
    key = ok(
        team.alice.post(
            f"{P}/releases",
            json={
                "title": "Stop double charges",
                "kind": "hotfix",
                "severity": "critical",
                "branch": "main",
                "commit": COMMIT,
            },
        )
    )["key"]
    ok(team.ci.post(f"{P}/ci", json={"commit": COMMIT, "context": "tests", "state": "success"}))
    ok(team.bob.post(f"{P}/releases/{key}/approve", json={}))
    ok(team.carol.post(f"{P}/releases/{key}/approve", json={}))
    refused(team, key, "justification")
    ok(
        team.alice.patch(
            f"{P}/releases/{key}",
            json={"justification": "Customers are charged twice since 22:10."},
        )
    )
    promote(team, key)
    release = ok(team.carol.get(f"{P}/releases/{key}"))["release"]
    assert release["stage"] == "production"
    assert "HOTFIX" in release["labels"]
    records = ok(team.carol.get("/api/v1/audit", params={"project": "default", "target_key": key}))
    promotion = next(r for r in records["records"] if r["action"] == "release.promote")
    assert promotion["after"]["hotfix"]["notify_team"] is True
    assert promotion["after"]["hotfix"]["close_monitoring"] is True
    # The team hears it: a critical notification queued with the promotion.
    with server.services.database.read() as tx:
        queued = [item.notification for item in tx.due_outbox(clock(), 100)]
    hotfix = [n for n in queued if n.kind == "release.hotfix"]
    assert hotfix
    assert hotfix[0].severity == "critical"
    assert "Customers are charged twice" in hotfix[0].text
    assert "closely for the next 24 hours" in hotfix[0].text
