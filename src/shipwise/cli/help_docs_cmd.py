"""``shipwise release help-docs REL URL``: record the page of the help documentation
updated for a release, which the help-docs gate asks of major features."""

from __future__ import annotations

from typing import Annotated

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument
from shipwise.cli.output import fail, say
from shipwise.cli.release_cmd import release_app
from shipwise.cli.remote import api_path


@command(release_app, "help-docs")
def help_docs(
    api: Api,
    release: ReleaseArgument,
    page: Annotated[
        str | None, typer.Argument(metavar="URL", help="The help-docs page, https://…")
    ] = None,
    project: ProjectOption = "default",
    clear: Annotated[bool, typer.Option(help="Forget the recorded page.")] = False,
) -> None:
    """Record the release's help-docs page (audited; approvals stay)."""
    if (page is None) == (not clear):
        fail("give the URL, or --clear to forget it (not both)")
    answer = api.put(
        api_path("projects", project, "releases", release, "help-docs"),
        {"url": None if clear else page},
    )
    if api.json(answer):
        return
    shown = answer.get("help_docs")
    say(f"{release}: help docs " + (f"at {shown}" if shown else "no longer recorded"))
