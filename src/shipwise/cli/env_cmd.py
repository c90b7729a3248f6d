"""``shipwise env list|create``: a project's environments."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shipwise.cli.options import JsonOption, NewKeyArgument, ProjectOption, TokenOption, UrlOption
from shipwise.cli.output import console, print_json, say
from shipwise.cli.project_cmd import environments_table
from shipwise.cli.remote import api_path, connect
from shipwise.cli.shapes import items

env_app = typer.Typer(
    help="Environments: the stages of a project's pipeline.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@env_app.command("list")
def list_environments(
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A project's environments, in promotion order."""
    with connect(url, token) as remote:
        answer = remote.get(api_path("projects", project, "environments"))
    if as_json:
        print_json(answer)
        return
    title = f"Environments of {project}, in promotion order"
    console.print(environments_table(items(answer, "environments"), title))


@env_app.command("create")
def create(
    key: NewKeyArgument,
    project: ProjectOption = "default",
    name: Annotated[str | None, typer.Option(help="A name for people. (default: the key)")] = None,
    branch: Annotated[
        str | None, typer.Option(help="The git branch that feeds it. (default: the key)")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an environment at the end of the pipeline; every flag starts off in it."""
    body: dict[str, Any] = {"key": key}
    body |= {k: v for k, v in {"name": name, "branch": branch}.items() if v}
    with connect(url, token) as remote:
        environment = remote.post(api_path("projects", project, "environments"), body)
    if as_json:
        print_json(environment)
        return
    created = environment.get("key", key)
    say(f"Created environment {created} in {project}; every flag is off there.", style="green")
