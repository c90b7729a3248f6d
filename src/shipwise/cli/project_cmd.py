"""``shipwise project list|show|create``: projects and their pipelines."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shipwise.cli.options import JsonOption, NewKeyArgument, TokenOption, UrlOption
from shipwise.cli.output import console, print_json, say, table
from shipwise.cli.remote import api_path, connect
from shipwise.cli.shapes import items

project_app = typer.Typer(
    help="Projects: each has a pipeline of environments.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def environments_table(environments: list[dict[str, Any]], title: str) -> Table:
    rows = ((e.get("key"), e.get("name"), e.get("branch"), e.get("revision")) for e in environments)
    return table(("environment", "name", "branch", "revision"), rows, title=title)


@project_app.command("list")
def list_projects(
    url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """The projects this token can see."""
    with connect(url, token) as remote:
        answer = remote.get(api_path("projects"))
    if as_json:
        print_json(answer)
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


@project_app.command("show")
def show(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The project's key.")],
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A project and its environments."""
    with connect(url, token) as remote:
        project = remote.get(api_path("projects", key))
    if as_json:
        print_json(project)
        return
    say(f"{project.get('key')}: {project.get('name')} (time zone {project.get('timezone')})")
    title = "Environments, in promotion order"
    console.print(environments_table(items(project, "environments"), title))


@project_app.command("create")
def create(
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
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a project with its pipeline of environments (global admins)."""
    body: dict[str, Any] = {"key": key, "timezone": timezone}
    if name:
        body["name"] = name
    if environment:
        body["environments"] = [{"key": e} for e in environment]
    with connect(url, token) as remote:
        project = remote.post(api_path("projects"), body)
    if as_json:
        print_json(project)
        return
    say(f"Created project {project.get('key')}.", style="green")
    console.print(environments_table(items(project, "environments"), "Its pipeline"))
