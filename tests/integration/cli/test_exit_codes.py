"""Every ``shipwise`` command keeps docs/ci.md's exit codes: 0 yes, 1 a closed gate or a
refusal (the server's 409), 2 a mistake (an unknown name, a bad token, bad input), so a
typo never reads as a closed gate. With ``--json`` an error is JSON on stdout too:
``{"error": {"message", "hint", "exit_code"}}``.

Table-driven against one real server: ``SERVER_ROWS`` has a row for every command that
talks to a server (it takes ``--token``), ``OFFLINE_ROWS`` one for every other command.
The command tree is walked, so a new command without a row fails
``test_every_command__has_a_row`` by name: add its row here.

A row's arguments are formatted with the names ``seeded`` made: ``{p}`` the project,
``{sha}`` a commit, ``{plan}`` a plan file, ``{aborted}`` an aborted rollout plan,
``{withdrawn}`` a withdrawn change request, ``{unleash}`` an Unleash document,
``{policy}`` a policy file, ``{constraints}`` a segment's constraints (JSON).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import typer.main
from click.testing import Result
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer
from typer.core import TyperGroup

from shipwise.cli.app import app

SHA = "4f2a9c1e4f2a9c1e4f2a9c1e4f2a9c1e4f2a9c1e"
UNKNOWN = "nope-404"
ANNOUNCEMENT = (  # an in-app announcement's options, its body any file the world has
    "--title T --body-file {constraints} "
    "--start 2099-01-01T00:00:00+00:00 --end 2099-02-01T00:00:00+00:00"
)


@dataclass(frozen=True, slots=True)
class Row:
    """``unknown``: arguments naming something that does not exist (None when the command
    names nothing; the bad-token case covers it). ``refused``: arguments the server
    refuses with 409 (None when nothing the command does can be refused: reading,
    switching off, reporting). The bad-token case runs ``unknown`` or else ``ok``."""

    unknown: tuple[str, ...] | None
    refused: tuple[str, ...] | None = None
    ok: tuple[str, ...] = ()


def _row(unknown: str | None, refused: str | None = None, ok: str = "") -> Row:
    """A row from shell-like lines: ``"seg-2 -c 'plan IN pro'"``."""
    split = lambda text: None if text is None else tuple(shlex.split(text))  # noqa: E731
    return Row(split(unknown), split(refused), split(ok) or ())


SERVER_ROWS: dict[str, Row] = {
    "project list": _row(None),
    "project show": _row(UNKNOWN),
    "project create": _row(None, "default", ok="fresh-project"),
    "project repo show": _row(f"-p {UNKNOWN}"),
    "project repo set": _row(f"/srv/git/shop.git -p {UNKNOWN}"),
    "env list": _row(f"-p {UNKNOWN}"),
    "env create": _row(f"qa -p {UNKNOWN}", "dev -p {p}"),
    "flag create": _row(f"f-new -p {UNKNOWN}", "f-on -p {p}"),
    "flag list": _row(f"-p {UNKNOWN}"),
    "flag show": _row(f"{UNKNOWN} -p {{p}}"),
    # production is protected: a flag of no release that has passed its gates stays off
    "flag enable": _row(f"f-on -e {UNKNOWN} -p {{p}}", "f-on -e production -p {p}"),
    "flag disable": _row(f"{UNKNOWN} -e dev -p {{p}}"),
    "flag rollout": _row(f"{UNKNOWN} 10 -e dev -p {{p}}", "f-on 50 -e production -p {p}"),
    "flag kill": _row(f"{UNKNOWN} -e dev -r why -p {{p}}"),
    "token create": _row(f"--kind server -e {UNKNOWN} -p {{p}}"),
    "token list": _row(None),
    "token revoke": _row("999999"),
    "segment list": _row(f"-p {UNKNOWN}"),
    "segment show": _row(f"{UNKNOWN} -p {{p}}"),
    "segment create": _row(f"seg-2 -c 'plan IN pro' -p {UNKNOWN}", "seg-1 -c 'plan IN x' -p {p}"),
    "segment update": _row(f"{UNKNOWN} --description x -p {{p}}"),
    "segment delete": _row(f"{UNKNOWN} -p {{p}}"),
    "change request": _row(f"{UNKNOWN} -e production --enable -r why -p {{p}}"),
    "change segment": _row(f"{UNKNOWN} --constraints {{constraints}} -r why -p {{p}}"),
    "change list": _row(f"-p {UNKNOWN}"),
    "change show": _row("999999 -p {p}"),
    "change approve": _row("999999 -p {p}", "{withdrawn} -p {p}"),
    "change reject": _row("999999 -r no -p {p}", "{withdrawn} -r no -p {p}"),
    "change withdraw": _row("999999 -p {p}", "{withdrawn} -p {p}"),
    "change apply": _row("999999 -p {p}", "{withdrawn} -p {p}"),
    "import unleash": _row(f"{{unleash}} -e {UNKNOWN} -p {{p}}"),
    "audit list": _row(f"-p {UNKNOWN}"),
    "login-link": _row(UNKNOWN),
    "release create": _row(f"Title -p {UNKNOWN}", "Title --key rel-1 -p {p}"),
    "release list": _row(f"-p {UNKNOWN}"),
    "release show": _row(f"{UNKNOWN} -p {{p}}"),
    "release update": _row(f"{UNKNOWN} --title x -p {{p}}", "rel-gone --title x -p {p}"),
    "release approve": _row(f"{UNKNOWN} -p {{p}}", "rel-gone -e dev -p {p}"),
    "release check": _row(f"{UNKNOWN} item -p {{p}}"),
    "release signoff": _row(f"{UNKNOWN} -p {{p}}"),
    "release drill": _row(f"{UNKNOWN} -e staging -p {{p}}"),
    "release promote": _row(f"rel-1 -e {UNKNOWN} -p {{p}}", "rel-1 -p {p}"),
    "release abandon": _row(f"{UNKNOWN} -r why -p {{p}}", "rel-gone -r why -p {p}"),
    "release pr-body": _row(f"{UNKNOWN} -p {{p}}"),
    "release notes": _row(f"{UNKNOWN} -p {{p}}", "rel-1 -p {p}"),  # 409: no repository
    "release help-docs": _row(f"{UNKNOWN} https://help.example.com/x -p {{p}}"),
    "release schedule": _row(f"{UNKNOWN} -p {{p}}"),
    "release report": _row(f"{UNKNOWN} -p {{p}}"),
    "release learnings": _row(f"{UNKNOWN} -p {{p}}"),
    "calendar create": _row(f"-p {UNKNOWN}"),
    "calendar list": _row(f"-p {UNKNOWN}"),
    "calendar revoke": _row("999999 -p {p}"),
    "gate check": _row(f"rel-1 -e {UNKNOWN} -p {{p}}", "rel-1 -p {p}"),
    "deploy report": _row(f"-e staging --ref {SHA} -p {UNKNOWN}"),
    "ci report": _row(f"--ref {SHA} --context tests --state success -p {UNKNOWN}"),
    "policy apply": _row(f"{{policy}} -p {UNKNOWN}"),
    "policy show": _row(f"-p {UNKNOWN}"),
    "rollout start": _row(f"{UNKNOWN} -e dev -p {{p}}", "f-on -e dev --plan {plan} -p {p}"),
    "rollout list": _row(f"-p {UNKNOWN}"),
    "rollout show": _row("999999 -p {p}"),
    "rollout timeline": _row("999999 -p {p}"),
    "rollout pause": _row("999999 -r why -p {p}", "{aborted} -r why -p {p}"),
    "rollout resume": _row("999999 -p {p}", "{aborted} -p {p}"),
    "rollout approve": _row("999999 -p {p}", "{aborted} -p {p}"),
    "rollout skip": _row("999999 -r why -p {p}", "{aborted} -r why -p {p}"),
    "rollout abort": _row("999999 -r why -p {p}", "{aborted} -r why -p {p}"),
    "rollout template save": _row(f"t2 {{plan}} -p {UNKNOWN}"),
    "rollout template list": _row(f"-p {UNKNOWN}"),
    "rollout template delete": _row(f"{UNKNOWN} -p {{p}}"),
    "metric define": _row(f"m2 --source pushed -p {UNKNOWN}"),
    "metric list": _row(f"-p {UNKNOWN}"),
    "metric show": _row(f"{UNKNOWN} -p {{p}}"),
    "metric delete": _row(f"{UNKNOWN} -p {{p}}", "errors -p {p}"),
    "metric push": _row(f"{UNKNOWN} 1 -p {{p}}"),
    "metric templates": _row(None),
    "announcement add": _row(
        f"{UNKNOWN} --flag f-on {ANNOUNCEMENT} -p {{p}}",
        f"rel-gone --flag f-staged {ANNOUNCEMENT} -p {{p}}",  # 409: an abandoned release
    ),
    "announcement list": _row(f"{UNKNOWN} -p {{p}}"),
    "announcement show": _row("rel-1 999999 -p {p}"),
    "announcement end": _row("rel-1 999999 -p {p}"),
    "announcement remove": _row("rel-1 999999 -p {p}"),
    "mailout draft": _row(f"{UNKNOWN} -p {{p}}"),
    "mailout list": _row(f"-p {UNKNOWN}"),
    "mailout show": _row("999999 -p {p}"),
    "mailout edit": _row("999999 --subject S -p {p}"),
    "mailout preview": _row("999999 -p {p}"),
    "mailout test": _row("999999 --to t@example.com -p {p}"),
    "mailout send": _row("999999 -p {p}"),
    "channel add": _row(f"c2 --kind log -p {UNKNOWN}"),
    "channel list": _row(f"-p {UNKNOWN}"),
    "channel show": _row(f"{UNKNOWN} -p {{p}}"),
    "channel remove": _row(f"{UNKNOWN} -p {{p}}"),
    "channel test": _row(f"{UNKNOWN} -p {{p}}"),
    "channel deliveries": _row(f"-p {UNKNOWN}"),
    "channel retry": _row("999999 -p {p}"),
    "channel subscribe": _row(f"{UNKNOWN} --events rollout.* -p {{p}}"),
    "channel subscriptions": _row(f"-p {UNKNOWN}"),
    "channel unsubscribe": _row("999999 -p {p}"),
    "rollback": _row(f"{UNKNOWN} -r why -p {{p}}", "rel-gone -r why -p {p}"),
}

# Commands that need no server: a mistake in their input exits 2.
OFFLINE_ROWS: dict[str, tuple[str, ...]] = {
    "demo": ("--users", "many"),
    "serve": ("--port", "0"),
    "runner": ("--interval", "0"),
    "simulate": (UNKNOWN,),
    "db upgrade": ("--database-url", "mysql://somewhere/shipwise"),
    "audit verify": ("--data-dir", "{missing}"),
    "snapshot check": ("{missing}",),
    "snapshot convert": ("{missing}",),
    "snapshot explain": ("{missing}", "f"),
}

PLAN = {
    "steps": [{"percentage": 10}, {"percentage": 100}],
    "guardrails": [{"metric": "errors", "max_worse": 0.1}],
}
UNLEASH = {"version": 2, "features": []}


def _commands() -> Iterator[tuple[str, Any]]:
    """Every runnable command of the ``shipwise`` tree, as ``("rollout template save",
    command)``."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                if not sub.hidden:
                    yield from walk(sub, (*path, name))
        else:
            yield " ".join(path), command

    yield from walk(typer.main.get_command(app), ())


