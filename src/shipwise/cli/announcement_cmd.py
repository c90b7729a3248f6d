"""``shipwise announcement add|list|show|end|remove``: a release's in-app announcements.

    shipwise announcement add rel-7 --flag new-checkout --title "A faster checkout" \\
        --body-file whats-new.md --link https://example.com/new-checkout \\
        --start 2027-03-01T09:00:00+00:00 --end 2027-03-15T09:00:00+00:00

Users of the environment (default: the last one, production) whose flag is on see it
between --start and --end, in the app (``client.announcements(context)``) or the browser
(``GET /api/frontend/announcements``), until they dismiss it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument, env_option
from shipwise.cli.output import console, fail, say, shown, table
from shipwise.cli.release_evidence_cmd import release_path
from shipwise.cli.shapes import items

announcement_app = typer.Typer(
    help="In-app announcements of a release, shown to the users its flag is on for.",
    no_args_is_help=True,
)

IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The announcement's id.", min=1)]


def _moment(value: str, option: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO 8601 time; e.g. 2027-03-01T09:00:00+00:00")
    if moment.tzinfo is None:
        fail(f"{option} {value!r} has no time zone; add one, e.g. +00:00 or Z")
    return moment.isoformat()


def _path(project: str, key: str, *rest: str | int) -> str:
    return release_path(project, key, "announcements", *(str(r) for r in rest))


def _describe(announcement: dict[str, Any]) -> None:
    say(
        Text(str(announcement.get("title")), style="bold"),
        f"  (id {announcement.get('id')}, {announcement.get('state')})",
    )
    say(
        f"to {announcement.get('environment')} users with {announcement.get('flag')} on, "
        f"from {announcement.get('starts_at')} until {announcement.get('ends_at')}"
    )
    if announcement.get("link"):
        say(f"link: {announcement.get('link')}")
    if announcement.get("ended_by"):
        say(f"ended early by {announcement.get('ended_by')}", style="dim")
    say("")
    console.print(shown(str(announcement.get("body", "")), keep_newlines=True), soft_wrap=True)


@command(announcement_app, "add")
def add(
    api: Api,
    key: ReleaseArgument,
    flag: Annotated[str, typer.Option(help="One of the release's flags: who sees it.")],
    title: Annotated[str, typer.Option(help="One line, at most 120 characters.")],
    body_file: Annotated[
        Path,
        typer.Option(
            "--body-file", help="The body, Markdown (at most 10,000 characters).", dir_okay=False
        ),
    ],
    start: Annotated[str, typer.Option(help="ISO 8601 with a time zone: shown from then.")],
    end: Annotated[str, typer.Option(help="ISO 8601 with a time zone: shown until then.")],
    link: Annotated[str | None, typer.Option(help="An http(s) link for more.")] = None,
    environment: Annotated[
        str | None, env_option("The environment whose users see it (default: production).")
    ] = None,
    project: ProjectOption = "default",
) -> None:
    """Announce the release in the app, to users whose flag is on (releasers)."""
    try:
        body = body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {body_file}: {error}")
    sent: dict[str, Any] = {
        "flag": flag,
        "title": title,
        "body": body,
        "starts_at": _moment(start, "--start"),
        "ends_at": _moment(end, "--end"),
        "link": link,
        "environment": environment,
    }
    created = api.post(_path(project, key), {k: v for k, v in sent.items() if v is not None})
    if api.json(created):
        return
    say(
        f"Announcement {created.get('id')} of {key} added: {created.get('environment')} "
        f"users with {flag} on see it from {created.get('starts_at')}.",
        style="green",
    )


@command(announcement_app, "list")
def list_announcements(api: Api, key: ReleaseArgument, project: ProjectOption = "default") -> None:
    """A release's announcements, oldest first."""
    answer = api.get(_path(project, key))
    if api.json(answer):
        return
    found = items(answer, "announcements")
    rows = (
        (
            a.get("id"),
            a.get("title"),
            a.get("flag"),
            a.get("environment"),
            a.get("state"),
            a.get("starts_at"),
            a.get("ends_at"),
        )
        for a in found
    )
    title = f"Announcements of {key}" if found else f"No announcements of {key} yet"
    headers = ("id", "title", "flag", "environment", "state", "from", "until")
    console.print(table(headers, rows, title=title))


@command(announcement_app, "show")
def show(
    api: Api, key: ReleaseArgument, announcement: IdArgument, project: ProjectOption = "default"
) -> None:
    """One announcement, with its body."""
    answer = api.get(_path(project, key, announcement))
    if api.json(answer):
        return
    _describe(answer)


@command(announcement_app, "end")
def end(
    api: Api, key: ReleaseArgument, announcement: IdArgument, project: ProjectOption = "default"
) -> None:
    """End an announcement now: nobody sees it from now on (flag writers)."""
    answer = api.post(_path(project, key, announcement, "end"))
    if api.json(answer):
        return
    say(f"Announcement {announcement} of {key} ended at {answer.get('ends_at')}.")


@command(announcement_app, "remove")
def remove(
    api: Api, key: ReleaseArgument, announcement: IdArgument, project: ProjectOption = "default"
) -> None:
    """Remove an announcement and its users' dismissals (flag writers)."""
    answer = api.delete(_path(project, key, announcement))
    if api.json(answer):
        return
    say(f"Removed announcement {announcement} of {key}.")
