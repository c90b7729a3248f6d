"""Every command of README.md, exactly as written, against a fresh demo server: what a
newcomer types after ``scripts/start`` must work.

The commands are the lines of README.md's ``bash`` blocks (and of any ``console`` block,
the lines after a ``$ `` prompt). Each runs in its own ``bash -c`` from the repository's
root, after the block's earlier set-up lines (``export``, ``source``, ``cd``) replayed, as
in one terminal where they were typed before it. Each must exit 0, unless its trailing
comment states another code: a comment containing ``(exit N)``, e.g.
``shipwise flag rollout new-checkout 25 -e production   # refused (exit 1): …``, expects
exit N. ``scripts/…`` lines need a fresh clone and minutes (a new .venv, the whole
suite): they are not run here, only checked to exist and be executable. A line of any
other kind fails the test, so that a new README command is either run here or given a
rule.

The server is the one ``scripts/start`` runs (``shipwise serve --demo --data-dir
.cache/demo-server``, port 4242), with three substitutions, and only these, made in the
README's lines before they run:
- ``http://127.0.0.1:4242`` -> this server's URL: a free port, since 4242 may be taken
  (by the developer's own ``scripts/start``);
- ``sw_api_…`` -> the admin token this server printed: the README says "as printed";
- ``.cache/demo-server`` -> this server's temporary data directory, so that the test
  neither reads nor spoils the developer's demo data.
The commands run in a clean terminal: no SHIPWISE_* variables, HOME in a temporary
directory (no ~/.config/shipwise/config.toml), and PATH without this virtualenv's bin,
so that ``shipwise`` is found only the way the README says.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.support.markdown import ROOT, Command, inline_code, shell_commands
from tests.support.server import free_port

README = ROOT / "README.md"
COMMANDS = shell_commands(README)
README_URL = "http://127.0.0.1:4242"
README_TOKEN = "sw_api_…"
README_DATA_DIR = ".cache/demo-server"
SETUP_PROGRAMS = {"export", "source", ".", "cd"}
FRESH_CLONE_ONLY = re.compile(r"^scripts/\S+$")
STARTUP_SECONDS = 60  # migrations and the demo seed on a busy 2-core machine
COMMAND_SECONDS = 60
_PRINTED_TOKEN = re.compile(r"SHIPWISE_TOKEN=(sw_api_\S+)")


@dataclass(frozen=True)
class DemoServer:
    url: str
    token: str
    data_dir: Path
    home: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``shipwise serve --demo`` as scripts/start runs it, on a free port and a fresh data
    directory; the admin token read from what it printed."""
    base = tmp_path_factory.mktemp("readme")
    data_dir, home = base / "demo-server", base / "home"
    home.mkdir()
    port = free_port()
    shipwise = Path(sys.executable).parent / "shipwise"  # scripts/start: .venv/bin/shipwise
    log_path = base / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [shipwise, "serve", "--demo", "--data-dir", data_dir, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_clean_environment(home),
            cwd=ROOT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (_healthy(url) and _PRINTED_TOKEN.search(log_path.read_text())):
            output = log_path.read_text()
            assert process.poll() is None, f"serve exited {process.returncode}:\n{output}"
            assert time.monotonic() < deadline, f"serve did not start:\n{output}"
            time.sleep(0.1)
        printed = _PRINTED_TOKEN.search(log_path.read_text())
        assert printed is not None
        yield DemoServer(url, printed.group(1), data_dir, home)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def _clean_environment(home: Path) -> dict[str, str]:
    """This process's environment as a new terminal would have it: no Shipwise settings,
    no activated virtualenv, no personal config."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        part for part in os.environ.get("PATH", "").split(os.pathsep) if part != venv_bin
    )
    dropped = {"VIRTUAL_ENV", "XDG_CONFIG_HOME", "PYTHONPATH", "PYTHONHOME"}
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SHIPWISE_") and key not in dropped
    }
    return environment | {"PATH": path, "HOME": str(home)}


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _substituted(text: str, demo: DemoServer) -> str:
    return (
        text.replace(README_URL, demo.url)
        .replace(README_TOKEN, demo.token)
        .replace(README_DATA_DIR, str(demo.data_dir))
    )


def _setup_before(command: Command) -> list[Command]:
    return [
        earlier
        for earlier in COMMANDS
        if earlier.line < command.line and earlier.program in SETUP_PROGRAMS
    ]


RUN = [
    c for c in COMMANDS if c.program not in SETUP_PROGRAMS and not FRESH_CLONE_ONLY.match(c.text)
]
NOT_RUN = [c for c in COMMANDS if FRESH_CLONE_ONLY.match(c.text)]


def test_readme__has_commands_for_a_newcomer() -> None:
    assert any(c.program == "shipwise" for c in RUN), "no shipwise command found in README.md"
    # The substitutions above must still find what they replace: else the README changed
    # how it names the server, and this test would run against the wrong one.
    setup = " ".join(c.text for c in COMMANDS if c.program in SETUP_PROGRAMS)
    assert README_URL in setup
    assert README_TOKEN in setup


@pytest.mark.parametrize("command", RUN, ids=lambda c: f"line {c.line}: {c.text}")
def test_readme_command__run_as_written__exits_as_the_readme_says(
    demo: DemoServer, command: Command
) -> None:
    assert command.program == "shipwise", (
        f"README.md line {command.line}: {command.text!r} is neither a shipwise command, "
        "a set-up line nor a scripts/ line; give it a rule in this test"
    )
    script = "\n".join(
        [_substituted(s.text, demo) for s in _setup_before(command)]
        + [_substituted(command.text, demo)]
    )
    result = subprocess.run(  # noqa: PLW1510 (the exit code is the assertion)
        ["bash", "-c", script],
        cwd=ROOT,
        env=_clean_environment(demo.home),
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )

    assert result.returncode == command.expected_exit, (
        f"README.md line {command.line}: {command.text}\n"
        f"exit {result.returncode}, the README expects {command.expected_exit}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


@pytest.mark.parametrize("command", NOT_RUN, ids=lambda c: c.text)
def test_readme_fresh_clone_command__names_an_executable_script(command: Command) -> None:
    script = ROOT / command.text
    assert script.is_file(), f"README.md line {command.line}: {command.text} does not exist"
    assert os.access(script, os.X_OK), f"{command.text} is not executable"


def test_readme_paths_in_code__exist() -> None:
    """`bench/eval.py`, `scripts/start` and the like, named in the prose (the benchmarks
    are described, not run, here)."""
    named = [
        span
        for span in inline_code(README)
        if re.fullmatch(r"(bench|scripts|docs|src|tests)/[\w./-]+", span)
    ]

    assert named, "README.md names no file in code spans: the pattern missed them"
    assert [path for path in named if not (ROOT / path).exists()] == []
