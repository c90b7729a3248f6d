"""``shipwise release notes REL`` and ``shipwise project repo show|set``: release notes
drawn from the project's git repository, printed as Markdown.

The repository is set through the API (``PUT /projects/{p}/repository``), not in
``shipwise.toml``: it names a path on the server's disk or a URL the server fetches,
which belongs to the server's administrators (release managers and admins), while the
policy file travels between servers and is reviewed as part of the process.
"""

from __future__ import annotations

from typing import Annotated

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument
from shipwise.cli.output import say
from shipwise.cli.release_evidence_cmd import release_path
from shipwise.cli.remote import api_path

notes_app = typer.Typer()
repo_app = typer.Typer(
    help="The project's git repository, which release notes are drawn from.",
    no_args_is_help=True,
)

RefreshOption = Annotated[
    bool,
    typer.Option("--refresh", help="Draw the notes from git again (people's edits are kept)."),
]


@command(notes_app, "notes")
def notes(
    api: Api,
    key: ReleaseArgument,
    refresh: RefreshOption = False,
    project: ProjectOption = "default",
) -> None:
    """Print the release's notes (Markdown): the changes since the previous production
    release, grouped by conventional-commit type, pull requests as their titles.

    The first time, or with --refresh, they are drawn from the project's repository
    (`shipwise project repo set PATH_OR_URL`)."""
    path = release_path(project, key, "notes")
    answer = api.post(f"{path}/refresh") if refresh else api.get(path)
    if api.json(answer):
        return
    markdown = str(answer.get("markdown", ""))
    typer.echo(markdown, nl=not markdown.endswith("\n"))


@command(repo_app, "show")
def show_repository(api: Api, project: ProjectOption = "default") -> None:
    """Where the project's git repository is."""
    answer = api.get(api_path("projects", project, "repository"))
    if api.json(answer):
        return
    location = answer.get("location")
    typer.echo(location if location else f"project {project} has no repository set")


@command(repo_app, "set")
def set_repository(
    api: Api,
    location: Annotated[
        str,
        typer.Argument(
            metavar="PATH_OR_URL",
            help="An absolute path on the server (bare or working repository), or an "
            "https/http/ssh/git/file URL the server clones and fetches.",
        ),
    ],
    project: ProjectOption = "default",
) -> None:
    """Point the project at its git repository (release managers and admins)."""
    answer = api.put(api_path("projects", project, "repository"), {"location": location})
    if api.json(answer):
        return
    say(f"Release notes of {project} are drawn from {location}.", style="green")
