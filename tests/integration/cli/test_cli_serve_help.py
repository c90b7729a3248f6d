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


def test_serve_help__demo__says_how_fast_its_clock_runs(shipwise: Shipwise) -> None:
    result = shipwise("serve", "--help")

    said = " ".join(result.stdout.replace("│", " ").split())
    assert "a week a step, on a demo clock where 1 week = 1 minute" in said
    assert "sessions, links and token expiry keep real time" in said
