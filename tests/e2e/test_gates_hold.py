"""Issue 11's promise, end to end, on SQLite and PostgreSQL: no feature reaches production
users except through its release or an approved change request.

A developer, a QA engineer and a release manager each try every way in with the
``shipwise`` command (the API's answers to the same hand edits are in
tests/integration/api/test_protected_environments.py): switching the flag on, raising its
percentage, starting a plan with no release or an unapproved one, importing over it,
applying an unreviewed change request, and a release manager unprotecting production on
their own. Each is refused with nothing changed, and an SDK on production sees the
feature off for everyone. Then the feature gets there the two honest ways, its release
(gates, then its plan at 10%) and a change request two other people approved, and
switching it off, killing it and rolling its release back are each one step for a
developer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from tests.integration.api.protected_world import World, protected_world
from tests.integration.cli.cli_runner import Shipwise

from shipwise.sdk import Client
from shipwise.server.services.principal import SYSTEM

USERS = [{"userId": str(n)} for n in range(400)]
UNPROTECTED_PRODUCTION = """
[[stage]]
environment = "dev"
branch = "dev"

[[stage]]
environment = "staging"
branch = "staging"

[[stage]]
environment = "production"
branch = "main"
protected = false
"""


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with protected_world(database_url, tmp_path) as people:
        yield people


class Team:
    """Each person's ``shipwise`` command, pointed at the world's server with their token."""

    def __init__(self, world: World, home: Path) -> None:
        self.world = world
        self.run = Shipwise(home)

    def __call__(self, who: str, *args: str) -> Result:
        secret = self.world.clients[who].headers["Authorization"].removeprefix("Bearer ")
        return self.run(*args, "--url", self.world.server.url, "--token", secret)

    def refused(self, who: str, *args: str) -> str:
        result = self(who, *args)
        assert result.exit_code == 1, (who, args, result.output)
        return result.output

    def done(self, who: str, *args: str) -> Any:
        result = self(who, *args, "--json")
        assert result.exit_code == 0, (who, args, result.output)
        return json.loads(result.stdout)


def seen_in_production(world: World, flag: str) -> int:
    """How many of 400 users an SDK on production shows ``flag`` to, right now."""
    key = world.services.tokens.create(
        SYSTEM, name="web", kind="server", project_key="default", environment_key="production"
    ).secret
    client = Client(world.server.url, key, app_name="e2e")
    try:
        assert client.wait_until_ready(10)
        return sum(client.is_enabled(flag, user) for user in USERS)
    finally:
        client.close()


def test_unreleased_feature__every_way_into_production__refused__until_its_release_or_approval(
    world: World, tmp_path: Path
) -> None:
    team = Team(world, tmp_path / "home")
    release = world.release("bulk-edit", "Bulk edit")
    exported = tmp_path / "unleash.json"
    exported.write_text(
        json.dumps(
            {
                "version": 2,
                "features": [
                    {
                        "name": "bulk-edit",
                        "enabled": True,
                        "strategies": [{"name": "default", "parameters": {}}],
                    }
                ],
            }
        )
    )
    before = world.snapshot("bulk-edit", "ops")

    # Every way in, tried by each of them, is refused and names the way that works
    for who in ("dev", "qa", "rm"):
        said = team.refused(who, "flag", "enable", "bulk-edit", "-e", "production")
        assert "production is protected" in said
        assert f"shipwise release promote {release} --env production" in said
        said = team.refused(who, "flag", "rollout", "bulk-edit", "25", "-e", "production")
        assert "would show it to more users" in said
        said = team.refused(who, "rollout", "start", "bulk-edit", "-e", "production")
        assert "none was given (--release)" in said
        said = team.refused(
            who, "rollout", "start", "bulk-edit", "-e", "production", "--release", release
        )
        assert f"{release} has not passed its gates into production" in said
        said = team.refused(who, "flag", "enable", "ops", "-e", "production")
        assert "shipwise change request ops -e production --enable" in said
        said = team.refused(who, "import", "unleash", str(exported), "-e", "production")
        assert "Nothing was imported" in said

    # And nothing changed: rules, plans, segments, the audit log; no user sees either flag
    assert world.snapshot("bulk-edit", "ops") == before
    assert seen_in_production(world, "bulk-edit") == 0
    assert seen_in_production(world, "ops") == 0

    # A change request is not a way round: unreviewed, or approved by its requester, it
    # does not apply
    number = team.done("dev", "change", "request", "ops", "-e", "production", "--enable")["id"]
    assert "approvals" in team.refused("dev", "change", "apply", str(number))
    assert "cannot review it" in team.refused("dev", "change", "approve", str(number))
    team.done("qa", "change", "approve", str(number))
    assert "1 more" in team.refused("dev", "change", "apply", str(number))
    assert seen_in_production(world, "ops") == 0

    # Nor is the policy: one release manager unprotecting production waits for a second
    policy = tmp_path / "shipwise.toml"
    policy.write_text(UNPROTECTED_PRODUCTION)
    pending = team.done("rm", "policy", "apply", str(policy))
    assert pending["applied"] is False
    assert any("protected" in weakening for weakening in pending["weakenings"])
    team.refused("rm", "flag", "enable", "bulk-edit", "-e", "production")
    assert world.rules("bulk-edit")["enabled"] is False

    # The first honest way: a second approval, then the request applies, once
    team.done("rm", "change", "approve", str(number))
    applied = team.done("dev", "change", "apply", str(number))
    assert applied["state"] == "applied"
    assert "applies once" in team.refused("dev", "change", "apply", str(number))
    assert seen_in_production(world, "ops") == len(USERS)

    # The second: the release passes its gates, then its plan takes the flag to 10%
    world.walk_to_production(release)
    team.refused("dev", "flag", "rollout", "bulk-edit", "100", "-e", "production")
    team.done("dev", "rollout", "start", "bulk-edit", "-e", "production", "--release", release)
    shown = seen_in_production(world, "bulk-edit")
    assert 0 < shown < len(USERS) // 4, shown  # 10% of users (plus beta testers: none here)

    # Fewer users is one step for a developer: off, kill, roll back
    team.done("dev", "flag", "disable", "ops", "-e", "production")
    assert seen_in_production(world, "ops") == 0
    team.done("dev", "flag", "kill", "ops", "-e", "production", "--reason", "INC-7")
    team.done("dev", "rollback", release, "--reason", "error spike")
    assert seen_in_production(world, "bulk-edit") == 0
    assert world.rules("bulk-edit")["enabled"] is False
