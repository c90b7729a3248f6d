"""Rollout plans in protected production, through the API on SQLite and PostgreSQL with
developer, QA and release-manager tokens: a plan starts only for a release that passed
its gates into production (without one, with an unapproved one, or for an operational
flag: a 409 naming the way there, nothing changed), one feature rolls out at a time, a
plan whose release was abandoned does not go on; and the way in works: the release
walked through its gates, then its plan, whose steps the audit log credits to the plan.
A rollback drill in production puts back exactly what it switched off.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.api.helpers import rules_path
from tests.integration.api.protected_world import (
    ROLES,
    P,
    World,
    ok,
    protected_world,
    refused,
    start,
)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with protected_world(database_url, tmp_path) as people:
        yield people


# -- rollout plans ---------------------------------------------------------------------------


def test_rollout_start__without_a_release_that_passed_its_gates__is_refused(world: World) -> None:
    release = world.release("bulk-edit", "Bulk edit")
    before = world.snapshot("bulk-edit", "ops")

    for who in ROLES:
        client = world.clients[who]
        # Without a release: the one that ships the flag, and the way through it
        refused(
            start(client, "bulk-edit"),
            "production is protected: a rollout plan there ships a release that has passed "
            "its gates, and none was given (--release).",
            f"it ships in {release} (in no environment yet): "
            f"`shipwise release promote {release} --env production -p default`, then "
            f"`shipwise rollout start bulk-edit --env production --release {release} -p default`",
        )
        # With its release, never approved nor promoted
        unapproved = start(client, "bulk-edit", release=release)
        refused(
            unapproved,
            f"{release} has not passed its gates into production (it is in no environment "
            f"yet). Run `shipwise release promote {release} --env production -p default` first",
        )
        assert unapproved.json()["error"]["field"] == "release"
        # A flag in no release at all
        refused(
            start(client, "search-v2"),
            "'search-v2' is in no release, so create one "
            "(`shipwise release create TITLE --flag search-v2 -p default`)",
        )
        # An operational flag: a change request is the way
        refused(
            start(client, "ops"),
            "An operational flag changes in production through an approved change request",
            "`shipwise change request ops -e production --rollout PCT -p default`",
        )
    assert world.snapshot("bulk-edit", "ops") == before


def test_rollout__after_the_release_passed_its_gates__takes_the_flag_out_and_holds_the_rest(
    world: World,
) -> None:
    # Given bulk-edit's release walked through every gate into production
    release = world.release("bulk-edit", "Bulk edit")
    world.walk_to_production(release)

    # When a developer starts its plan
    plan = ok(start(world.dev, "bulk-edit", release=release))

    # Then the flag is on in production for the plan's first step, the step audited with
    # the plan as its authority
    assert world.rules("bulk-edit")["enabled"] is True
    assert plan["state"]["percentage"] == 10
    records = world.admin.get("/api/v1/audit", params={"limit": 10}).json()["records"]
    step = next(r for r in records if r["action"] == "flag.rollout")
    assert step["environment"] == "production"
    assert step["after"]["authority"] == f"rollout plan #{plan['id']}"

    # And a hand edit still cannot take it further
    refused(
        world.dev.post(f"{rules_path('bulk-edit')}/rollout", json={"percentage": 100}),
        f"it ships in {release} (in production), so its rollout plan takes it to 100%",
    )

    # And a second feature may not start rolling out beside it, for any role
    before = world.snapshot("bulk-edit", "search-v2")
    for who in ROLES:
        refused(
            start(world.clients[who], "search-v2"),
            "production rolls out at most 1 feature at a time, and "
            f"rollout plan #{plan['id']} (bulk-edit, {release}, running) is under way there",
            "`shipwise rollout abort ID --reason WHY -p default`",
        )
    assert world.snapshot("bulk-edit", "search-v2") == before

    # And pausing and resuming it is fine while the release is in production
    pause = world.dev.post(f"{P}/rollouts/{plan['id']}/pause", json={"reason": "a look"})
    assert pause.status_code == 200, pause.text
    assert world.dev.post(f"{P}/rollouts/{plan['id']}/resume").status_code == 200


def test_rollout_resume__after_the_release_was_abandoned__is_refused(world: World) -> None:
    release = world.release("bulk-edit", "Bulk edit")
    world.walk_to_production(release)
    plan = ok(start(world.dev, "bulk-edit", release=release))
    ok(world.dev.post(f"{P}/rollouts/{plan['id']}/pause", json={"reason": "hold on"}))
    ok(world.carol.post(f"{P}/releases/{release}/abandon", json={"reason": "not wanted"}))
    before = world.snapshot("bulk-edit")

    for who in ROLES:
        refused(
            world.clients[who].post(f"{P}/rollouts/{plan['id']}/resume"),
            f"rollout plan #{plan['id']} cannot go on: production is protected",
            f"{release} was abandoned: it no longer ships",
        )
    refused(
        world.rm.post(f"{P}/rollouts/{plan['id']}/skip", json={"reason": "go"}),
        f"{release} was abandoned",
    )
    assert world.snapshot("bulk-edit") == before


def test_rollback_drill__in_production__restores_exactly_what_it_switched_off(
    world: World,
) -> None:
    # Given bulk-edit rolling out in production through its release
    release = world.release("bulk-edit", "Bulk edit")
    world.walk_to_production(release)
    ok(start(world.dev, "bulk-edit", release=release))
    before = world.rules("bulk-edit")

    # When the release manager rehearses the rollback there
    drill = world.carol.post(
        f"{P}/releases/{release}/rollback-drill", json={"environment": "production"}
    )

    # Then it switched the flag off, checked, and put back the very same rules (the
    # restore is the drill's own authority, not a hand edit)
    assert drill.status_code == 200, drill.text
    assert drill.json()["succeeded"] is True
    after = world.rules("bulk-edit")
    assert {k: after[k] for k in ("enabled", "strategies", "variants", "dependencies")} == {
        k: before[k] for k in ("enabled", "strategies", "variants", "dependencies")
    }


def test_abandon__while_its_plan_runs_in_production__is_refused_naming_the_rollback(
    world: World,
) -> None:
    # Given a release rolling out in production
    release = world.release("bulk-edit", "Bulk edit")
    world.walk_to_production(release)
    plan = ok(start(world.dev, "bulk-edit", release=release))
    before = world.snapshot("bulk-edit")

    # When a release manager abandons it while the plan runs
    response = world.carol.post(f"{P}/releases/{release}/abandon", json={"reason": "not wanted"})

    # Then it is refused (the plan would go on widening the flag), naming the way back
    refused(
        response,
        f"{release} is still rolling out (rollout plan #{plan['id']} (bulk-edit in production))",
        f"`shipwise rollback {release} --reason WHY -p default`",
    )
    assert world.snapshot("bulk-edit") == before
    assert ok(world.carol.get(f"{P}/releases/{release}"))["release"]["status"] != "abandoned"
