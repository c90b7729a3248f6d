"""``--json`` is for scripts, errors included: a refused or failed command prints
``{"error": {"message", "hint", "exit_code"}}`` on stdout as well as its sentence on
stderr, and exits with the same code."""

from __future__ import annotations

import json

from tests.integration.cli.cli_runner import Shipwise


def test_json_error__refused_key__is_json_on_stdout_with_the_exit_code(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    # When a flag is created with a right-to-left override in its key, asking for JSON
    result = shipwise("flag", "create", "ev\u202eil", "--json", *remote)

    # Then stdout is one JSON error naming the field and the character, code 2
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "U+202E" in error["message"]
    assert "field: key" in error["message"]
    assert error["exit_code"] == 2
    # And people still read the sentence on stderr
    assert "Error: " in result.stderr


def test_json_error__bad_token__carries_the_hint(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    url = remote[remote.index("--url") + 1]
    result = shipwise("flag", "list", "--json", "--url", url, "--token", "sw_api_wrong")

    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "token" in error["message"]
    assert "SHIPWISE_TOKEN" in (error["hint"] or "")


def test_json_error__next_command_without_json__prints_no_json(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    # Given a failed command that asked for JSON, in the same process
    shipwise("flag", "create", "ev\u202eil", "--json", *remote)

    # When the next one fails without --json
    result = shipwise("flag", "create", "ev\u202eil", *remote)

    # Then its error is for people only
    assert result.exit_code == 2
    assert result.stdout.strip() == ""
    assert "U+202E" in result.stderr
