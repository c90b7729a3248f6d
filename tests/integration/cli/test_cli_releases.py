"""Releases through the CLI, against a real server: create, show with each gate's state,
gather evidence (CI, approvals, checklist, sign-off, drills, deploys), gate checks with
exit codes CI can rely on (0 go, 1 unmet gates, 2 error), promotions refused with a
table of unmet gates, and the policy file applied with its mistakes named by line and key.

People (api tokens named after them, on the test's own project): alice writes the change
(developer), bob reviews as code owner (developer), quinn is QA.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise

COMMIT = "4f2a9c1e" * 5
OTHER_COMMIT = "9b1d0e77" * 5
PEOPLE = {"alice": "developer", "bob": "developer", "quinn": "qa"}

# A policy close to the defaults, with a checklist item on staging.
POLICY = """\
[[stage]]
environment = "dev"
branch = "dev"
approvals = { count = 1, roles = ["code-owner"] }

[[stage]]
environment = "staging"
branch = "staging"
require_previous_deploy = true
approvals = { count = 1 }
checklist = ["Tested on dev and stable"]

[[stage]]
environment = "production"
branch = "main"
require_previous_deploy = true
approvals = { count = 2 }
signoffs = [{ kind = "qa", environment = "staging" }]
require_rollback_plan = true
"""

As = dict[str, tuple[str, ...]]


@pytest.fixture
def project(shipwise: Shipwise, remote: tuple[str, ...], request: pytest.FixtureRequest) -> str:
    """A project of this test's own (dev → staging → production) with a flag."""
    key = f"r-{abs(hash(request.node.name)) % 10**8}"
    created = shipwise("project", "create", key, *remote)
    assert created.exit_code == 0, created.output
    flag = shipwise("flag", "create", "new-checkout", "-p", key, *remote)
    assert flag.exit_code == 0, flag.output
    return key


