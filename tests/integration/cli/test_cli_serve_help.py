"""``shipwise serve --help`` says what ``--demo`` seeds: more than flags since the
dashboard's demo world (server/demo_world.py, server/demo_traffic.py)."""

from __future__ import annotations

from tests.integration.cli.cli_runner import Shipwise


def test_serve_help__demo__names_releases_the_moving_rollout_and_its_sdk_key(
    shipwise: Shipwise,
) -> None:
    result = shipwise("serve", "--help")

    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.replace("│", " ").split())  # rich wraps and boxes it
    assert "releases in every stage" in said
    assert "rollout kept moving by synthetic SDK traffic" in said
    assert "demo-sdk-key" in said
