"""``shipwise segment list|show|create|update|delete`` against a real server: constraints
from ``--constraint`` or a JSON file (or stdin), tables and ``--json``; a refusal (409)
prints the server's reason and exits 1, a mistake exits 2."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer
from typer.testing import CliRunner

from shipwise.cli.app import app
from shipwise.cli.segment_cmd import parse_constraint

PRO = {"contextName": "plan", "operator": "IN", "values": ["pro", "team"]}


_numbers = itertools.count(1)


@pytest.fixture
def project(server: RunningServer) -> str:
    """A project of this test's own."""
    key = f"seg-{next(_numbers)}"
    with server.admin() as admin:
        assert admin.post("/api/v1/projects", json={"key": key, "name": key}).is_success
    return key


@pytest.mark.parametrize(
    ("text", "constraint"),
    [
        ("plan IN pro,team", PRO),
        ("plan in pro, team", PRO),
        (
            "appVersion SEMVER_GT 2.1.0",
            {"contextName": "appVersion", "operator": "SEMVER_GT", "value": "2.1.0"},
        ),
        (
            "email NOT STR_ENDS_WITH @example.com",
            {
                "contextName": "email",
                "operator": "STR_ENDS_WITH",
                "values": ["@example.com"],
                "inverted": True,
            },
        ),
        ("path REGEX ^/a, b$", {"contextName": "path", "operator": "REGEX", "value": "^/a, b$"}),
    ],
    ids=[
        "list",
        "lowercase-operator-and-spaces",
        "one-value",
        "inverted",
        "one-value-keeps-commas",
    ],
)
def test_parse_constraint__short_form__is_the_api_object(
    text: str, constraint: dict[str, object]
) -> None:
    assert parse_constraint(text) == constraint


