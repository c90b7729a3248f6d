"""``shipwise change …`` and a weakening ``shipwise policy apply`` against a real server:
requested by one person, approved by two others, applied once; exit 0 when done, 1 when
the server refuses (409), 2 for a mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise

As = dict[str, tuple[str, ...]]
PEOPLE = {
    "alice": "developer",
    "bob": "developer",
    "carol": "qa",
    "rita": "release-manager",
    "sam": "release-manager",
}


@pytest.fixture
def project(shipwise: Shipwise, remote: tuple[str, ...], request: pytest.FixtureRequest) -> str:
    """A project of this test's own with an operational flag, bulk-edit."""
    key = f"c-{abs(hash(request.node.name)) % 10**8}"
    assert shipwise("project", "create", key, *remote).exit_code == 0
    created = shipwise("flag", "create", "bulk-edit", "--kind", "operational", "-p", key, *remote)
    assert created.exit_code == 0, created.output
    return key


@pytest.fixture
def people(shipwise: Shipwise, remote: tuple[str, ...], project: str) -> As:
    options = {}
    for name, role in PEOPLE.items():
        result = shipwise(
            "token", "create", "--kind", "api", "-p", project, "--role", role, "--name", name,
            *remote,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        options[name] = ("-p", project, *remote[:2], "--token", result.stdout.strip())
    return options


def test_change_request__requested_approved_twice_applied_once(
    shipwise: Shipwise, people: As, project: str
) -> None:
    # When alice requests switching bulk-edit on in production
    opened = shipwise(
        "change", "request", "bulk-edit", "-e", "production", "--enable",
        "--reason", "support needs it", *people["alice"],
    )  # fmt: skip

    # Then it is open, and says what reviewers run
    assert opened.exit_code == 0, opened.output
    assert "Opened change request #" in opened.stdout
    number = opened.stdout.split("#", 1)[1].split(":", 1)[0]
    assert "flag 'bulk-edit' in production (open, 0 of 2 approvals)" in opened.stdout
    assert f"shipwise change approve {number} -p {project}" in opened.stdout

    # And alice may not approve it herself: refused, exit 1
    own = shipwise("change", "approve", number, *people["alice"])
    assert own.exit_code == 1
    assert "alice requested change request" in own.stderr

    # When bob approves, one approval is not enough to apply
    assert shipwise("change", "approve", number, *people["bob"]).exit_code == 0
    early = shipwise("change", "apply", number, *people["alice"])
    assert early.exit_code == 1
    assert "it needs 1 more" in early.stderr

    # When carol approves too, alice applies it, once
    approved = shipwise("change", "approve", number, *people["carol"])
    assert approved.exit_code == 0, approved.output
    assert "(approved, 2 of 2 approvals (bob, carol))" in approved.stdout
    applied = shipwise("change", "apply", number, *people["alice"])
    assert applied.exit_code == 0, applied.output
    assert f"Applied change request #{number}: flag 'bulk-edit' in production" in applied.stdout
    again = shipwise("change", "apply", number, *people["alice"])
    assert again.exit_code == 1
    assert "already applied" in again.stderr

    # And the flag is on there; list and show tell the story
    flag = shipwise.json("flag", "show", "bulk-edit", *people["bob"])
    assert flag["environments"]["production"]["enabled"] is True
    listed = shipwise("change", "list", "--state", "applied", *people["bob"])
    assert listed.exit_code == 0, listed.output
    assert "support needs it" in listed.stdout
    shown = shipwise("change", "show", number, *people["bob"])
    assert "approved by bob" in shown.stdout
    assert '+  "enabled": true,' in shown.stdout
    as_json = shipwise.json("change", "show", number, *people["bob"])
    assert as_json["state"] == "applied"


def test_change_request__rollout_shortcut__requests_the_current_rules_at_that_percentage(
    shipwise: Shipwise, people: As
) -> None:
    answer = shipwise.json(
        "change", "request", "bulk-edit", "-e", "production", "--rollout", "25", *people["alice"]
    )

    assert answer["change"]["enabled"] is True
    rollout = answer["change"]["strategies"][0]
    assert rollout["name"] == "flexibleRollout"
    assert rollout["parameters"]["rollout"] == "25"
    assert rollout["parameters"]["groupId"] == "bulk-edit"


def test_change_request__rules_from_a_file__are_requested_as_written(
    shipwise: Shipwise, people: As, tmp_path: Path
) -> None:
    rules = {
        "enabled": True,
        "strategies": [{"name": "userWithId", "parameters": {"userIds": "7"}}],
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")

    answer = shipwise.json(
        "change", "request", "bulk-edit", "-e", "production", "--rules", str(path),
        *people["alice"],
    )  # fmt: skip

    assert answer["change"]["strategies"] == rules["strategies"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(
            ("request", "bulk-edit", "-e", "production"), "say what to request", id="none"
        ),
        pytest.param(
            ("request", "bulk-edit", "-e", "production", "--enable", "--rollout", "5"),
            "not --enable and --rollout together",
            id="two",
        ),
        pytest.param(
            ("request", "no-such-flag", "-e", "production", "--enable"),
            "no flag 'no-such-flag'",
            id="unknown flag",
        ),
        pytest.param(("show", "999999"), "no change request #999999", id="unknown number"),
    ],
)
def test_change__mistake__exits_2_saying_what(
    shipwise: Shipwise, people: As, args: tuple[str, ...], words: str
) -> None:
    result = shipwise("change", *args, *people["alice"])

    assert result.exit_code == 2, result.output
    assert words in result.stderr


def test_change__reject_and_withdraw__close_requests(shipwise: Shipwise, people: As) -> None:
    first = shipwise.json(
        "change", "request", "bulk-edit", "-e", "dev", "--enable", *people["alice"]
    )
    second = shipwise.json(
        "change", "request", "bulk-edit", "-e", "dev", "--enable", *people["alice"]
    )

    rejected = shipwise("change", "reject", str(first["id"]), "-r", "not now", *people["bob"])
    withdrawn = shipwise("change", "withdraw", str(second["id"]), *people["alice"])

    assert rejected.exit_code == 0, rejected.output
    assert f"Rejected change request #{first['id']}" in rejected.stdout
    assert withdrawn.exit_code == 0, withdrawn.output
    assert f"Withdrew change request #{second['id']}" in withdrawn.stdout
    open_ones = shipwise.json("change", "list", "--state", "open", *people["bob"])
    assert open_ones["change_requests"] == []


def test_policy_apply__weakening__waits_for_a_second_release_manager_exit_0(
    shipwise: Shipwise, people: As, project: str, tmp_path: Path
) -> None:
    # Given a policy that opens the promotion window on weekends
    policy = tmp_path / "shipwise.toml"
    policy.write_text(
        '[window]\nweekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n',
        encoding="utf-8",
    )

    # When rita applies it
    result = shipwise("policy", "apply", str(policy), *people["rita"])

    # Then it is recorded, not refused (exit 0), and says who does what next
    assert result.exit_code == 0, result.output
    assert "waiting for a second release manager: it weakens window: adds Saturday; " in (
        result.stdout
    )
    number = result.stdout.split("change request #", 1)[1].split(",", 1)[0]
    assert f"they run `shipwise change approve {number} -p {project}`" in result.stdout
    assert f"`shipwise change apply {number} -p {project}`" in result.stdout
    assert shipwise.json("policy", "show", *people["rita"])["source"] is None

    # When rita tries to approve it herself, she is refused; sam approves and applies it
    assert shipwise("change", "approve", number, *people["rita"]).exit_code == 1
    assert shipwise("change", "approve", number, *people["sam"]).exit_code == 0
    applied = shipwise("change", "apply", number, *people["sam"])

    # Then it is in force
    assert applied.exit_code == 0, applied.output
    assert "sat" in shipwise.json("policy", "show", *people["rita"])["source"]