@pytest.fixture
def people(shipwise: Shipwise, remote: tuple[str, ...], project: str) -> As:
    """Each person's options: --url and their own --token."""
    url = remote[:2]
    options = {}
    for name, role in PEOPLE.items():
        result = shipwise(
            "token", "create", "--kind", "api", "-p", project, "--role", role, "--name", name,
            *remote,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        options[name] = (*url, "--token", result.stdout.strip())
    return options


def _create(shipwise: Shipwise, project: str, people: As, *extra: str) -> str:
    """alice's feature release of new-checkout at COMMIT; its key."""
    created = shipwise.json(
        "release", "create", "New checkout [v2]", "-p", project, "--flag", "new-checkout",
        "--commit", COMMIT, *extra, *people["alice"],
    )  # fmt: skip
    return str(created["key"])


def _put_in_force(shipwise: Shipwise, remote: tuple[str, ...], project: str, path: Path) -> None:
    """Apply a policy file as the first admin. POLICY loosens the defaults (no business
    hours, fewer gates), so it waits for a second release manager, who approves and
    applies it."""
    applied = shipwise("policy", "apply", str(path), "-p", project, *remote)
    assert applied.exit_code == 0, applied.output
    assert "waiting for a second release manager: it weakens" in applied.stdout
    number = applied.stdout.split("change request #", 1)[1].split(",", 1)[0]
    secret = shipwise(
        "token", "create", "--kind", "api", "-p", project, "--role", "release-manager",
        "--name", "rita", *remote,
    ).stdout.strip()  # fmt: skip
    for step in ("approve", "apply"):
        done = shipwise("change", step, number, "-p", project, *remote[:2], "--token", secret)
        assert done.exit_code == 0, done.output


def _row(output: str, text: str) -> str:
    return next(line for line in output.splitlines() if text in line)


def test_release_create_show__gate_table_and_json(
    shipwise: Shipwise, people: As, project: str, tmp_path: Path
) -> None:
    # Given a rollback plan written in a file
    plan = tmp_path / "rollback.md"
    plan.write_text("Turn new-checkout off.\nRevert the merge commit.\n", encoding="utf-8")

    # When alice creates a release
    created = shipwise(
        "release", "create", "New checkout [v2]", "-p", project, "--flag", "new-checkout",
        "--commit", COMMIT, "--pr", "https://github.com/acme/shop/pull/42",
        "--rollback-plan", f"@{plan}", *people["alice"],
    )  # fmt: skip

    # Then it is numbered by the server, and not in any environment yet
    assert created.exit_code == 0, created.output
    assert f"Created feature release rel-1 in {project}: New checkout [v2]" in created.stdout
    detail = shipwise.json("release", "show", "rel-1", "-p", project, *people["bob"])
    release = detail["release"]
    assert release["owner"] == "alice"
    assert release["stage"] is None
    assert release["pull_requests"][0]["number"] == 42
    assert release["pull_requests"][0]["url"] == "https://github.com/acme/shop/pull/42"
    assert release["rollback_plan"].startswith("Turn new-checkout off.")
    assert detail["next_stage"] == "dev"
    assert detail["allowed"] is False
    states = {g["gate"]: g["passed"] for g in detail["gates"]}
    assert states["approvals"] is False
    assert states["ci"] is False
    assert states["one-feature-per-release"] is True

    # And show prints each gate's state, with what would satisfy the unmet ones
    shown = shipwise("release", "show", "rel-1", "-p", project, *people["bob"])
    assert shown.exit_code == 0, shown.output
    assert "New checkout [v2]" in shown.stdout  # user text is not taken for markup
    assert "not promoted yet" in shown.stdout
    assert "rollback plan: Turn new-checkout off. …" in shown.stdout
    assert "Next: dev — 2 of 5 gates unmet" in shown.stdout
    assert "✗" in _row(shown.stdout, "Approvals")
    assert "other than alice" in _row(shown.stdout, "Approvals")
    assert "✗" in _row(shown.stdout, "CI green")
    assert "✓" in _row(shown.stdout, "One feature per release")


def test_release_list__by_stage_and_status(shipwise: Shipwise, people: As, project: str) -> None:
    first = _create(shipwise, project, people)
    second = _create(shipwise, project, people)
    shipwise("release", "abandon", second, "-p", project, "-r", "duplicate", *people["alice"])

    listed = shipwise("release", "list", "-p", project, *people["bob"])
    assert listed.exit_code == 0, listed.output
    assert "not promoted yet" in _row(listed.stdout, first)
    assert "abandoned" in _row(listed.stdout, second)
    in_progress = shipwise.json(
        "release", "list", "-p", project, "--status", "in-progress", *people["bob"]
    )
    assert [r["key"] for r in in_progress["releases"]] == [first]
    in_dev = shipwise("release", "list", "-p", project, "--stage", "dev", *people["bob"])
    assert f"No releases of {project} in dev" in in_dev.stdout


def test_gate_check__exit_1_with_unmet_gates__then_0_once_met(
    shipwise: Shipwise, remote: tuple[str, ...], people: As, project: str
) -> None:
    key = _create(shipwise, project, people)
    check = ("gate", "check", key, "--env", "dev", "-p", project, *remote)

    # When nothing is gathered yet, the gate check says no (exit 1) and lists what is missing
    refused = shipwise(*check)
    assert refused.exit_code == 1, refused.output
    assert f"{key} may not go to dev yet: 2 of 5 gates unmet" in refused.stdout
    assert "needs 1 more approval from a code-owner" in _row(refused.stdout, "Approvals")
    assert "no CI result" in _row(refused.stdout, "CI green")
    assert "Pipeline order" not in refused.stdout  # only the unmet ones
    as_json = shipwise(*check, "--json")
    assert as_json.exit_code == 1
    decision = json.loads(as_json.stdout)
    assert decision["target"] == "dev"
    assert decision["allowed"] is False
    assert {g["gate"] for g in decision["gates"] if not g["passed"]} == {"approvals", "ci"}

    # When CI reports red, then green, and bob approves
    red = shipwise(
        "ci", "report", "--ref", COMMIT, "--context", "tests", "--state", "failure",
        "-p", project, *remote,
    )  # fmt: skip
    assert red.exit_code == 0, red.output
    assert "Recorded tests failure for 4f2a9c1e4f2a" in red.stdout
    assert "failure" in _row(shipwise(*check).stdout, "CI green")
    shipwise(
        "ci", "report", "--ref", COMMIT, "--context", "tests", "--state", "success",
        "-p", project, *remote,
    )  # fmt: skip
    approved = shipwise("release", "approve", key, "-p", project, *people["bob"])

    # Then each says what the promotion still needs, and the gate check says go (exit 0)
    assert approved.exit_code == 0, approved.output
    assert f"Approved {key} for dev." in approved.stdout
    assert f"Every gate for dev is met: shipwise release promote {key}" in approved.stdout
    allowed = shipwise(*check)
    assert allowed.exit_code == 0, allowed.output
    assert f"{key} may go to dev: all 5 gates met." in allowed.stdout
    as_json = shipwise(*check, "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["allowed"] is True
    # And asking changed nothing
    assert shipwise.json("release", "show", key, "-p", project, *remote)["release"]["stage"] is None


def test_gate_check__errors__exit_2_never_1(
    shipwise: Shipwise, remote: tuple[str, ...], people: As, project: str
) -> None:
    key = _create(shipwise, project, people)

    unknown = shipwise("gate", "check", "rel-404", "--env", "dev", "-p", project, *remote)
    assert unknown.exit_code == 2
    assert "no release 'rel-404'" in unknown.stderr
    assert unknown.stdout == ""
    wrong_token = ("--url", remote[1], "--token", "sw_api_not-a-token")
    refused = shipwise("gate", "check", key, "--env", "dev", "-p", project, *wrong_token)
    assert refused.exit_code == 2
    unreachable = ("--url", "http://127.0.0.1:9", "--token", "sw_api_x")
    down = shipwise("gate", "check", key, "--env", "dev", "-p", project, *unreachable)
    assert down.exit_code == 2
    assert "cannot reach Shipwise" in down.stderr
    nowhere = shipwise("gate", "check", key, "--env", "dev", "-p", project)
    assert nowhere.exit_code == 2
    assert "No URL was given" in nowhere.stderr


def test_promote__refused__gate_table_exit_1_nothing_changed(
    shipwise: Shipwise, remote: tuple[str, ...], people: As, project: str
) -> None:
    key = _create(shipwise, project, people)

    # When the release is promoted before any evidence
    refused = shipwise("release", "promote", key, "-p", project, *remote)

    # Then it is refused (exit 1) with a table of the unmet gates, and nothing changed
    assert refused.exit_code == 1, refused.output
    assert f"{key} was not promoted: 2 of 5 gates unmet; nothing changed." in refused.stdout
    assert "✗" in _row(refused.stdout, "Approvals")
    assert "run CI on 4f2a9c1e4f2a" in _row(refused.stdout, "CI green")
    assert "3 other gates met" in refused.stdout
    assert shipwise.json("release", "show", key, "-p", project, *remote)["release"]["stage"] is None
    as_json = shipwise("release", "promote", key, "-p", project, "--json", *remote)
    assert as_json.exit_code == 1
    body = json.loads(as_json.stdout)
    assert body["allowed"] is False
    assert {g["gate"] for g in body["gates"] if not g["passed"]} == {"approvals", "ci"}


def test_release__walks_to_staging_with_evidence__then_content_change_withdraws_it(
    shipwise: Shipwise, remote: tuple[str, ...], people: As, project: str, tmp_path: Path
) -> None:
    # Given a policy with a checklist item on staging, and a release green in CI
    policy = tmp_path / "shipwise.toml"
    policy.write_text(POLICY, encoding="utf-8")
    _put_in_force(shipwise, remote, project, policy)
    key = _create(shipwise, project, people)
    shipwise(
        "ci", "report", "--ref", COMMIT, "--context", "build", "--state", "success",
        "-p", project, *remote,
    )  # fmt: skip

    # When bob approves it into dev, it is promoted, and CI reports the deploy there
    shipwise("release", "approve", key, "-p", project, *people["bob"])
    promoted = shipwise("release", "promote", key, "-p", project, *remote)
    assert promoted.exit_code == 0, promoted.output
    assert f"Promoted {key} into dev: all 5 gates met." in promoted.stdout
    deployed = shipwise("deploy", "report", "--env", "dev", "--ref", COMMIT, "-p", project, *remote)
    assert deployed.exit_code == 0, deployed.output
    assert f"Recorded a deploy of 4f2a9c1e4f2a to {project}/dev: succeeded." in deployed.stdout

    # Then staging wants an approval and the checklist item, each named
    check = ("gate", "check", key, "--env", "staging", "-p", project, *remote)
    waiting = shipwise(*check)
    assert waiting.exit_code == 1, waiting.output
    assert "Tested on dev and stable" in waiting.stdout
    assert "Approvals" in waiting.stdout

    # When the item is ticked, quinn signs off, a drill is recorded and bob approves
    ticked = shipwise(
        "release", "check", key, "Tested on dev and stable", "--note", "a day on dev",
        "-p", project, *people["bob"],
    )  # fmt: skip
    assert ticked.exit_code == 0, ticked.output
    assert f'Checked "Tested on dev and stable" on {key} for staging.' in ticked.stdout
    assert "Still needed for staging: Approvals" in ticked.stdout
    signed = shipwise("release", "signoff", key, "-p", project, *people["quinn"])
    assert signed.exit_code == 0, signed.output
    # (the server picks the stage before production: staging in this pipeline)
    assert f"QA signed {key} off." in signed.stdout
    drilled = shipwise("release", "drill", key, "--env", "staging", "-p", project, *remote)
    assert drilled.exit_code == 0, drilled.output
    assert f"Recorded a successful rollback drill of {key} in staging." in drilled.stdout
    shipwise("release", "approve", key, "-p", project, *people["bob"])

    # Then the gate check says go, and the promotion goes through
    assert shipwise(*check).exit_code == 0
    assert shipwise.json("release", "promote", key, "-p", project, *remote)["target"] == "staging"
    assert "staging" in _row(shipwise("release", "list", "-p", project, *remote).stdout, key)

    # When alice changes the commit
    changed = shipwise("release", "update", key, "--commit", OTHER_COMMIT, "-p", project,
                       *people["alice"])  # fmt: skip

    # Then the approvals and sign-off of the old content no longer count
    assert changed.exit_code == 0, changed.output
    assert f"Updated {key}: commit." in changed.stdout
    assert "Content version 2: approvals, sign-offs and drills of version 1" in changed.stdout
    detail = shipwise.json("release", "show", key, "-p", project, *remote)
    assert detail["release"]["commit"] == OTHER_COMMIT
    assert detail["next_stage"] == "production"
    unmet = {g["gate"] for g in detail["gates"] if not g["passed"]}
    assert {"approvals", "signoff:qa", "ci"} <= unmet

    # And an abandoned release is promoted no further
    abandoned = shipwise("release", "abandon", key, "-r", "superseded", "-p", project, *remote)
    assert abandoned.exit_code == 0, abandoned.output
    assert f"{key} is abandoned" in abandoned.stdout


def test_release_pr_body__markdown_on_stdout(
    shipwise: Shipwise, remote: tuple[str, ...], people: As, project: str
) -> None:
    key = _create(shipwise, project, people, "--rollback-plan", "Turn new-checkout off.")

    result = shipwise("release", "pr-body", key, "-p", project, *remote)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# New checkout [v2]\n")
    assert "## Rollback steps" in result.stdout
    assert "Turn new-checkout off." in result.stdout
    assert "- [ ] Approvals" in result.stdout
    assert result.stdout.endswith("\n")
    assert not result.stdout.endswith("\n\n")


def test_release_update__nothing_to_change__exit_2(
    shipwise: Shipwise, people: As, project: str
) -> None:
    key = _create(shipwise, project, people)
    result = shipwise("release", "update", key, "-p", project, *people["alice"])
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_deploy_and_ci_report__ref_not_a_sha__usage_error_exit_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    deploy = shipwise("deploy", "report", "--env", "dev", "--ref", "main", "-p", project, *remote)
    assert deploy.exit_code == 2
    assert "not a commit SHA" in deploy.output
    ci = shipwise(
        "ci", "report", "--ref", COMMIT, "--context", "tests", "--state", "green",
        "-p", project, *remote,
    )  # fmt: skip
    assert ci.exit_code == 2
    assert "green" in ci.output


def test_ci_report__short_ref__usage_error_naming_git_rev_parse__nothing_sent(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    short = COMMIT[:7]
    ci = shipwise(
        "ci", "report", "--ref", short, "--context", "tests", "--state", "success",
        "-p", project, *remote,
    )  # fmt: skip
    assert ci.exit_code == 2
    assert f"commit '{short}' is short" in ci.output
    assert f"git rev-parse {short}" in ci.output


def test_release_create__upper_case_ref__stored_lower_case(
    shipwise: Shipwise, people: As, project: str
) -> None:
    created = shipwise.json(
        "release", "create", "Upper", "-p", project, "--ref", COMMIT.upper(), *people["alice"]
    )
    assert created["commit"] == COMMIT


def test_deploy_report__failed__is_recorded_and_does_not_count(
    shipwise: Shipwise, remote: tuple[str, ...], people: As, project: str
) -> None:
    key = _create(shipwise, project, people)
    result = shipwise(
        "deploy", "report", "--env", "staging", "--ref", COMMIT, "--failed", "-p", project,
        "--json", *remote,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "recorded": True,
        "vercel_deployment": None,
        "vercel_linked": False,
    }
    check = shipwise("gate", "check", key, "--env", "production", "-p", project, "--json", *remote)
    assert check.exit_code == 1
    gates = json.loads(check.stdout)["gates"]
    previous = next(g for g in gates if g["gate"] == "previous-deploy")
    assert previous["passed"] is False


def test_policy_apply__mistake__exit_2_with_line_and_key_nothing_applied(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    # Given a policy file with a mistake on line 3
    crm = tmp_path / "crm.toml"
    crm.write_text('timezone = "Europe/Oslo"\n[window]\nstart = "9am"\n', encoding="utf-8")

    # When it is applied
    result = shipwise("policy", "apply", str(crm), "-p", project, *remote)

    # Then it is refused (exit 2), naming this file, the line and the key, and what to write
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert f"{crm} line 3, key window.start" in result.stderr
    assert '"9am" is not a time; write "09:00"' in result.stderr
    assert "Nothing was applied" in result.stderr
    assert result.stdout == ""
    # And the policy in force is unchanged
    shown = shipwise("policy", "show", "-p", project, *remote)
    assert 'timezone = "UTC"' in shown.stdout

    # And an environment the project does not have is named too
    crm.write_text(POLICY.replace('"production"', '"prod"', 1), encoding="utf-8")
    wrong = shipwise("policy", "apply", str(crm), "-p", project, *remote)
    assert wrong.exit_code == 2
    assert "key stage[2].environment" in wrong.stderr
    assert '"prod"' in wrong.stderr


def test_policy_apply_then_show__effective_policy_is_a_policy_file(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    policy = tmp_path / "shipwise.toml"
    policy.write_text(POLICY, encoding="utf-8")

    _put_in_force(shipwise, remote, project, policy)

    shown = shipwise("policy", "show", "-p", project, *remote)
    assert shown.exit_code == 0, shown.output
    effective = tomllib.loads(shown.stdout)  # stdout alone is a valid policy file
    staging = next(s for s in effective["stage"] if s["environment"] == "staging")
    assert staging["checklist"] == ["Tested on dev and stable"]
    production = next(s for s in effective["stage"] if s["environment"] == "production")
    assert production["business_hours"] is False  # a gate the file left out is off
    assert "effective" in shipwise.json("policy", "show", "-p", project, *remote)


def test_policy_apply__missing_file__exit_2(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path
) -> None:
    result = shipwise("policy", "apply", str(tmp_path / "nope.toml"), *remote)
    assert result.exit_code == 2
    assert "nope.toml" in result.output


def test_help__lists_the_release_commands(shipwise: Shipwise) -> None:
    top = shipwise("--help")
    for group in ("release", "gate", "deploy", "ci", "policy"):
        assert f" {group} " in top.stdout
    release = shipwise("release", "--help").stdout
    for command in (
        "create", "list", "show", "update", "approve", "check", "signoff", "drill",
        "promote", "abandon", "pr-body",
    ):  # fmt: skip
        assert f" {command} " in release
