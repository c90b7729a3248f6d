"""Projects, environments and flags through the CLI, against a real server: readable
tables by default, JSON that parses with --json, and the kill switch in one call."""

from __future__ import annotations

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer


@pytest.fixture
def project(shipwise: Shipwise, remote: tuple[str, ...], request: pytest.FixtureRequest) -> str:
    """A project of this test's own, with the pipeline dev → production."""
    key = f"p-{abs(hash(request.node.name)) % 10**8}"
    result = shipwise("project", "create", key, "-e", "dev", "-e", "production", *remote)
    assert result.exit_code == 0, result.output
    return key


def test_project_create__shows_pipeline_and_lists_it(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    created = shipwise("project", "create", "shop", "--name", "Shop [web]", *remote)
    assert created.exit_code == 0, created.output
    assert "Created project shop" in created.stdout
    assert "staging" in created.stdout

    listed = shipwise.json("project", "list", *remote)
    assert {p["key"] for p in listed["projects"]} >= {"default", "shop"}
    table = shipwise("project", "list", *remote).stdout
    assert "Shop [web]" in table  # user text is not taken for markup
    assert "dev → staging → production" in table
    shown = shipwise.json("project", "show", "shop", *remote)
    assert [e["key"] for e in shown["environments"]] == ["dev", "staging", "production"]


def test_env_create__appends_to_pipeline(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    result = shipwise("env", "create", "qa", "-p", project, "--branch", "release/qa", *remote)
    assert result.exit_code == 0, result.output
    environments = shipwise.json("env", "list", "-p", project, *remote)["environments"]
    assert [(e["key"], e["branch"]) for e in environments][-1] == ("qa", "release/qa")
    assert "release/qa" in shipwise("env", "list", "-p", project, *remote).stdout


def test_flag__create_list_show__table_and_json(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    # When a flag is created
    created = shipwise(
        "flag", "create", "new-checkout", "-p", project,
        "--description", "Checkout [v2]", "--owner", "ana", "--tag", "web", *remote,
    )  # fmt: skip

    # Then it is off everywhere, in the table and in JSON
    assert created.exit_code == 0, created.output
    assert "Created release flag new-checkout" in created.stdout
    listed = shipwise("flag", "list", "-p", project, *remote)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if "new-checkout" in line)
    assert "release" in row
    assert "Checkout [v2]" in row
    assert row.count("off") == 2
    flags = shipwise.json("flag", "list", "-p", project, *remote)["flags"]
    assert [f["key"] for f in flags] == ["new-checkout"]
    shown = shipwise.json("flag", "show", "new-checkout", "-p", project, *remote)
    assert shown["owner"] == "ana"
    assert shown["tags"] == ["web"]
    assert {e: r["enabled"] for e, r in shown["environments"].items()} == {
        "dev": False,
        "production": False,
    }


def test_flag__enable_rollout_kill__each_one_call(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, server: RunningServer
) -> None:
    # Given a flag
    shipwise("flag", "create", "new-checkout", "-p", project, *remote)
    flag = ("new-checkout", "-p", project)

    # When it is enabled in dev and rolled out to 25% there (production is protected: a
    # hand edit there may only reduce, test_protected_environments shows)
    enabled = shipwise("flag", "enable", *flag, "-e", "dev", *remote)
    rollout = shipwise("flag", "rollout", *flag, "25", "-e", "dev", *remote)

    # Then each says the new state
    assert enabled.exit_code == 0, enabled.output
    assert "new-checkout in dev: on (version 2)" in enabled.stdout
    assert rollout.exit_code == 0, rollout.output
    assert "on 25%" in rollout.stdout
    raised = shipwise.json("flag", "rollout", *flag, "50", "-e", "dev", *remote)
    assert raised["enabled"] is True
    assert raised["strategies"][0]["parameters"]["rollout"] == "50"
    shown = shipwise("flag", "show", *flag, *remote)
    assert "flexibleRollout 50% by default" in shown.stdout

    # When it is killed in dev
    killed = shipwise("flag", "kill", *flag, "-e", "dev", "--reason", "500s on checkout", *remote)

    # Then it is off there, production is untouched, and the reason is audited
    assert killed.exit_code == 0, killed.output
    assert "killed in dev: off for everyone" in killed.stdout
    after = shipwise.json("flag", "show", *flag, *remote)["environments"]
    assert after["dev"]["enabled"] is False
    assert after["production"]["enabled"] is False
    assert after["dev"]["version"] == 5
    with server.admin() as admin:
        page = admin.get("/api/v1/audit", params={"project": project}).json()
    kills = [r for r in page["records"] if r["action"] == "flag.kill"]
    assert [r["reason"] for r in kills] == ["500s on checkout"]


def test_flag_disable__switches_off(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    shipwise("flag", "create", "dark-mode", "-p", project, "--kind", "operational", *remote)
    shipwise("flag", "enable", "dark-mode", "-p", project, "-e", "dev", *remote)
    result = shipwise.json("flag", "disable", "dark-mode", "-p", project, "-e", "dev", *remote)
    assert result["enabled"] is False
    assert result["version"] == 3


def test_flag_kill__without_reason__is_a_usage_error(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    result = shipwise("flag", "kill", "x", "-p", project, "-e", "dev", *remote)
    assert result.exit_code == 2
    assert "--reason" in result.output


def test_flag_create__invalid_key__prints_server_message_and_field_exits_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    result = shipwise("flag", "create", "New Checkout", "-p", project, *remote)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "(field: key)" in result.stderr
    assert result.stdout == ""


def test_flag_rollout__unknown_environment__exits_2_with_server_message(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    shipwise("flag", "create", "new-checkout", "-p", project, *remote)
    result = shipwise("flag", "rollout", "new-checkout", "10", "-p", project, "-e", "prod", *remote)
    assert result.exit_code == 2  # a typo, not a refusal
    assert "no environment 'prod'" in result.stderr
    assert "dev, production" in result.stderr  # the server says which exist


def test_flag_show__missing__exits_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    result = shipwise("flag", "show", "nope", "-p", project, *remote)
    assert result.exit_code == 2
    assert "no flag 'nope'" in result.stderr


def test_flag_create__twice__refused_exits_1(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    shipwise("flag", "create", "dup", "-p", project, *remote)
    result = shipwise("flag", "create", "dup", "-p", project, *remote)
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_flag_rollout__percentage_out_of_range__is_a_usage_error(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("flag", "rollout", "x", "101", "-e", "dev", *remote)
    assert result.exit_code == 2
    assert "less than or equal to 100" in result.output
