"""``shipwise token``: the secret is printed once (alone on stdout, for scripts), it
works for what it was made for, it is never listed, and revoking it stops it."""

from __future__ import annotations

import httpx
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer


def _snapshot_status(server: RunningServer, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{server.url}/sdk/v1/snapshot", headers=headers, timeout=10).status_code


def test_token_create__environment_without_project__is_in_the_default_project(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    # When a server key is created as the README writes it: an environment, no project
    result = shipwise("token", "create", "--name", "web", "--kind", "server", "-e", "dev", *remote)

    # Then it is the default project's dev key, and it works
    assert result.exit_code == 0, result.output
    assert "default/dev" in result.stderr
    assert _snapshot_status(server, result.stdout.strip()) == 200


def test_token_create__server_key__secret_alone_on_stdout_and_it_works(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    # When a server key is created
    result = shipwise(
        "token", "create", "--kind", "server", "-p", "default", "-e", "production", *remote
    )

    # Then stdout is the secret alone, stderr says it is shown once
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("sw_srv_")
    assert "\n" not in secret
    assert "shown this once" in result.stderr
    # And an SDK can read production's snapshot with it
    assert _snapshot_status(server, secret) == 200

    # And the list shows the token, never the secret
    listed = shipwise("token", "list", "-p", "default", *remote)
    assert "server default/production" in listed.stdout
    assert secret not in listed.stdout
    tokens = shipwise.json("token", "list", "-p", "default", *remote)["tokens"]
    assert all("secret" not in t for t in tokens)


def test_token_revoke__key_stops_working(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    created = shipwise.json(
        "token", "create", "--kind", "frontend", "-p", "default", "-e", "dev", *remote
    )
    assert created["secret"].startswith("sw_fe_")

    result = shipwise("token", "revoke", str(created["id"]), *remote)

    assert result.exit_code == 0, result.output
    assert f"Revoked token {created['id']}" in result.stdout
    assert _snapshot_status(server, created["secret"]) == 401


def test_token_create__viewer_api_token__may_read_not_write(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    # Given a viewer's api token for the default project, expiring in 30 days
    created = shipwise.json(
        "token", "create", "--kind", "api", "-p", "default", "--role", "viewer",
        "--name", "ci reader", "--expires", "30d", *remote,
    )  # fmt: skip
    assert created["role"] == "viewer"
    assert created["expires_at"] is not None
    viewer = ("--url", remote[1], "--token", created["secret"])

    # Then it reads flags, and writing one is a mistake (a token of the wrong role: 403,
    # exit 2) with the server's reason
    assert shipwise("flag", "list", *viewer).exit_code == 0
    refused = shipwise("flag", "create", "sneaky", *viewer)
    assert refused.exit_code == 2
    assert "viewer" in refused.stderr


def test_token_create__api_token_without_role__exits_2_naming_field(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("token", "create", "--kind", "api", "-p", "default", *remote)
    assert result.exit_code == 2
    assert "--role is needed for an api token of project 'default'" in result.stderr
    assert result.stdout == ""


def test_token_create__bad_expiry__is_a_usage_error(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("token", "create", "--kind", "api", "--expires", "soon", *remote)
    assert result.exit_code == 2
    assert "90d" in result.output
