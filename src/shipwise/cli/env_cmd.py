"""``shipwise env list|create``: a project's environments."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import NewKeyArgument, ProjectOption
from shipwise.cli.output import console, say
from shipwise.cli.project_cmd import environments_table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items

env_app = typer.Typer(
    help="Environments: the stages of a project's pipeline.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@command(env_app, "list")
def list_environments(api: Api, project: ProjectOption = "default") -> None:
    """A project's environments, in promotion order."""
    answer = api.get(api_path("projects", project, "environments"))
    if api.json(answer):
        return
    title = f"Environments of {project}, in promotion order"
    console.print(environments_table(items(answer, "environments"), title))


@command(env_app, "create")
def create(
    api: Api,
    key: NewKeyArgument,
    project: ProjectOption = "default",
    name: Annotated[str | None, typer.Option(help="A name for people. (default: the key)")] = None,
    branch: Annotated[
        str | None, typer.Option(help="The git branch that feeds it. (default: the key)")
    ] = None,
) -> None:
    """Add an environment at the end of the pipeline; every flag starts off in it."""
    body: dict[str, Any] = {"key": key}
    body |= {k: v for k, v in {"name": name, "branch": branch}.items() if v}
    environment = api.post(api_path("projects", project, "environments"), body)
    if api.json(environment):
        return
    created = environment.get("key", key)
    say(f"Created environment {created} in {project}; every flag is off there.", style="green")
