"""``shipwise metric define|list|show|delete|push``: what rollout guardrails watch.

A metric says where its numbers come from (``--source``) and the source's settings::

    shipwise metric define errors --source sdk --set event=error --set measure=rate
    shipwise metric define p95 --source prometheus --settings '{"url": "...", "query": "..."}'
    shipwise metric define tickets --source pushed
    shipwise metric push tickets 1 --env production

The server checks the settings before it saves them, naming the one at fault.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption
from shipwise.cli.output import console, fail, say, table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items

metric_app = typer.Typer(
    help="Metrics that rollout guardrails watch, and counters to push (support tickets).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The metric's name, e.g. errors or checkout.p95.")
]


def _path(project: str, *rest: str) -> str:
    return api_path("projects", project, "metrics", *rest)


def setting(text: str) -> tuple[str, Any]:
    """``--set key=value``: the value as JSON when it reads as JSON (5, true, {...}),
    else as text (``event=error``)."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise typer.BadParameter(f"{text!r} is not KEY=VALUE, e.g. event=error", param_hint="--set")
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip(), parsed


def settings_from(settings: str | None, pairs: list[str] | None) -> dict[str, Any]:
    """``--settings`` (a JSON object), then each ``--set`` on top."""
    result: dict[str, Any] = {}
    if settings is not None:
        try:
            parsed = json.loads(settings)
        except ValueError as error:
            fail(f"--settings is not valid JSON: {error}")
        if not isinstance(parsed, dict):
            fail('--settings must be a JSON object, e.g. {"event": "error"}')
        result |= parsed
    for pair in pairs or []:
        key, value = setting(pair)
        result[key] = value
    return result


def settings_text(settings: Any) -> str:
    """Public settings on one line, KEY=VALUE (JSON for what is not text)."""
    if not isinstance(settings, dict) or not settings:
        return ""
    return ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in settings.items()
    )


@command(metric_app, "define")
def define(
    api: Api,
    name: NameArgument,
    source: Annotated[
        str,
        typer.Option(help="Where its numbers come from: sdk, pushed, prometheus, sentry, json."),
    ],
    project: ProjectOption = "default",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A setting, KEY=VALUE (e.g. event=error); repeat for more."),
    ] = None,
    settings: Annotated[
        str | None, typer.Option(help="All settings as a JSON object.", show_default=False)
    ] = None,
    description: Annotated[str | None, typer.Option(help="What it measures.")] = None,
) -> None:
    """Define a metric, or change its definition."""
    body: dict[str, Any] = {"source": source, "settings": settings_from(settings, set_)}
    if description is not None:
        body["description"] = description
    saved = api.request("PUT", _path(project, name), body=body)
    if api.json(saved):
        return
    shown = settings_text(saved.get("settings"))
    say(
        "Defined metric ",
        Text(name, style="bold"),
        f" in {project}: {saved.get('source')}",
        f" ({shown})" if shown else "",
        ".",
    )
    say(f'A plan watches it with {{"metric": "{name}", ...}} in its guardrails.', style="dim")


@command(metric_app, "list")
def list_metrics(api: Api, project: ProjectOption = "default") -> None:
    """A project's metrics (secrets in settings show as ***)."""
    answer = api.get(_path(project))
    if api.json(answer):
        return
    metrics = items(answer, "metrics")
    rows = (
        (m.get("name"), m.get("source"), settings_text(m.get("settings")), m.get("description"))
        for m in metrics
    )
    title = f"Metrics of {project}" if metrics else f"No metrics in {project} yet"
    console.print(table(("metric", "source", "settings", "description"), rows, title=title))


@command(metric_app, "show")
def show(api: Api, name: NameArgument, project: ProjectOption = "default") -> None:
    """One metric's definition."""
    metric = api.get(_path(project, name))
    if api.json(metric):
        return
    say(Text(str(metric.get("name")), style="bold"), f"  from {metric.get('source')}")
    if metric.get("description"):
        say(str(metric["description"]))
    for key, value in (metric.get("settings") or {}).items():
        say(f"{key}: ", value if isinstance(value, str) else json.dumps(value))


@command(metric_app, "delete")
def delete(api: Api, name: NameArgument, project: ProjectOption = "default") -> None:
    """Delete a metric; refused (exit 1) while a running plan watches it."""
    answer = api.delete(_path(project, name))
    if api.json(answer):
        return
    say(f"Deleted metric {name} from {project}.")


@command(metric_app, "push")
def push(
    api: Api,
    name: NameArgument,
    value: Annotated[float, typer.Argument(metavar="VALUE", help="What to add, e.g. 1.")],
    project: ProjectOption = "default",
    environment: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            "--environment",
            help="Where it was seen. (default: counts for every environment)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Add to a pushed counter: a support ticket, a piece of user feedback."""
    if not math.isfinite(value):
        fail(f"VALUE must be a finite number, got {value}")
    body: dict[str, Any] = {"value": value}
    if environment is not None:
        body["environment"] = environment
    answer = api.post(_path(project, name, "values"), body)
    if api.json(answer):
        return
    where = f" in {environment}" if environment else ""
    say(f"Added {value:g} to {name}{where}.")
