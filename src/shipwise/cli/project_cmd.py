"""``shipwise project list|show|create``: projects and their pipelines."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shipwise.cli.command import Api, command
from shipwise.cli.options import NewKeyArgument
from shipwise.cli.output import console, say, table
from shipwise.cli.release_notes_cmd import repo_app
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items

project_app = typer.Typer(
    help="Projects: each has a pipeline of environments.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def environments_table(environments: list[dict[str, Any]], title: str) -> Table:
    rows = ((e.get("key"), e.get("name"), e.get("branch"), e.get("revision")) for e in environments)
    return table(("environment", "name", "branch", "revision"), rows, title=title)


@command(project_app, "list")
def list_projects(api: Api) -> None:
    """The projects this token can see."""
    answer = api.get(api_path("projects"))
    if api.json(answer):
        return
    rows = (
        (
            p.get("key"),
            p.get("name"),
            p.get("timezone"),
            " → ".join(str(e.get("key")) for e in items(p, "environments")),
        )
        for p in items(answer, "projects")
    )
    console.print(table(("project", "name", "time zone", "pipeline"), rows, title="Projects"))


@command(project_app, "show")
def show(
    api: Api,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The project's key.")],
) -> None:
    """A project and its environments."""
    project = api.get(api_path("projects", key))
    if api.json(project):
        return
    say(f"{project.get('key')}: {project.get('name')} (time zone {project.get('timezone')})")
    title = "Environments, in promotion order"
    console.print(environments_table(items(project, "environments"), title))


@command(project_app, "create")
def create(
    api: Api,
    key: NewKeyArgument,
    name: Annotated[str | None, typer.Option(help="A name for people. (default: the key)")] = None,
    timezone: Annotated[str, typer.Option(help="For schedules, e.g. Europe/Oslo.")] = "UTC",
    environment: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            "-e",
            "--environment",
            help="An environment of the pipeline, in promotion order; repeat for each. "
            "(default: dev, staging, production)",
        ),
    ] = None,
) -> None:
    """Create a project with its pipeline of environments (global admins)."""
    body: dict[str, Any] = {"key": key, "timezone": timezone}
    if name:
        body["name"] = name
    if environment:
        body["environments"] = [{"key": e} for e in environment]
    project = api.post(api_path("projects"), body)
    if api.json(project):
        return
    say(f"Created project {project.get('key')}.", style="green")
    console.print(environments_table(items(project, "environments"), "Its pipeline"))


# repo show|set: where release notes are drawn from (``release_notes_cmd.py``).
project_app.add_typer(repo_app, name="repo")
