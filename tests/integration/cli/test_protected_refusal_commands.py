"""Every command a protected environment's refusal names runs as written: each is split as
a POSIX shell would and parsed by the real ``shipwise`` command tree, so a renamed command
or option fails here rather than in front of someone whose change was refused. Flag keys
that need quoting (``~beta.Wallet``) are quoted."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import typer.main
from typer.core import TyperGroup

from shipwise.cli.app import app
from shipwise.domain import protected_paths
from shipwise.domain.exposure import Widening
from shipwise.domain.policy import default_policy
from shipwise.domain.releases import ChangeKind, Release, ReleaseStatus

COMMAND = re.compile(r"`(shipwise [^`]+)`")
ROOT = typer.main.get_command(app)
# Placeholders a person fills in, as the values an option of that type takes.
FILLED = {"PCT": "25", "ID": "4"}
POLICY = default_policy([("dev", "dev"), ("staging", "staging"), ("production", "main")], "UTC")
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FLAG = "~beta.Wallet"
RELEASE = Release(
    id=1,
    project="shop",
    key="rel-3",
    title="Wallet",
    kind=ChangeKind.FEATURE,
    owner="alice",
    created_at=CREATED,
    content_changed_at=CREATED,
    flags=(FLAG, "bulk-edit"),
    stage="staging",
)
WIDER = Widening(("switches the flag on",))


def _parse(line: str) -> None:
    words = [FILLED.get(word, word) for word in shlex.split(line)]
    assert words.pop(0) == "shipwise"
    command: Any = ROOT
    name = "shipwise"
    while isinstance(command, TyperGroup):
        name = words.pop(0)
        assert name in command.commands, f"{line}: no command {name!r}"
        command = command.commands[name]
    command.make_context(name, words)


def _messages() -> list[str]:
    common: dict[str, Any] = {"project": "shop", "environment": "production", "policy": POLICY}
    messages = []
    for kind in ("release", "operational"):
        for releases in ([], [RELEASE], [replace(RELEASE, stage="production")]):
            for option in ("--enable", "--rollout PCT", "--rules FILE"):
                messages.append(
                    protected_paths.flag_refusal(
                        **common,
                        flag=FLAG,
                        kind=kind,
                        doing="this change",
                        widening=WIDER,
                        releases=releases,
                        request_option=option,
                    )
                )
            for release in (None, RELEASE, replace(RELEASE, status=ReleaseStatus.ROLLED_BACK)):
                refusal = protected_paths.plan_release_refusal(
                    **common, flag=FLAG, kind=kind, release=release, releases=releases
                )
                assert refusal is not None
                messages.append(refusal)
    messages += [
        protected_paths.rollouts_busy_refusal(
            project="shop", environment="production", limit=1, running=["rollout plan #4"]
        ),
        protected_paths.segment_refusal(
            project="shop",
            segment="beta-testers",
            widening=WIDER,
            exposed=[(FLAG, "production")],
            policy=POLICY,
        ),
        protected_paths.import_refusal(
            project="shop", environment="production", widened=[(FLAG, "switches the flag on")]
        ),
        protected_paths.unarchive_refusal(project="shop", flag=FLAG, environments=["production"]),
    ]
    return messages


LINES = sorted({line for message in _messages() for line in COMMAND.findall(message)})


def test_refusals__name_every_way_there() -> None:
    verbs = {" ".join(shlex.split(line)[1:3]) for line in LINES}
    assert verbs == {
        "change request",
        "change segment",
        "flag disable",
        "release create",
        "release promote",
        "rollout abort",
        "rollout start",
    }


@pytest.mark.parametrize("line", LINES)
def test_refusal_command__parses_as_written(line: str) -> None:
    _parse(line)
