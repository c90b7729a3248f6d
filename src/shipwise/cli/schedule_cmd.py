"""``shipwise release schedule REL`` and ``shipwise calendar create|list|revoke``: a
release's monitoring schedule in production, and feed links a calendar app subscribes to.

    shipwise release schedule rel-12                  the steps, the bake, who watches
    shipwise release schedule rel-12 --ics rel-12.ics the same as an iCalendar file
    shipwise calendar create --name "my phone"        a secret address, shown once
    shipwise calendar list
    shipwise calendar revoke 3
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument
from shipwise.cli.output import console, note, say, table
from shipwise.cli.release_evidence_cmd import release_path
from shipwise.cli.remote import api_path

__all__ = ["calendar_app", "schedule_app"]

schedule_app = typer.Typer()
calendar_app = typer.Typer(
    help="Calendar feed links: a project's monitoring schedules in a calendar app.",
    no_args_is_help=True,
)

_STATE = {"done": "done", "now": "now", "ahead": "", "cancelled": "cancelled"}


def _when(window: dict[str, Any]) -> str:
    return f"{str(window['starts'])[:16]} → {str(window['ends'])[:16]}".replace("T", " ")


@command(schedule_app, "schedule")
def schedule(
    api: Api,
    key: ReleaseArgument,
    ics: Annotated[
        Path | None,
        typer.Option("--ics", metavar="FILE", help="Also write the schedule as iCalendar."),
    ] = None,
    project: ProjectOption = "default",
) -> None:
    """The release's monitoring schedule in production: each step's dates, the close
    watch, the bake, the check cadence and who watches (estimated until a plan runs)."""
    path = release_path(project, key, "schedule")
    answer = api.get(path)
    if ics is not None:
        ics.write_bytes(api.send("GET", f"{path}.ics").content)
    if api.json(answer):
        return
    rows = (
        (w["step"], w["title"], _when(w), "estimate" if w["estimated"] else _STATE[w["state"]])
        for w in answer["windows"]
        if w["kind"] != "close-watch"
    )
    title = f"{answer['release']} in {answer['environment']}, from {answer['source']} (UTC)"
    console.print(table(("step", "what", "when", "state"), rows, title=title))
    say(f"Checks: {answer['cadence']}.")
    say(f"Watching: {', '.join(answer['watchers']) or 'nobody named'}.")
    if ics is not None:
        note(f"Wrote {ics} ({answer['ics_url']}).")


@command(calendar_app, "create")
def create(
    api: Api,
    name: Annotated[
        str | None, typer.Option("--name", help="Whose calendar it is (default: yours).")
    ] = None,
    project: ProjectOption = "default",
) -> None:
    """A secret address of the project's monitoring schedules for a calendar app. It is
    shown only now: whoever has it reads the schedules, so keep it as a password."""
    made = api.post(api_path("projects", project, "calendar-feeds"), {"name": name})
    if api.json(made):
        return
    say(f"Calendar feed {made['id']} ({made['name']}): subscribe to this address:")
    typer.echo(made["url"])
    note("It is shown only once. Revoke it with `shipwise calendar revoke ID`.")


@command(calendar_app, "list")
def list_feeds(api: Api, project: ProjectOption = "default") -> None:
    """The project's calendar feed links (never their addresses)."""
    found = api.get(api_path("projects", project, "calendar-feeds"))
    if api.json(found):
        return
    rows = (
        (f["id"], f["name"], f["created_by"], f["created_at"][:16], f["revoked_at"] or "")
        for f in found
    )
    title = f"Calendar feeds in {project}" if found else f"No calendar feeds in {project} yet"
    console.print(table(("id", "name", "made by", "made", "revoked"), rows, title=title))


@command(calendar_app, "revoke")
def revoke(
    api: Api,
    feed: Annotated[int, typer.Argument(metavar="ID", help="The feed link's id.")],
    project: ProjectOption = "default",
) -> None:
    """Revoke a feed link: its address answers 404 from now on."""
    answer = api.delete(api_path("projects", project, "calendar-feeds", feed))
    if api.json(answer):
        return
    say(f"Revoked calendar feed {feed} ({answer['name']}).")
