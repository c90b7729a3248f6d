"""Promotion does what the process says: promoting a release into an unprotected stage
switches its flags on there for the stage's testers (everyone, or one segment), audited
with the promotion; a protected stage's flags are left to the rollout plan. A rollback
drill where the flags are already off proves nothing: it fails, is recorded, and keeps
the production gate closed. On SQLite and PostgreSQL, through the API as a developer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import as_token, create_flag, issue, newest_audit_id
from tests.support.server import RunningServer

from shipwise.sdk import Client
from shipwise.server.services.principal import SYSTEM

P = "/api/v1/projects/default"
FLAGS = ("bulk-edit", "bulk-export")
USERS = [{"userId": f"user-{n}"} for n in range(200)]
# Gates that need no people or CI, and two flags in one release, so each test is about
# the testers; production keeps its protection (the default for the last stage) and asks
# for a drill in staging.
POLICY = """\
one_feature_per_release = false

[[stage]]
environment = "dev"
branch = "dev"
require_ci = false

[[stage]]
environment = "staging"
branch = "staging"
require_ci = false
{staging}

[[stage]]
environment = "production"
branch = "main"
require_ci = false
rollback_drill_in = "staging"
{production}

[hotfix]
approvals = {{ count = 1 }}
require_justification = false
"""


def use_policy(server: RunningServer, staging: str = "", production: str = "") -> None:
    """Store the policy as the project's applied shipwise.toml (test set-up)."""
    text = POLICY.format(staging=staging, production=production)
    with server.services.database.transaction() as tx:
        project = tx.get_project("default")
        assert project is not None
        tx.save_policy_source(project.id, text, datetime.now(UTC))