def _options(command: Any) -> set[str]:
    return {name for param in command.params for name in getattr(param, "opts", ())}


COMMANDS = dict(_commands())


# -- the table covers the tree ---------------------------------------------------------------


def test_every_command__has_a_row() -> None:
    server = {path for path, command in COMMANDS.items() if "--token" in _options(command)}
    offline = set(COMMANDS) - server

    missing = sorted(server - set(SERVER_ROWS)) + sorted(offline - set(OFFLINE_ROWS))
    gone = sorted((set(SERVER_ROWS) - server) | (set(OFFLINE_ROWS) - offline))

    assert not missing, (
        f"no exit-code row for: {', '.join(missing)}; add one to "
        f"{'SERVER_ROWS' if set(missing) & server else 'OFFLINE_ROWS'} in {__file__}"
    )
    assert not gone, f"rows for commands that are not (or no longer) there: {', '.join(gone)}"


# -- one seeded project ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    shipwise: Shipwise
    remote: tuple[str, ...]
    names: dict[str, str]

    def run(self, path: str, args: tuple[str, ...], *more: str) -> Result:
        formatted = [arg.format(**self.names) for arg in args]
        return self.shipwise(*path.split(), *formatted, *more)


@pytest.fixture(scope="module")
def seeded(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A project with a flag, a metric, a segment, a release in progress and an abandoned
    one, an aborted rollout plan and a withdrawn change request."""
    home = tmp_path_factory.mktemp("exit-codes")
    shipwise = Shipwise(home)
    remote = ("--url", server.url, "--token", server.admin_token)
    project = "exits"
    plan, unleash, policy = home / "plan.json", home / "unleash.json", home / "shipwise.toml"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    (home / "constraints.json").write_text("[]", encoding="utf-8")
    unleash.write_text(json.dumps(UNLEASH), encoding="utf-8")
    policy.write_text("", encoding="utf-8")

    def ok(*args: str) -> Any:
        return shipwise.json(*args, "-p", project, *remote)

    shipwise.json("project", "create", project, *remote)
    ok("flag", "create", "f-on")
    ok("flag", "create", "f-staged")
    ok("metric", "define", "errors", "--source", "sdk", "--set", "event=error")
    ok("segment", "create", "seg-1", "-c", "plan IN pro")
    ok("release", "create", "Exit codes", "--key", "rel-1", "--flag", "f-on", "--ref", SHA)
    ok("release", "create", "Gone", "--key", "rel-gone", "--flag", "f-staged")
    ok("release", "abandon", "rel-gone", "-r", "not needed")
    ok("rollout", "start", "f-on", "-e", "dev", "--plan", str(plan))  # watches errors
    aborted = ok("rollout", "start", "f-staged", "-e", "staging", "--plan", str(plan))["id"]
    ok("rollout", "abort", str(aborted), "-r", "done with it")
    request = ok("change", "request", "f-staged", "-e", "production", "--enable", "-r", "try")
    withdrawn = request.get("number") or request.get("id")
    ok("change", "withdraw", str(withdrawn), "-r", "changed my mind")
    names = {
        "p": project,
        "plan": str(plan),
        "unleash": str(unleash),
        "policy": str(policy),
        "aborted": str(aborted),
        "withdrawn": str(withdrawn),
        "missing": str(home / "missing"),
        "constraints": str(home / "constraints.json"),
    }
    return Seeded(shipwise, remote, names)


def _json_error(result: Result, code: int) -> dict[str, Any]:
    """The JSON error on stdout, checked against the exit code."""
    assert result.exit_code == code, result.output
    error = json.loads(result.stdout)["error"]
    assert set(error) == {"message", "hint", "exit_code"}, error
    assert error["exit_code"] == code
    assert error["message"]
    assert result.stderr.startswith("Error: "), result.stderr
    return dict(error)


def _json(path: str) -> tuple[str, ...]:
    return ("--json",) if "--json" in _options(COMMANDS[path]) else ()


# -- server commands -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, row in SERVER_ROWS.items() if row.unknown is not None])
def test_server_command__unknown_name__exits_2_with_a_json_error(seeded: Seeded, path: str) -> None:
    row = SERVER_ROWS[path]
    assert row.unknown is not None

    result = seeded.run(path, row.unknown, *seeded.remote, *_json(path))

    if _json(path):
        error = _json_error(result, 2)
        assert "nope-404" in error["message"] or "999999" in error["message"], error
    else:
        assert result.exit_code == 2, result.output


@pytest.mark.parametrize("path", list(SERVER_ROWS))
def test_server_command__bad_token__exits_2_with_a_json_error(seeded: Seeded, path: str) -> None:
    row = SERVER_ROWS[path]
    args = row.unknown if row.unknown is not None else row.ok
    bad = ("--url", seeded.remote[1], "--token", "sw_api_not-a-real-token")

    result = seeded.run(path, args, *bad, *_json(path))

    if _json(path):
        error = _json_error(result, 2)
        assert "token" in error["message"], error
    else:
        assert result.exit_code == 2, result.output


@pytest.mark.parametrize("path", [p for p, row in SERVER_ROWS.items() if row.refused is not None])
def test_server_command__refused__exits_1(seeded: Seeded, path: str) -> None:
    row = SERVER_ROWS[path]
    assert row.refused is not None

    result = seeded.run(path, row.refused, *seeded.remote, *_json(path))

    assert result.exit_code == 1, result.output
    answer = json.loads(result.stdout)
    if "error" in answer:
        assert answer["error"]["exit_code"] == 1
    else:  # a closed gate or a refused promotion: the decision itself
        assert answer["allowed"] is False
        assert [g for g in answer["gates"] if not g["passed"]]


# -- commands that need no server ------------------------------------------------------------


@pytest.mark.parametrize("path", list(OFFLINE_ROWS))
def test_offline_command__bad_input__exits_2(seeded: Seeded, path: str) -> None:
    result = seeded.run(path, OFFLINE_ROWS[path], *_json(path))

    if _json(path):
        _json_error(result, 2)
    else:
        assert result.exit_code == 2, result.output


# -- the other mistakes: a token of the wrong role or kind, no server --------------------------


def test_token_of_the_wrong_role_or_kind__exits_2_with_a_json_error(seeded: Seeded) -> None:
    project = seeded.names["p"]
    viewer = seeded.shipwise.json(
        "token", "create", "--kind", "api", "--role", "viewer", "-p", project, *seeded.remote
    )["secret"]
    sdk_key = seeded.shipwise.json(
        "token", "create", "--kind", "server", "-e", "dev", "-p", project, *seeded.remote
    )["secret"]
    url = ("--url", seeded.remote[1])

    # When a viewer writes (403), and an SDK key asks the admin API
    wrote = seeded.shipwise(
        "flag", "create", "f-x", "-p", project, *url, "--token", viewer, "--json"
    )
    asked = seeded.shipwise("flag", "list", "-p", project, *url, "--token", sdk_key, "--json")

    # Then both are mistakes, not refusals: exit 2, the server's reason in JSON
    assert "viewer" in _json_error(wrote, 2)["message"]
    _json_error(asked, 2)


def test_no_server_at_the_url__exits_2_with_a_json_error(shipwise: Shipwise) -> None:
    result = shipwise(
        "gate", "check", "rel-1", "--url", "http://127.0.0.1:9", "--token", "t", "--json"
    )

    assert "cannot reach Shipwise" in _json_error(result, 2)["message"]
