"""Production is protected: through the API, on SQLite and PostgreSQL, with developer, QA
and release-manager tokens, every hand edit that would show a feature to more users
there (enable, a higher percentage, a wider strategy, constraint, variant or segment, an
import over existing flags, unarchiving a flag left on) is a 409 that says why and names
the command that gets there, and changes nothing: the flag, the plans, the segments and
the audit log read back the same. What reduces exposure (disable, kill, a lower
percentage, a narrower rule) stays immediate for each of them. Rollout plans, the way in,
are in ``test_protected_rollouts``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.helpers import FLAGS, newest_audit_id, rules_path
from tests.integration.api.protected_world import (
    BLUE,
    LIVE_RULES,
    PLAN_COUNTRY,
    PLAN_PRO,
    ROLES,
    SETUP,
    P,
    World,
    ok,
    protected_world,
    refused,
)

from shipwise.server.services.principal import SYSTEM


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with protected_world(database_url, tmp_path) as people:
        yield people


# -- hand edits of a flag ------------------------------------------------------------------


def test_hand_edits__that_widen_in_production__are_refused_for_every_role_and_change_nothing(
    world: World,
) -> None:
    # Given search-v2 on for 10% of Norway in production, bulk-edit off, both in releases
    world.setup_rules("bulk-edit", {**LIVE_RULES, "enabled": True, "dependencies": []})
    world.setup_rules("bulk-edit", {"enabled": False, "strategies": [{"name": "default"}]})
    world.setup_rules("search-v2", LIVE_RULES)
    release = world.release("bulk-edit", "Bulk edit")
    version = world.rules("search-v2")["version"]
    live = LIVE_RULES["strategies"][0]
    widenings = {
        "a higher percentage": {
            **LIVE_RULES,
            "strategies": [{**live, "parameters": {**live["parameters"], "rollout": "50"}}],
        },
        "a constraint removed": {**LIVE_RULES, "strategies": [{**live, "constraints": []}]},
        "a strategy added": {**LIVE_RULES, "strategies": [live, {"name": "default"}]},
        "a variant added": {**LIVE_RULES, "variants": [BLUE, {**BLUE, "name": "green"}]},
        "a dependency removed": {**LIVE_RULES, "dependencies": []},
    }
    before = world.snapshot("bulk-edit", "search-v2")

    for who in ROLES:
        client = world.clients[who]
        # When they switch the released flag on
        enable = client.post(f"{rules_path('bulk-edit')}/enable")
        # Then it is refused, naming its release and the way through it
        message = refused(
            enable,
            "production is protected: enabling 'bulk-edit' would show it to more users",
            "(switches the flag on)",
            f"it ships in {release} (in no environment yet)",
            f"`shipwise release promote {release} --env production -p default`",
            f"`shipwise rollout start bulk-edit --env production --release {release} -p default`",
            "`shipwise change request bulk-edit -e production --enable -p default`",
            "Nothing changed.",
        )
        assert enable.json()["error"]["field"] == "environment"
        assert "2 approvals" in message

        # And raising the percentage, or any wider rules, the same
        rollout = client.post(f"{rules_path('search-v2')}/rollout", json={"percentage": 50})
        refused(rollout, "raises strategy 1's rollout from 10% to 50%", "--rollout PCT")
        for what, rules in widenings.items():
            response = client.put(
                rules_path("search-v2"), json=rules, headers={"If-Match": f'"{version}"'}
            )
            assert response.status_code == 409, (what, response.text)
            assert "these rules for 'search-v2'" in response.json()["error"]["message"]

    # And nothing changed: rules, plans, segments, audit
    assert world.snapshot("bulk-edit", "search-v2") == before


def test_operational_flag__enabled_by_hand__points_at_a_change_request(world: World) -> None:
    before = world.snapshot("ops")

    response = world.dev.post(f"{rules_path('ops')}/enable")

    refused(
        response,
        "production is protected: enabling 'ops'",
        "An operational flag changes in production through an approved change request "
        "(2 approvals, never the requester's own): "
        "`shipwise change request ops -e production --enable -p default`",
    )
    assert "release promote" not in response.json()["error"]["message"]
    assert world.snapshot("ops") == before


def test_reducing_changes__in_production__stay_immediate_and_audited_for_every_role(
    world: World,
) -> None:
    for who in ROLES:
        # Given search-v2 live in production
        world.setup_rules("search-v2", LIVE_RULES)
        client = world.clients[who]
        path = rules_path("search-v2")
        last = newest_audit_id(world.admin)

        # When they lower the percentage, add a constraint, take a strategy away, disable, kill
        lower = client.post(f"{path}/rollout", json={"percentage": 5})
        narrower = {**world.rules("search-v2")}
        strategy = narrower["strategies"][0]
        narrower = {
            key: narrower[key] for key in ("enabled", "strategies", "variants", "dependencies")
        }
        narrower["strategies"] = [{**strategy, "constraints": [PLAN_COUNTRY, PLAN_PRO]}]
        constrained = client.put(
            path, json=narrower, headers={"If-Match": f'"{world.rules("search-v2")["version"]}"'}
        )
        disabled = client.post(f"{path}/disable")
        world.setup_rules("search-v2", LIVE_RULES)
        killed = client.post(f"{path}/kill", json={"reason": f"INC-{who}"})

        # Then each went through at once, and is in the audit log
        for response in (lower, constrained, disabled, killed):
            assert response.status_code == 200, response.text
        assert world.rules("search-v2")["enabled"] is False
        records = world.admin.get("/api/v1/audit", params={"limit": 20}).json()["records"]
        actions = [
            r["action"] for r in records if r["id"] > last and r["target_key"] == "search-v2"
        ]
        assert {"flag.rollout", "flag.configure", "flag.disable", "flag.kill"} <= set(actions)


def test_audit__a_change_made_with_an_authority__records_it(world: World) -> None:
    world.setup_rules("search-v2", LIVE_RULES)

    records = world.admin.get("/api/v1/audit", params={"limit": 1}).json()["records"]

    assert records[0]["action"] == "flag.configure"
    assert records[0]["after"]["authority"] == SETUP


# -- segments --------------------------------------------------------------------------------


def test_segment__widened_while_a_flag_on_in_production_uses_it__is_refused(world: World) -> None:
    # Given the beta segment used by search-v2, on in production
    segment = ok(world.admin.get(f"{P}/segments/beta-testers"))
    uses_beta = {"name": "default", "segments": [segment["id"]]}
    world.setup_rules("search-v2", {**LIVE_RULES, "strategies": [uses_beta]})
    before = world.snapshot("search-v2")
    wider = {"constraints": [], "description": "everyone"}

    for who in ROLES:
        # When they drop its constraint
        response = world.clients[who].put(
            f"{P}/segments/beta-testers",
            json=wider,
            headers={"If-Match": f'"{segment["version"]}"'},
        )
        # Then it is refused, naming the flag and the change request that gets there
        refused(
            response,
            "production is protected: this change to segment 'beta-testers' would show 'search-v2' "
            "in production to more users (removes a constraint (on 'plan'))",
            "`shipwise change segment beta-testers --constraints FILE -p default`",
        )
        assert response.json()["error"]["field"] == "constraints"
    assert world.snapshot("search-v2") == before

    # And narrowing it is immediate
    narrower = {"constraints": [PLAN_PRO, PLAN_COUNTRY]}
    headers = {"If-Match": f'"{segment["version"]}"'}
    assert (
        world.dev.put(f"{P}/segments/beta-testers", json=narrower, headers=headers).status_code
        == 200
    )


def test_segment__widened_while_its_flags_are_off_in_production__goes_through(
    world: World,
) -> None:
    segment = ok(world.admin.get(f"{P}/segments/beta-testers"))
    uses_beta = {"name": "default", "segments": [segment["id"]]}
    world.setup_rules("search-v2", {**LIVE_RULES, "strategies": [uses_beta]}, "staging")

    response = world.dev.put(
        f"{P}/segments/beta-testers", json={"constraints": []}, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 200, response.text


def test_segment__widened_with_an_authority__goes_through_and_is_audited(world: World) -> None:
    """What an approved change request does (``SegmentService.update(authority=)``)."""
    segment = ok(world.admin.get(f"{P}/segments/beta-testers"))
    world.setup_rules(
        "search-v2",
        {**LIVE_RULES, "strategies": [{"name": "default", "segments": [segment["id"]]}]},
    )

    saved = world.services.segments.update(
        SYSTEM,
        "default",
        "beta-testers",
        [],
        None,
        segment["version"],
        authority="change request #1",
    )

    assert saved.constraints == []
    records = world.admin.get("/api/v1/audit", params={"limit": 5}).json()["records"]
    update = next(r for r in records if r["action"] == "segment.update")
    assert update["after"]["authority"] == "change request #1"


# -- import ----------------------------------------------------------------------------------

IMPORT = f"{P}/environments/production/import/unleash"


def _feature(name: str, enabled: bool, rollout: str = "100") -> dict[str, Any]:
    parameters = {"rollout": rollout, "stickiness": "default", "groupId": name}
    return {
        "name": name,
        "type": "release",
        "enabled": enabled,
        "strategies": [{"name": "flexibleRollout", "parameters": parameters}],
    }


def test_import__over_existing_flags_that_it_would_widen__is_refused_whole(world: World) -> None:
    world.setup_rules("search-v2", {**LIVE_RULES, "dependencies": []})
    before = world.snapshot("bulk-edit", "search-v2")
    document = {
        "version": 2,
        "features": [
            _feature("brand-new", True),
            _feature("bulk-edit", True),
            _feature("search-v2", True, rollout="60"),
        ],
    }

    for who in ROLES:
        response = world.clients[who].post(IMPORT, json=document)

        refused(
            response,
            "production is protected: this import would show flags that already exist there "
            "to more users: 'bulk-edit' (switches the flag on); 'search-v2' (",
            "Nothing was imported.",
        )
        assert response.json()["error"]["field"] == "features[1]"
    assert world.snapshot("bulk-edit", "search-v2") == before
    assert world.admin.get(f"{FLAGS}/brand-new").status_code == 404


def test_import__of_flags_new_to_the_project__arrives_as_it_is(world: World) -> None:
    document = {"version": 2, "features": [_feature("brand-new", True), _feature("ops", False)]}

    response = world.dev.post(IMPORT, json=document)

    assert response.status_code == 200, response.text
    assert response.json()["created_flags"] == ["brand-new"]
    assert world.rules("brand-new")["enabled"] is True
    assert world.rules("ops")["enabled"] is False  # switched off: never a widening


# -- archive -----------------------------------------------------------------------------------


def test_unarchive__of_a_flag_left_on_in_production__is_refused_until_it_is_off(
    world: World,
) -> None:
    world.setup_rules("search-v2", {**LIVE_RULES, "dependencies": []})
    ok(world.dev.patch(f"{FLAGS}/search-v2", json={"archived": True}))
    before = world.snapshot("search-v2")

    refused(
        world.dev.patch(f"{FLAGS}/search-v2", json={"archived": False}),
        "production is protected: unarchiving 'search-v2' would show it to users again",
        "`shipwise flag disable search-v2 -e production -p default`",
    )
    assert world.snapshot("search-v2") == before

    ok(world.dev.post(f"{rules_path('search-v2')}/disable"))
    assert world.dev.patch(f"{FLAGS}/search-v2", json={"archived": False}).status_code == 200
