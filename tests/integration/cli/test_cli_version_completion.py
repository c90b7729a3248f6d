"""``shipwise --version`` and shell completion, through the installed ``shipwise`` script
as a shell runs it: the completion script it prints is sourced into a real bash, which
then completes command and option names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise

SCRIPT = Path(sys.executable).parent / "shipwise"


def _run(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": f"{SCRIPT.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        arguments,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **(env or {})},
    )


def test_version__prints_the_installed_distributions_version(shipwise: Shipwise) -> None:
    result = shipwise("--version")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"shipwise {metadata.version('shipwise')}\n"
    assert metadata.version("shipwise") == "0.1.0"


def test_version__from_the_installed_script__exits_0() -> None:
    result = _run(str(SCRIPT), "--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "shipwise 0.1.0\n"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("shipwise", "seg"), {"segment"}),
        (("shipwise", "segment", ""), {"list", "show", "create", "update", "delete"}),
        (("shipwise", "audit", ""), {"list", "verify"}),
        (("shipwise", "audit", "list", "--ac"), {"--action", "--actor"}),
    ],
    ids=["command", "subcommands", "audit-subcommands", "options"],
)
def test_show_completion_bash__sourced_in_bash__completes_commands_and_options(
    words: tuple[str, ...], expected: set[str]
) -> None:
    # Given the script `shipwise --show-completion bash` prints
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed to test bash completion"
    shown = _run(str(SCRIPT), "--show-completion", "bash")
    assert shown.returncode == 0, shown.stderr
    assert "complete -o default -F _shipwise_completion shipwise" in shown.stdout

    # When bash sources it and completes the words, as on Tab
    quoted = " ".join(f"'{word}'" for word in words)
    program = (
        f'eval "$SCRIPT_TEXT"; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; '
        '_shipwise_completion shipwise; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    completed = _run(bash, "--norc", "-c", program, env={"SCRIPT_TEXT": shown.stdout})

    # Then it offers exactly the matching names
    assert completed.returncode == 0, completed.stderr
    assert set(completed.stdout.split()) == expected
