"""Pipelines are configurable, so the CLI names no stage of its own: a sign-off or a
rollback drill without ``--env`` sends none, and the server picks the pipeline's stage
before production."""

from __future__ import annotations

import pytest
from tests.integration.cli.cli_runner import Shipwise


@pytest.mark.parametrize(
    "command", [("release", "signoff"), ("rollback",)], ids=["signoff", "rollback"]
)
def test_help__env_default__is_the_stage_before_production(
    shipwise: Shipwise, command: tuple[str, ...]
) -> None:
    result = shipwise(*command, "--help")

    assert result.exit_code == 0, result.output
    assert "the stage before production" in result.stdout
    assert "[default: staging]" not in result.stdout


def test_signoff__pipeline_without_staging__signs_off_on_the_stage_before_production(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    # Given a project whose pipeline is dev → qa → production, and a release in it
    created = shipwise(
        "project", "create", "qa-line", "-e", "dev", "-e", "qa", "-e", "production", *remote
    )
    assert created.exit_code == 0, created.output
    release = shipwise.json("release", "create", "Faster search", "-p", "qa-line", *remote)

    # When QA signs it off without naming an environment
    signed = shipwise("release", "signoff", release["key"], "-p", "qa-line", *remote)

    # Then it is recorded (on qa: there is no staging here to refuse)
    assert signed.exit_code == 0, signed.output
    assert f"QA signed {release['key']} off." in signed.stdout
