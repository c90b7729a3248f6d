"""``shipwise metric define|list|show|delete|push|templates``: what rollout guardrails
watch.

A metric says where its numbers come from (``--source``) and the source's settings::

    shipwise metric define errors --source sdk --set event=error --set measure=rate
    shipwise metric define p95 --source prometheus --settings '{"url": "...", "query": "..."}'
    shipwise metric define tickets --source pushed
    shipwise metric push tickets 1 --env production
    shipwise metric templates                                # ready-made guardrails
    shipwise metric define cpu --template cpu --source prometheus \
        --set url=http://prometheus:9090 --set job=node      # asks only for what is missing

The server checks the settings before it saves them, naming the one at fault.
"""

from __future__ import annotations

import json
import math
import sys
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


@command(metric_app, "add", hidden=True)  # the word `channel add` taught people
@command(metric_app, "define")
def define(
    api: Api,
    name: NameArgument,
    source: Annotated[
        str | None,
        typer.Option(
            help="Where its numbers come from: sdk, pushed, prometheus, sentry, "
            "cloud-logging, vercel, zendesk, json. "
            "(default with --template: its one source, if it has one)",
            show_default=False,
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            help="Start from a ready-made guardrail (shipwise metric templates): --set "
            "gives what it asks for; a terminal is asked for the rest.",
            show_default=False,
        ),
    ] = None,
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
    given = settings_from(settings, set_)
    recipe: dict[str, Any] | None = None
    if template is not None:
        recipe = template_recipe(api.get(api_path("metric-templates")), template, source)
        source = str(recipe["source"])
        given |= asked_for(recipe, given, template)
    elif source is None:
        fail("--source is required (or --template)", hint="e.g. --source sdk --set event=error")
    body: dict[str, Any] = {"source": source, "settings": given}
    if template is not None:
        body["template"] = template
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
    if recipe is None:
        say(f'A plan watches it with {{"metric": "{name}", ...}} in its guardrails.', style="dim")
        return
    guardrail = json.dumps({"metric": name} | dict(recipe.get("guardrail") or {}))
    say(f"A plan watches it with {guardrail} in its guardrails.", style="dim")
    if recipe.get("note"):
        say(str(recipe["note"]), style="dim")


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


# -- templates ----------------------------------------------------------------------------


def template_recipe(answer: Any, name: str, source: str | None) -> dict[str, Any]:
    """The recipe of template ``name`` for ``source`` from the server's list (exit 2,
    naming the choices, when there is none or it cannot be used here)."""
    templates = {str(t.get("name")): t for t in items(answer, "templates")}
    found = templates.get(name)
    if found is None:
        fail(
            f"no metric template {name!r}",
            hint=f"choose one of {', '.join(templates)} (shipwise metric templates)",
        )
    recipes = list(found.get("recipes") or [])
    usable = [str(r.get("source")) for r in recipes if r.get("available")]
    if source is None:
        if len(recipes) != 1:
            fail(
                f"template {name!r} has several sources: give --source",
                hint=f"usable on this server: {', '.join(usable) or 'none'}",
            )
        source = str(recipes[0].get("source"))
    recipe = next((r for r in recipes if r.get("source") == source), None)
    if recipe is None or not recipe.get("available"):
        why = "it has no recipe for it" if recipe is None else str(recipe.get("unavailable"))
        fail(
            f"template {name!r} cannot use source {source!r}: {why}",
            hint=f"usable on this server: {', '.join(usable) or 'none'}",
        )
    return dict(recipe)


def asked_for(recipe: dict[str, Any], given: dict[str, Any], template: str) -> dict[str, Any]:
    """What the recipe still needs, asked at a terminal; without one (a script, CI) exit 2
    naming each missing setting and how to give it."""
    absent = [
        ask
        for ask in recipe.get("asks") or []
        if ask.get("default") is None and ask.get("name") not in given
    ]
    if not absent:
        return {}
    if not sys.stdin.isatty():
        wanted = "; ".join(f"{a['name']}: {a['help']}" for a in absent)
        example = " ".join(f"--set {a['name']}={a['example']}" for a in absent)
        fail(
            f"template {template!r} from {recipe['source']} needs {wanted}",
            hint=f"give them with {example}",
        )
    return {
        str(a["name"]): typer.prompt(f"{a['name']} ({a['help']}, e.g. {a['example']})")
        for a in absent
    }


def _rule_text(guardrail: dict[str, Any]) -> str:
    if "max_worse" in guardrail:
        return f"with vs without, at most {guardrail['max_worse']:.0%} worse"
    return f"threshold {guardrail.get('threshold')}"


@command(metric_app, "templates")
def templates(api: Api) -> None:
    """Ready-made guardrails: what each watches, its sources, and whether it compares
    users with and without the feature or only holds a threshold."""
    answer = api.get(api_path("metric-templates"))
    if api.json(answer):
        return
    rows = []
    for found in items(answer, "templates"):
        for index, recipe in enumerate(found.get("recipes") or []):
            usable = "yes" if recipe.get("available") else str(recipe.get("unavailable"))
            guardrail = dict(recipe.get("guardrail") or {})
            first = index == 0  # a template's other sources: its name and words once
            rows.append(
                (
                    found.get("name") if first else "",
                    found.get("watches") if first else "",
                    recipe.get("source"),
                    "compares arms" if recipe.get("compares_arms") else "threshold only",
                    f"{guardrail.get('direction')}, {_rule_text(guardrail)}",
                    ", ".join(str(a.get("name")) for a in recipe.get("asks") or []),
                    usable,
                )
            )
    columns = ("template", "watches", "source", "judges", "default", "asks", "usable here")
    console.print(table(columns, rows, title="Metric templates"))
    say(
        "Use one: shipwise metric define NAME --template TEMPLATE --source SOURCE --set KEY=VALUE",
        style="dim",
    )
