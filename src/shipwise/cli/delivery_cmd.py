"""``shipwise channel deliveries|retry``: what went to a project's channels, what failed,
and sending a failed one again.

    shipwise channel deliveries --failed
    shipwise channel retry 42

A failed delivery is *failing* (another attempt is scheduled) or *given up* (none is);
``retry`` makes it due now (its attempts kept); the server's delivery loop sends it
within a second or so. The channel commands are registered on ``channel_app`` here, so
``shipwise channel`` has them all.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from shipwise.cli.channel_cmd import channel_app
from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption
from shipwise.cli.output import console, say, table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items, when

__all__ = ["channel_app"]


def _path(project: str, *rest: str | int) -> str:
    return api_path("projects", project, "deliveries", *rest)


@command(channel_app, "deliveries")
def deliveries(
    api: Api,
    project: ProjectOption = "default",
    failed: Annotated[
        bool, typer.Option("--failed", help="Only failing and given-up deliveries.")
    ] = False,
) -> None:
    """What went, or failed to go, to the project's channels, newest first."""
    answer = api.get(_path(project), params={"state": "failed"} if failed else None)
    if api.json(answer):
        return
    found = items(answer, "deliveries")
    rows = (
        (
            str(d.get("id")),
            d.get("channel"),
            d.get("event"),
            d.get("title"),
            d.get("state"),
            str(d.get("attempts")),
            d.get("last_error") or "",
            when(d.get("next_attempt_at")) or "",
        )
        for d in found
    )
    what = "Failed deliveries" if failed else "Deliveries"
    title = f"{what} of {project}" if found else f"No {what.lower()} in {project}"
    heads = ("id", "channel", "event", "title", "state", "attempts", "last error", "next attempt")
    console.print(table(heads, rows, title=title))


@command(channel_app, "retry")
def retry(
    api: Api,
    delivery: Annotated[
        int, typer.Argument(metavar="ID", help="The delivery's id (`channel deliveries`).")
    ],
    project: ProjectOption = "default",
) -> None:
    """Send a failed delivery again, now (admins and release managers)."""
    answer = api.post(_path(project, delivery, "retry"))
    if api.json(answer):
        return
    say(
        f"Delivery {delivery} to {answer.get('channel')} is due again: ",
        Text(str(answer.get("title")), style="bold"),
    )
    say(f"attempts so far: {answer.get('attempts')}", style="dim")