@pytest.fixture
def developer(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as admin:
        for flag in FLAGS:
            create_flag(admin, flag)
        response = admin.post(
            f"{P}/releases",
            json={"title": "Bulk edit", "kind": "feature", "key": "rel-3", "flags": list(FLAGS)},
        )
        assert response.status_code == 201, response.text
        secret = issue(admin, kind="api", project="default", role="developer", name="dana")
    with as_token(server, secret) as client:
        yield client


def promote(client: httpx.Client, environment: str) -> dict[str, Any]:
    response = client.post(f"{P}/releases/rel-3/promote", json={"environment": environment})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def sdk_client(server: RunningServer, environment: str) -> Client:
    """An SDK client over the snapshot a server SDK key of ``environment`` is served."""
    key = server.services.tokens.create(
        SYSTEM,
        name=f"web-{environment}",
        kind="server",
        project_key="default",
        environment_key=environment,
    ).secret
    snapshot = httpx.get(
        f"{server.url}/sdk/v1/snapshot", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert snapshot.status_code == 200, snapshot.text
    return Client.offline(snapshot.json())


def share_on(client: Client, flag: str, users: list[dict[str, str]] = USERS) -> float:
    return sum(client.is_enabled(flag, user) for user in users) / len(users)


def config(server: RunningServer, flag: str, environment: str) -> tuple[bool, int]:
    found = server.services.flags.config(SYSTEM, "default", flag, environment)
    return found.enabled, found.version


def configs(server: RunningServer, environment: str) -> list[tuple[bool, int]]:
    return [config(server, flag, environment) for flag in FLAGS]


def audit(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={"project": "default", **filters})
    assert response.status_code == 200, response.text
    return response.json()["records"]  # type: ignore[no-any-return]


def drill(client: httpx.Client, environment: str = "staging") -> dict[str, Any]:
    response = client.post(
        f"{P}/releases/rel-3/rollback-drill", json={"environment": environment, "sample": 50}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def drill_gate(client: httpx.Client) -> dict[str, Any]:
    response = client.get(f"{P}/releases/rel-3/gates", params={"environment": "production"})
    assert response.status_code == 200, response.text
    return next(g for g in response.json()["gates"] if g["gate"] == "rollback-drill")  # type: ignore[no-any-return]


def test_promote__into_dev_for_everyone__switches_each_flag_on_for_any_user(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given rel-3 with two flags, off everywhere, and dev's testers left at "everyone"
    use_policy(server)
    before = sdk_client(server, "dev")
    assert [share_on(before, flag) for flag in FLAGS] == [0, 0]

    # When a developer promotes it into dev
    answer = promote(developer, "dev")

    # Then both flags are on in dev for every user an SDK asks about, and only in dev
    assert answer["switched_on"] == list(FLAGS)
    dev = sdk_client(server, "dev")
    assert [share_on(dev, flag) for flag in FLAGS] == [1, 1]
    assert dev.is_enabled("bulk-edit", {})  # no user at all
    assert [share_on(sdk_client(server, "staging"), flag) for flag in FLAGS] == [0, 0]
    # And each flag change is audited and versioned, with the promotion that made it
    records = audit(developer, action="release.promote")
    flag_changes = [r for r in records if r["target_type"] == "flag"]
    assert sorted(r["target_key"] for r in flag_changes) == sorted(FLAGS)
    assert {r["environment"] for r in flag_changes} == {"dev"}
    assert all(r["after"]["enabled"] for r in flag_changes)
    assert all(r["after"]["version"] == r["before"]["version"] + 1 for r in flag_changes)
    (promotion,) = [r for r in records if r["target_type"] == "release"]
    assert promotion["after"]["switched_on"] == {"flags": list(FLAGS), "testers": "everyone"}


def test_promote__into_staging_for_a_segment__switches_the_flags_on_for_its_members_only(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given staging's testers are the segment qa-team (quinn and quentin)
    use_policy(server, 'testers = "qa-team"')
    members = {"contextName": "userId", "operator": "IN", "values": ["quinn", "quentin"]}
    response = developer.post(f"{P}/segments", json={"name": "qa-team", "constraints": [members]})
    assert response.status_code == 201, response.text
    promote(developer, "dev")

    # When rel-3 is promoted into staging
    answer = promote(developer, "staging")

    # Then its flags are on in staging for the segment's members, and for nobody else
    assert answer["switched_on"] == list(FLAGS)
    staging = sdk_client(server, "staging")
    for flag in FLAGS:
        assert staging.is_enabled(flag, {"userId": "quinn"})
        assert staging.is_enabled(flag, {"userId": "quentin"})
        assert share_on(staging, flag) == 0
    assert share_on(sdk_client(server, "dev"), "bulk-edit") == 1  # dev stays as it was


def test_promote__testers_segment_missing__refused_naming_it_and_nothing_changes(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given staging's testers are a segment nobody created
    use_policy(server, 'testers = "qa-team"')
    promote(developer, "dev")
    before = configs(server, "staging")
    with server.admin() as admin:
        audited = newest_audit_id(admin)

    # When rel-3 is promoted into staging
    response = developer.post(f"{P}/releases/rel-3/promote", json={"environment": "staging"})

    # Then it is refused, naming the segment and what to do, and nothing changed
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["field"] == "testers"
    assert "segment 'qa-team'" in error["message"]
    assert "`shipwise segment create qa-team …`" in error["message"]
    assert "nothing changed" in error["message"]
    release = developer.get(f"{P}/releases/rel-3").json()["release"]
    assert release["stage"] == "dev"
    assert configs(server, "staging") == before
    with server.admin() as admin:
        assert newest_audit_id(admin) == audited


def test_promote__into_protected_production__changes_no_flag(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given rel-3 in staging, its rollback rehearsed there
    use_policy(server)
    promote(developer, "dev")
    promote(developer, "staging")
    assert drill(developer)["succeeded"] is True
    before = configs(server, "production")

    # When it is promoted into production (protected: the last stage)
    answer = promote(developer, "production")

    # Then no flag moved there: the rollout plan, not the promotion, shows it to users
    assert answer["release"]["stage"] == "production"
    assert answer["switched_on"] == []
    assert configs(server, "production") == before
    assert [enabled for enabled, _version in before] == [False, False]
    assert share_on(sdk_client(server, "production"), "bulk-edit") == 0


@pytest.mark.parametrize(
    ("production", "switched"),
    [
        pytest.param("", [], id="protected production: left to the rollout plan"),
        pytest.param("protected = false", ["bulk-edit"], id="unprotected production: everyone"),
    ],
)
def test_promote__hotfix_path__switches_flags_by_the_target_stage_rule(
    server: RunningServer, developer: httpx.Client, production: str, switched: list[str]
) -> None:
    # Given a critical hotfix from main carrying bulk-edit, green in CI and approved
    use_policy(server, production=production)
    commit = "4f2a9c1e" * 5
    with server.admin() as admin:
        hotfix = {
            "key": "hot-1",
            "title": "Stop double charges",
            "kind": "hotfix",
            "severity": "critical",
            "branch": "main",
            "commit": commit,
            "flags": ["bulk-edit"],
        }
        assert admin.post(f"{P}/releases", json=hotfix).status_code == 201
        green = {"commit": commit, "context": "ci", "state": "success"}
        assert admin.post(f"{P}/ci", json=green).status_code == 201
    assert developer.post(f"{P}/releases/hot-1/approve", json={}).status_code == 200
    before = config(server, "bulk-edit", "production")

    # When it is promoted (the hotfix path goes straight to production)
    response = developer.post(f"{P}/releases/hot-1/promote", json={})

    # Then production's own rule decides whether the flag is switched on there
    assert response.status_code == 200, response.text
    assert response.json()["release"]["stage"] == "production"
    assert "HOTFIX" in response.json()["release"]["labels"]
    assert response.json()["switched_on"] == switched
    share = share_on(sdk_client(server, "production"), "bulk-edit")
    assert share == (1 if switched else 0)
    if not switched:
        assert config(server, "bulk-edit", "production") == before


def test_promote__testers_none__leaves_the_flags_alone(
    server: RunningServer, developer: httpx.Client
) -> None:
    use_policy(server, 'testers = "none"')
    promote(developer, "dev")
    before = configs(server, "staging")

    answer = promote(developer, "staging")

    assert answer["switched_on"] == []
    assert configs(server, "staging") == before


def test_drill__flags_already_off__fails_is_recorded_and_keeps_the_production_gate_closed(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given rel-3 in dev only: its flags are off in staging
    use_policy(server)
    promote(developer, "dev")
    before = configs(server, "staging")

    # When the rollback is rehearsed in staging
    report = drill(developer)

    # Then the drill fails and says why and what to do first, changing no flag
    assert report["succeeded"] is False
    assert report["detail"] == (
        "'bulk-edit' and 'bulk-export' are already off in staging, so switching them off "
        "proves nothing: promote rel-3 into staging first (`shipwise release promote rel-3 "
        "--env staging`; it switches the flags on for testers), then drill again"
    )
    assert report["restored"] == []
    assert configs(server, "staging") == before
    # And it is recorded as a failed drill, so the production gate stays closed
    (recorded,) = audit(developer, action="release.drill")
    assert (recorded["environment"], recorded["after"]["succeeded"]) == ("staging", False)
    assert recorded["after"]["detail"] == report["detail"]
    gate = drill_gate(developer)
    assert gate["passed"] is False
    assert "rollback drill in staging failed" in gate["detail"]
    assert "rehearse the rollback plan in staging" in gate["remedy"]


def test_drill__after_the_promotion_switched_the_flags_on__succeeds_and_opens_the_gate(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given a drill in staging that failed because rel-3 was not there yet
    use_policy(server)
    promote(developer, "dev")
    assert drill(developer)["succeeded"] is False

    # When rel-3 is promoted into staging (switching its flags on) and drilled again
    promote(developer, "staging")
    report = drill(developer)

    # Then the drill switched them off for every sampled user, put them back, and counts
    assert report["succeeded"] is True, report
    assert report["restored"] == sorted(FLAGS)
    assert [config(server, flag, "staging")[0] for flag in FLAGS] == [True, True]
    assert drill_gate(developer)["passed"] is True


def test_drill__one_flag_switched_off_after_the_promotion__names_it_and_how_to_switch_it_on(
    server: RunningServer, developer: httpx.Client
) -> None:
    # Given rel-3 in staging, where someone then switched bulk-export off
    use_policy(server)
    promote(developer, "dev")
    promote(developer, "staging")
    server.services.flags.set_enabled(SYSTEM, "default", "bulk-export", "staging", False)
    edit_on = config(server, "bulk-edit", "staging")

    # When the rollback is rehearsed there
    report = drill(developer)

    # Then it fails naming that flag, and bulk-edit is left on, untouched
    assert report["succeeded"] is False
    assert report["detail"] == (
        "'bulk-export' is already off in staging, so switching it off proves nothing: switch "
        "it on in staging first (`shipwise flag enable bulk-export -e staging`), then drill "
        "again"
    )
    assert config(server, "bulk-edit", "staging") == edit_on
    assert edit_on[0] is True
