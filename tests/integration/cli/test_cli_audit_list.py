"""``shipwise audit list``: the audit log over the API, as a table for people and JSON for
scripts, filtered by project, environment, action, actor, flag and time, paged."""

from __future__ import annotations

import json

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
def history(server: RunningServer) -> str:
    """A project where Bea (a developer) created a flag, switched it on in staging and
    killed it in production, and the admin created another flag."""
    with server.admin() as admin:
        assert admin.post("/api/v1/projects", json={"key": "shop", "name": "Shop"}).is_success
        bea = admin.post(
            "/api/v1/tokens",
            json={"kind": "api", "project": "shop", "role": "developer", "name": "Bea"},
        ).json()["secret"]
        flags = "/api/v1/projects/shop/flags"
        assert admin.post(flags, json={"key": "other"}).is_success
    headers = {"Authorization": f"Bearer {bea}"}
    with server.admin() as client:
        client.headers.update(headers)
        assert client.post(flags, json={"key": "basket"}).is_success
        assert client.post(f"{flags}/basket/environments/staging/enable").is_success
        kill = client.post(f"{flags}/basket/environments/production/kill", json={"reason": "INC-9"})
        assert kill.is_success, kill.text
    return "shop"


def test_audit_list__a_project__table_of_time_actor_action_target_environment_reason(
    shipwise: Shipwise, remote: tuple[str, ...], history: str
) -> None:
    result = shipwise("audit", "list", "-p", history, *remote)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "actor" in line)
    for column in ("time (UTC)", "actor", "action", "target", "environment", "reason"):
        assert column in header
    kill = next(line for line in lines if "flag.kill" in line)
    assert "token:Bea" in kill
    assert "flag basket" in kill
    assert "production" in kill
    assert "INC-9" in kill
    # Newest first
    assert result.stdout.index("flag.kill") < result.stdout.index("flag.create")


def test_audit_list__filters__narrow_it_like_the_api(
    shipwise: Shipwise, remote: tuple[str, ...], history: str
) -> None:
    def actions(*filters: str) -> list[str]:
        page = shipwise.json("audit", "list", "-p", history, *filters, *remote)
        return [record["action"] for record in page["records"]]

    assert actions("--actor", "bea") == ["flag.kill", "flag.enable", "flag.create"]
    assert actions("--flag", "basket", "-e", "staging") == ["flag.enable"]
    assert actions("--action", "flag.kill") == ["flag.kill"]
    assert actions("--action", "token.*") == ["token.create"]
    assert actions("--flag", "other") == ["flag.create"]
    assert actions("--since", "1h", "--actor", "bea") == ["flag.kill", "flag.enable", "flag.create"]
    assert actions("--until", "1h") == []
    assert actions("--since", "2000-01-01", "--until", "2000-01-02") == []
    # The old spelling of the environment option still works
    assert actions("--environment", "production", "--actor", "bea") == ["flag.kill"]


@pytest.mark.parametrize("span", ["1h30m", "0.5d", "1H 30M"])
def test_audit_list__since_and_until_in_the_one_duration_grammar__count_back_from_now(
    shipwise: Shipwise, remote: tuple[str, ...], history: str, span: str
) -> None:
    # The grammar of rollout plans and the policy's [sla] (shipwise.domain.durations)
    def actions(*filters: str) -> list[str]:
        page = shipwise.json("audit", "list", "-p", history, "--actor", "bea", *filters, *remote)
        return [record["action"] for record in page["records"]]

    assert actions("--since", span) == ["flag.kill", "flag.enable", "flag.create"]
    assert actions("--until", span) == []


def test_audit_list__flag_or_env_without_project__is_the_default_project(
    shipwise: Shipwise, remote: tuple[str, ...], history: str, server: RunningServer
) -> None:
    with server.admin() as admin:
        assert admin.post("/api/v1/projects/default/flags", json={"key": "basket"}).is_success

    page = shipwise.json("audit", "list", "--flag", "basket", *remote)

    assert [(r["project"], r["action"]) for r in page["records"]] == [("default", "flag.create")]


def test_audit_list__more_than_a_page__names_the_next_page(
    shipwise: Shipwise, remote: tuple[str, ...], history: str
) -> None:
    first = shipwise("audit", "list", "-p", history, "--limit", "2", *remote)

    assert first.exit_code == 0, first.output
    page = shipwise.json("audit", "list", "-p", history, "--limit", "2", *remote)
    older = page["next_before_id"]
    assert f"--before {older}" in first.stderr
    rest = shipwise.json("audit", "list", "-p", history, "--before", str(older), *remote)
    assert all(record["id"] < older for record in rest["records"])
    assert rest["records"]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (("-p", "nowhere"), "no project 'nowhere'"),
        (("--since", "a while"), "--since 'a while' is neither a duration"),
        (("--since", "-1h"), "--since: must not be negative"),
        (("--since", "2030-01-02", "--until", "2030-01-01"), "must be after since"),
        (("--limit", "501"), "less than or equal to 500"),
        (("--flag", "basket", "--kind", "token"), "give one of them"),
    ],
    ids=[
        "unknown-project",
        "unreadable-since",
        "negative-since",
        "until-before-since",
        "limit-too-big",
        "flag-and-kind",
    ],
)
def test_audit_list__mistake__exits_2_saying_what(
    shipwise: Shipwise, remote: tuple[str, ...], arguments: tuple[str, ...], words: str
) -> None:
    result = shipwise("audit", "list", *arguments, *remote)

    assert result.exit_code == 2, result.output
    assert words in result.output


def test_audit_list__json_error__is_json_on_stdout(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("audit", "list", "-p", "nowhere", "--json", *remote)

    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["exit_code"] == 2


def test_audit_list__project_token_without_project__is_refused_naming_global_admins(
    shipwise: Shipwise, remote: tuple[str, ...], history: str, server: RunningServer
) -> None:
    with server.admin() as admin:
        viewer = admin.post(
            "/api/v1/tokens",
            json={"kind": "api", "project": "shop", "role": "viewer", "name": "Vic"},
        ).json()["secret"]
    as_viewer = ("--url", server.url, "--token", viewer)

    assert shipwise("audit", "list", "-p", history, *as_viewer).exit_code == 0
    everything = shipwise("audit", "list", *as_viewer)
    assert everything.exit_code == 2, everything.output  # a token of the wrong kind: 403
    assert "global admin" in everything.stderr
