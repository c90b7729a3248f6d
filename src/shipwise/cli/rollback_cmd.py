"""``shipwise rollback RELEASE``: everything Shipwise can undo at once, and what is left.

Without ``--drill``: every flag of the release off wherever it is out, running rollout
plans stopped, the release marked rolled back, people notified; then the git commands
to revert its merges and the rest of a person's to-do list. With ``--drill``: rehearse
the flag part in ``--env`` (by default the stage before production, which the server
picks from the project's pipeline), verify through the SDK's evaluator that the flags
are off for a sample of users, restore them, and record the drill (the production gate
wants a successful one since the release last changed).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument, env_option
from shipwise.cli.output import Exit, console, fail, say, table
from shipwise.cli.release_evidence_cmd import release_path

rollback_app = typer.Typer()  # its one command is ``shipwise rollback`` (cli/app.py)


@command(rollback_app, "rollback", rich_help_panel="Releases")
def rollback(
    api: Api,
    release: ReleaseArgument,
    reason: Annotated[
        str | None,
        typer.Option("--reason", "-r", help="Why (the audit log and the notification say it)."),
    ] = None,
    drill: Annotated[
        bool, typer.Option("--drill", help="Rehearse in --env, verify, restore; change nothing.")
    ] = False,
    environment: Annotated[
        str | None,
        env_option(
            "Where to rehearse (--drill). (default: the stage before production)",
            "--environment",
        ),
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", min=10, max=100_000, help="Users checked per flag (--drill).")
    ] = 500,
    project: ProjectOption = "default",
) -> None:
    """Roll a release back in one step (or rehearse it with --drill)."""
    if drill:
        body = {"sample": sample} | ({"environment": environment} if environment else {})
        report = api.post(release_path(project, release, "rollback-drill"), body)
        if not api.json(report):
            _show_drill(report)
        if not report["succeeded"]:
            raise typer.Exit(Exit.NO)
        return
    if not reason or not reason.strip():
        fail("say why with --reason", hint="It goes into the audit log and the notification.")
    answer = api.post(release_path(project, release, "rollback"), {"reason": reason})
    if not api.json(answer):
        _show_rollback(release, answer)


def _show_rollback(release: str, answer: dict[str, Any]) -> None:
    off = answer.get("switched_off") or []
    say(Text(f"Rolled back {release}", style="bold red"), f" ({answer['release']['status']}).")
    if off:
        rows = ((item["flag"], item["environment"]) for item in off)
        console.print(table(("flag", "environment"), rows, title="Switched off"))
    else:
        say("No flag of the release was on anywhere.")
    if answer.get("plans_stopped"):
        plans = ", ".join(f"#{n}" for n in answer["plans_stopped"])
        say(f"Rollout plans stopped: {plans}.")
    say()
    say(Text("Still to do, by a person:", style="bold"))
    for number, item in enumerate(answer.get("still_to_do") or [], start=1):
        say(f"  {number}. {item}")
    commands = answer.get("git_commands") or []
    if commands:
        say()
        say(Text("Revert the code:", style="bold"))
        for command in commands:
            say(f"  {command}")


def _show_drill(report: dict[str, Any]) -> None:
    if report["succeeded"]:
        restored = ", ".join(report["restored"]) or "nothing"
        say(
            Text("Drill succeeded", style="green"),
            f" in {report['environment']}: {report['detail']}; "
            f"restored {restored}. Recorded for the gates.",
        )
    else:
        say(Text("Drill FAILED", style="red"), f" in {report['environment']}: {report['detail']}")
