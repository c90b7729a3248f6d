"""``shipwise token create``: the project from ``SHIPWISE_PROJECT`` like every command,
each mistake named by the option that fixes it (exit 2, before any server call), and a
lost admin token replaced on the server host with ``--admin``: written straight into the
database (SQLite and PostgreSQL), audited, the hash chain intact."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer, running_server


@pytest.fixture(scope="module")
def shop(server: RunningServer) -> str:
    with server.admin() as admin:
        created = admin.post("/api/v1/projects", json={"key": "shop", "name": "Shop"})
        assert created.is_success, created.text
    return "shop"


@pytest.mark.parametrize("spelling", ["-e", "--env", "--environment"])
def test_token_create__sdk_key_env_without_project__takes_shipwise_project(
    shipwise: Shipwise, remote: tuple[str, ...], shop: str, spelling: str
) -> None:
    created = shipwise.json(
        "token", "create", "--kind", "server", spelling, "dev", *remote,
        env={"SHIPWISE_PROJECT": shop},
    )  # fmt: skip

    assert (created["project"], created["environment"]) == (shop, "dev")


def test_token_create__api_token_with_role__takes_shipwise_project(
    shipwise: Shipwise, remote: tuple[str, ...], shop: str
) -> None:
    created = shipwise.json(
        "token", "create", "--kind", "api", "--role", "viewer", *remote,
        env={"SHIPWISE_PROJECT": shop},
    )  # fmt: skip

    assert (created["project"], created["role"]) == (shop, "viewer")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ((), "--kind is needed"),
        (("--kind", "api", "--role", "viewer"), "--project (or SHIPWISE_PROJECT) is needed"),
        (("--kind", "api", "-p", "default"), "--role is needed"),
        (("--kind", "api", "--role", "admin", "-e", "dev"), "-e/--env is for SDK keys"),
        (("--kind", "server"), "-e/--env is needed for a server key"),
        (("--kind", "frontend", "-e", "dev", "--role", "viewer"), "--role is for api tokens"),
        (("--kind", "api", "--role", "admin", "--data-dir", "x"), "--data-dir is for --admin"),
        (("--admin", "-p", "default"), "--project (or SHIPWISE_PROJECT) does not apply"),
        (("--admin", "--kind", "server"), "leave out --kind and --role"),
        (("--kind", "api", "--expires", "soon"), "--expires 'soon' is neither a duration"),
        (("--kind", "api", "--expires", "36526d"), "--expires: at most a hundred years"),
    ],
    ids=[
        "no-kind", "role-without-project", "project-without-role", "api-token-with-env",
        "sdk-key-without-env", "sdk-key-with-role", "data-dir-without-admin",
        "admin-with-project", "admin-with-kind", "bad-expiry", "expiry-past-a-hundred-years",
    ],
)  # fmt: skip
def test_token_create__mistake__exits_2_naming_the_option(
    shipwise: Shipwise, remote: tuple[str, ...], arguments: tuple[str, ...], words: str
) -> None:
    result = shipwise("token", "create", *arguments, *remote)

    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("expires", "span"),
    [("1.5d", timedelta(hours=36)), ("1h30m", timedelta(minutes=90)), ("1w 2d", timedelta(days=9))],
)
def test_token_create__expires_in_the_one_duration_grammar__ends_that_long_from_now(
    shipwise: Shipwise, remote: tuple[str, ...], shop: str, expires: str, span: timedelta
) -> None:
    # The grammar of rollout plans and the policy's [sla] (shipwise.domain.durations)
    before = datetime.now(UTC).replace(microsecond=0)
    created = shipwise.json(
        "token", "create", "--kind", "api", "-p", shop, "--role", "viewer",
        "--expires", expires, *remote,
    )  # fmt: skip
    after = datetime.now(UTC)

    ends = datetime.fromisoformat(created["expires_at"])
    assert before + span <= ends <= after + span


def test_token_create_admin__no_database_there__exits_2_saying_so(
    shipwise: Shipwise, tmp_path: Path
) -> None:
    result = shipwise("token", "create", "--admin", "--data-dir", str(tmp_path / "nothing"))

    assert result.exit_code == 2, result.output
    assert "there is no Shipwise database at" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_token_create_admin__on_the_server_host__replaces_a_lost_admin_token(
    shipwise: Shipwise, database_url: str, tmp_path: Path
) -> None:
    # Given a running server whose admin token is lost
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        on_host = (
            ("--data-dir", str(tmp_path))
            if database_url.startswith("sqlite")
            else ("--database-url", database_url)
        )

        # When a new admin token is made on the host, from the database alone
        made = shipwise("token", "create", "--admin", "--name", "ops", *on_host)

        # Then its secret alone is on stdout, shown once
        assert made.exit_code == 0, made.output
        secret = made.stdout.strip()
        assert secret.startswith("sw_api_")
        assert "shown this once" in made.stderr

        # And the running server takes it as a global admin token at once
        new = ("--url", server.url, "--token", secret)
        assert shipwise("project", "list", *new).exit_code == 0
        tokens = shipwise.json("token", "list", *new)["tokens"]
        ops = next(t for t in tokens if t["name"] == "ops")
        assert (ops["kind"], ops["role"], ops["project"]) == ("api", "admin", None)

        # And it is audited as the host's user, with the reason
        record = shipwise.json("audit", "list", "--action", "token.create", "--limit", "1", *new)
        newest = record["records"][0]
        assert newest["actor"].startswith("host:")
        assert newest["actor"].endswith(f"@{socket.gethostname()}")
        assert newest["reason"] == "admin token replaced on the server host"
        assert newest["after"]["role"] == "admin"

    # And the audit chain still verifies
    verified = shipwise("audit", "verify", *on_host)
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.stdout


def test_token_create_admin__json__prints_the_token_with_its_secret(
    shipwise: Shipwise, server: RunningServer, remote: tuple[str, ...]
) -> None:
    data_dir = Path(server.services.database.url.removeprefix("sqlite:///")).parent

    result = shipwise("token", "create", "--admin", "--data-dir", str(data_dir), "--json")

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["secret"].startswith("sw_api_")
    assert (created["kind"], created["role"], created["project"]) == ("api", "admin", None)
    assert created["created_by"].startswith("host:")