def test_segment__create_list_show_update_delete__round_trip(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    # When a segment is created from the short form
    created = shipwise(
        "segment", "create", "beta", "-p", project, "--description", "Early birds",
        "-c", "plan IN pro,team", "-c", "country NOT IN fr", *remote,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Created segment beta" in created.stdout
    assert "plan IN pro, team" in created.stdout
    assert "NOT country IN fr" in created.stdout

    # Then list and show have it, as a table and as JSON
    listed = shipwise("segment", "list", "-p", project, *remote)
    assert "beta" in listed.stdout
    assert "Early birds" in listed.stdout
    segment = shipwise.json("segment", "show", "beta", "-p", project, *remote)
    assert segment["constraints"] == [
        PRO,
        {"contextName": "country", "operator": "IN", "values": ["fr"], "inverted": True},
    ]
    assert segment["version"] == 1

    # When its JSON is edited and fed back from a file
    segment["constraints"] = [{**PRO, "values": ["enterprise"]}]
    edited = tmp_path / "beta.json"
    edited.write_text(json.dumps(segment), encoding="utf-8")
    updated = shipwise.json("segment", "update", "beta", "-p", project, "-f", str(edited), *remote)

    # Then the constraints are replaced and the description kept
    assert updated["constraints"] == [{**PRO, "values": ["enterprise"]}]
    assert updated["description"] == "Early birds"
    assert updated["version"] == 2

    # And a description alone changes only the description
    renamed = shipwise.json(
        "segment", "update", "beta", "-p", project, "--description", "Paying", *remote
    )
    assert (renamed["description"], renamed["constraints"]) == ("Paying", updated["constraints"])

    # When it is deleted, it is gone
    deleted = shipwise("segment", "delete", "beta", "-p", project, *remote)
    assert deleted.exit_code == 0, deleted.output
    assert shipwise.json("segment", "list", "-p", project, *remote)["segments"] == []


def test_segment_create__constraints_from_stdin(remote: tuple[str, ...], project: str) -> None:
    # The runner's own input stands for stdin (cli_runner.Shipwise passes none).
    result = CliRunner().invoke(
        app,
        ["segment", "create", "pro", "-p", project, "--file", "-", "--json", *remote],
        input=json.dumps([PRO]),
        env={"SHIPWISE_URL": None, "SHIPWISE_TOKEN": None, "COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["constraints"] == [PRO]


def test_segment_create__name_taken__exits_1_with_the_servers_reason(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    first = shipwise("segment", "create", "vip", "-p", project, "-c", "plan IN pro", *remote)
    assert first.exit_code == 0, first.output

    again = shipwise("segment", "create", "vip", "-p", project, "-c", "plan IN team", *remote)

    assert again.exit_code == 1, again.output
    assert "already exists" in again.stderr
    assert shipwise.json("segment", "show", "vip", "-p", project, *remote)["constraints"] == [
        {"contextName": "plan", "operator": "IN", "values": ["pro"]}
    ]


def test_segment_delete__in_use__exits_1_naming_the_flag_and_keeps_it(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, server: RunningServer
) -> None:
    # Given a flag whose dev rules use the segment
    segment = shipwise.json("segment", "create", "qa", "-p", project, "-c", "team IN qa", *remote)
    with server.admin() as admin:
        flags = f"/api/v1/projects/{project}/flags"
        assert admin.post(flags, json={"key": "search"}).is_success
        rules = {"enabled": True, "strategies": [{"name": "default", "segments": [segment["id"]]}]}
        put = admin.put(f"{flags}/search/environments/dev", json=rules, headers={"If-Match": '"1"'})
        assert put.is_success, put.text

    # When the segment is deleted
    refused = shipwise("segment", "delete", "qa", "-p", project, *remote)

    # Then it is refused (exit 1), naming the flag, and the segment is still there
    assert refused.exit_code == 1, refused.output
    assert "in use by flag 'search' in dev" in refused.stderr
    assert shipwise("segment", "show", "qa", "-p", project, *remote).exit_code == 0


def test_segment_delete_api__stale_if_match__is_409_and_keeps_it(
    server: RunningServer, project: str
) -> None:
    with server.admin() as admin:
        path = f"/api/v1/projects/{project}/segments"
        assert admin.post(path, json={"name": "s", "constraints": [PRO]}).is_success
        changed = admin.put(f"{path}/s", json={"constraints": []}, headers={"If-Match": '"1"'})
        assert changed.status_code == 200, changed.text
        stale = admin.delete(f"{path}/s", headers={"If-Match": '"1"'})
        assert stale.status_code == 409, stale.text
        assert stale.json()["error"]["field"] == "If-Match"
        assert admin.get(f"{path}/s").status_code == 200
        audited = admin.get("/api/v1/audit", params={"project": project, "limit": 1}).json()
        assert audited["records"][0]["action"] == "segment.update"  # nothing deleted


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (("show", "ghost"), "no segment 'ghost'"),
        (("delete", "ghost"), "no segment 'ghost'"),
        (("create", "x", "-c", "plan"), "is not of the form"),
        (("create", "x", "-c", "plan LIKE pro"), "unknown operator 'LIKE'"),
        (("create", "x", "-c", "plan IN pro,,team"), "empty value between commas"),
        (("create", "x"), "a segment needs constraints"),
        (("create", "x", "-f", "/nonexistent.json"), "cannot read /nonexistent.json"),
        (("create", "x", "-f", "x.json", "-c", "plan IN pro"), "not both"),
        (("update", "x"), "nothing to change"),
        (("create", "Bad Name", "-c", "plan IN pro"), "(field: name)"),
        (("create", "x", "-c", "age NUM_GT many"), "(field: constraints[0].value)"),
    ],
    ids=[
        "show-unknown", "delete-unknown", "constraint-too-short", "unknown-operator",
        "empty-value", "no-constraints", "unreadable-file", "file-and-constraint",
        "update-nothing", "bad-name", "bad-number",
    ],
)  # fmt: skip
def test_segment__mistake__exits_2_saying_what(
    shipwise: Shipwise,
    remote: tuple[str, ...],
    project: str,
    arguments: tuple[str, ...],
    words: str,
) -> None:
    result = shipwise("segment", *arguments, "-p", project, *remote)

    assert result.exit_code == 2, result.output
    assert words in result.stderr


def test_segment_delete__the_policys_testers__exits_1_naming_the_policy(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, server: RunningServer
) -> None:
    # Given a policy whose staging testers are this segment
    created = shipwise("segment", "create", "qa-team", "-p", project, "-c", "team IN qa", *remote)
    assert created.exit_code == 0, created.output
    with server.admin() as admin:
        policy = f"/api/v1/projects/{project}/policy"
        effective = admin.get(policy).json()["effective"]
        staging = effective.split("[[stage]]")[2]
        narrowed = staging.replace('testers = "everyone"', 'testers = "qa-team"')
        source = effective.replace(f"[[stage]]{staging}", f"[[stage]]{narrowed}")
        assert source != effective
        applied = admin.put(policy, json={"source": source})  # narrower: applies at once
        assert applied.status_code == 200, applied.text

    # When the segment is deleted, it is refused naming the policy, and kept
    refused = shipwise("segment", "delete", "qa-team", "-p", project, *remote)

    assert refused.exit_code == 1, refused.output
    assert "the policy's testers in staging" in refused.stderr
    assert shipwise("segment", "show", "qa-team", "-p", project, *remote).exit_code == 0
