"""A refused gate's remedy names the ``shipwise`` command that satisfies it, and that
command runs as written: each one is split as a POSIX shell would and parsed by the real
command tree (options, choices, a commit SHA's check), so a renamed option or command
fails here rather than in front of someone whose promotion was refused."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import typer.main
from tests.unit.domain.example_policy import POLICY
from typer.core import TyperGroup

from shipwise.cli.app import app
from shipwise.domain import commands, gates
from shipwise.domain.releases import (
    ChangeKind,
    CiResult,
    Evidence,
    OtherRelease,
    Release,
    ReleaseStatus,
    Severity,
)

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
CREATED = datetime(2026, 2, 23, 8, 0, tzinfo=UTC)
CHRISTMAS_NIGHT = datetime(2026, 12, 23, 22, 0, tzinfo=UTC)  # a freeze, after hours
COMMAND = re.compile(r"`(shipwise [^`]+)`")
ROOT = typer.main.get_command(app)

RELEASE = Release(
    id=1,
    project="shop",
    key="rel-3",
    title="New checkout",
    kind=ChangeKind.FEATURE,
    owner="alice",
    created_at=CREATED,
    content_changed_at=CREATED,
    flags=("new-checkout", "~beta.Wallet"),
    stage="staging",
)


def _parse(line: str) -> None:
    """Parse ``line`` as ``shipwise`` would, without running it; raise on any mistake."""
    words = shlex.split(line)
    assert words[0] == "shipwise"
    words = [SHA if word == "SHA" else word for word in words[1:]]  # the placeholder
    command: Any = ROOT
    name = "shipwise"
    while isinstance(command, TyperGroup):
        name = words.pop(0)
        assert name in command.commands, f"{line}: no command {name!r}"
        command = command.commands[name]
    command.make_context(name, words)


def _remedies() -> list[tuple[str, str]]:
    """(gate, remedy) of every unmet gate in a set of refusals that, together, refuse
    through every gate the example policy has, the hotfix path's included."""
    decisions = [
        # production, on a Christmas night: nothing recorded, another feature rolling out
        gates.evaluate_promotion(
            RELEASE,
            "production",
            POLICY,
            Evidence(),
            (
                OtherRelease(
                    "rel-2",
                    ChangeKind.FEATURE,
                    ReleaseStatus.IN_PROGRESS,
                    frozenset({"production"}),
                ),
            ),
            CHRISTMAS_NIGHT,
        ),
        # staging from dev: the checklist, CI red; skipping ahead; a finished release
        gates.evaluate_promotion(
            replace(RELEASE, stage="dev", commit=SHA),
            "staging",
            POLICY,
            Evidence(ci=(CiResult(SHA, "unit tests", "failure", CREATED),)),
            (),
            CHRISTMAS_NIGHT,
        ),
        gates.evaluate_promotion(
            replace(RELEASE, stage="dev", commit=SHA, status=ReleaseStatus.RELEASED),
            "production",
            POLICY,
            Evidence(ci=(CiResult(SHA, "tests", "pending", CREATED),)),
            (),
            CHRISTMAS_NIGHT,
        ),
        # the hotfix path: not eligible (branch), and eligible without a justification
        gates.hotfix_gates(
            replace(RELEASE, kind=ChangeKind.BUGFIX, severity=Severity.CRITICAL, branch="dev"),
            POLICY,
            Evidence(),
            CHRISTMAS_NIGHT,
        ),
        gates.hotfix_gates(
            replace(RELEASE, kind=ChangeKind.HOTFIX, severity=Severity.CRITICAL, branch="main"),
            POLICY,
            Evidence(),
            CHRISTMAS_NIGHT,
        ),
    ]
    return [(g.gate, g.remedy or "") for d in decisions for g in d.gates if not g.passed]


REMEDIES = _remedies()


def test_remedies__refuse_through_every_gate_of_the_policy() -> None:
    refused = {gate.partition(":")[0] for gate, _ in REMEDIES}

    assert refused >= {
        "status",
        "order",
        "one-feature-per-release",
        "approvals",
        "signoff",
        "checklist",
        "ci",
        "previous-deploy",
        "rollback-plan",
        "rollback-drill",
        "business-hours",
        "freeze",
        "one-feature-rolling-out",
        gates.HOTFIX_PATH,
        "justification",
    }


@pytest.mark.parametrize(("gate", "remedy"), REMEDIES, ids=[g for g, _ in REMEDIES])
def test_remedy__names_a_command_that_runs_as_written(gate: str, remedy: str) -> None:
    lines = COMMAND.findall(remedy)

    assert lines, f"{gate}: the remedy names no command: {remedy}"
    for line in lines:
        _parse(line)


def test_commands__every_line_the_domain_builds__parses() -> None:
    built = {
        "apply_policy": commands.apply_policy(RELEASE),
        "approve": commands.approve(RELEASE, "production"),
        "check": commands.check(RELEASE, "Smoke test on staging", "production"),
        "ci_report": commands.ci_report(RELEASE, ["unit tests"]),
        "create": commands.create(RELEASE, "~beta.Wallet"),
        "deploy_report": commands.deploy_report(RELEASE, "staging"),
        "drill": commands.drill(RELEASE, "staging"),
        "promote": commands.promote(RELEASE, "production"),
        "record_commit": commands.record_commit(RELEASE),
        "record_help_docs": commands.record_help_docs(RELEASE),
        "restore_environment": commands.restore_environment(RELEASE, "staging"),
        "rollouts": commands.rollouts(RELEASE, "production"),
        "set_branch": commands.set_branch(RELEASE, "main"),
        "signoff": commands.signoff(RELEASE, "security", "staging"),
        "split_keep": commands.split_keep(RELEASE, "~beta.Wallet"),
        "write_justification": commands.write_justification(RELEASE),
        "write_rollback_plan": commands.write_rollback_plan(RELEASE),
    }

    assert set(built) == set(commands.__all__)
    for line in built.values():
        (unquoted,) = COMMAND.findall(line)
        _parse(unquoted)
        assert shlex.split(unquoted)[-2:] == ["-p", "shop"]
    assert "'Smoke test on staging'" in built["check"]
    assert "'~beta.Wallet'" in built["split_keep"]  # a shell would expand ~ unquoted
