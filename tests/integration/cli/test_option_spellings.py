"""One spelling per option across commands: ``-e/--env`` wherever an environment is taken,
``--ref`` for a commit SHA, ``-p/--project``, ``-r/--reason``, ``--json``. The spellings
older versions took (``--environment``, ``--stage``/``-s``, ``--commit``) still work and
are hidden from help, so scripts written for them keep running."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from tests.integration.cli.cli_runner import Shipwise
from typer.core import TyperGroup

from shipwise.cli.app import app
from shipwise.cli.options import HIDDEN_ALIASES

ROOT = typer.main.get_command(app)
SHA = "4f2a9c1e" * 5
# An option taking one of these (by its parameter's name) takes an environment.
ENVIRONMENT_PARAMETERS = {"environment", "stage"}
SPELLINGS = {  # a concept: the names it shows, wherever a command takes it
    "environment": {"--env", "-e"},
    "project": {"--project", "-p"},
    "reason": {"--reason", "-r"},
    "commit": {"--ref"},
    "json": {"--json"},
}


def _commands() -> list[tuple[str, Any]]:
    found = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            found.append((" ".join(path), command))

    walk(ROOT, ())
    return found


def _concept(param: Any) -> str | None:
    names = set(param.opts)
    if param.name in ENVIRONMENT_PARAMETERS:
        return "environment"
    if param.name in {"commit", "ref"} or "--ref" in names:
        return "commit"
    for concept in ("project", "reason", "json"):
        if f"--{concept}" in names:
            return concept
    return None


def _parsed(*args: str) -> dict[str, Any]:
    """The parameters ``shipwise ARGS`` would run with (nothing runs)."""
    words = list(args)
    command: Any = ROOT
    while isinstance(command, TyperGroup):
        name = words.pop(0)
        command = command.commands[name]
    return dict(command.make_context(name, words).params)


@pytest.mark.parametrize(("path", "command"), _commands(), ids=[p for p, _ in _commands()])
def test_every_command__shows_one_spelling_per_option(path: str, command: Any) -> None:
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        assert not set(param.opts) & HIDDEN_ALIASES, f"{path} shows {param.opts}"
        concept = _concept(param)
        if concept is not None:
            assert set(param.opts) == SPELLINGS[concept], f"{path}: {param.opts} for {concept}"


@pytest.mark.parametrize(
    ("args", "name", "value"),
    [
        pytest.param(("flag", "enable", "f", "--env", "dev"), "environment", "dev", id="--env"),
        pytest.param(("flag", "enable", "f", "-e", "dev"), "environment", "dev", id="-e"),
        pytest.param(
            ("flag", "enable", "f", "--environment", "dev"),
            "environment",
            "dev",
            id="--environment",
        ),
        pytest.param(("release", "approve", "rel-1", "--stage", "qa"), "stage", "qa", id="--stage"),
        pytest.param(("release", "list", "-s", "qa"), "stage", "qa", id="-s"),
        pytest.param(("release", "signoff", "rel-1", "-e", "qa"), "stage", "qa", id="signoff-e"),
        pytest.param(("release", "update", "rel-1", "--commit", SHA), "commit", SHA, id="--commit"),
        pytest.param(("release", "create", "T", "--ref", SHA), "commit", SHA, id="--ref"),
        pytest.param(
            ("project", "create", "p", "-e", "a", "--environment", "b"),
            "environment",
            ["a", "b"],
            id="repeated-mixed",
        ),
        pytest.param(
            ("gate", "check", "rel-1", "--environment", "production"),
            "environment",
            "production",
            id="gate-check",
        ),
    ],
)
def test_old_and_new_spellings__reach_the_same_parameter(
    args: tuple[str, ...], name: str, value: object
) -> None:
    assert _parsed(*args)[name] == value


def test_old_spelling__satisfies_a_required_option(shipwise: Shipwise) -> None:
    # Given a command whose environment is required, run with the old spelling only
    result = shipwise("flag", "enable", "f", "--environment", "dev", "--url", "http://127.0.0.1:9")

    # Then it gets past the options (no usage error) to the missing token
    assert result.exit_code == 2
    assert "no token for http://127.0.0.1:9" in result.stderr


def test_help__shows_the_new_spelling_only(shipwise: Shipwise) -> None:
    shown = shipwise("release", "approve", "--help").stdout

    assert "--env" in shown
    assert "--stage" not in shown
    assert "--environment" not in shipwise("flag", "enable", "--help").stdout
