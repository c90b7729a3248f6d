"""``shipwise flag create|list|show|enable|disable|rollout|kill``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import (
    EnvironmentOption,
    ProjectOption,
)
from shipwise.cli.output import console, say, table
from shipwise.cli.remote import Remote, api_path
from shipwise.cli.shapes import configs, items, state, strategy_summary
from shipwise.domain.flags import FlagKind

flag_app = typer.Typer(
    help="Feature flags: create, switch, roll out, kill.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

KeyArgument = Annotated[
    str, typer.Argument(metavar="KEY", help="The flag's key, e.g. new-checkout.")
]


@command(flag_app, "create")
def create(
    api: Api,
    key: KeyArgument,
    project: ProjectOption = "default",
    kind: Annotated[FlagKind, typer.Option(help="What the flag is for.")] = FlagKind.RELEASE,
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who answers for it.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat for more.")] = None,
) -> None:
    """Create a flag; it starts off in every environment."""
    body: dict[str, Any] = {"key": key, "kind": kind.value, "tags": tag or []}
    body |= {k: v for k, v in {"description": description, "owner": owner}.items() if v}
    flag = api.post(api_path("projects", project, "flags"), body)
    if api.json(flag):
        return
    say(
        f"Created {flag['kind']} flag {flag['key']} in {project}; ",
        "it is off everywhere.",
    )
    say(f"Next: shipwise flag enable {key} -p {project} -e ENVIRONMENT", style="dim")


@command(flag_app, "list")
def list_flags(api: Api, project: ProjectOption = "default") -> None:
    """A project's flags and their state in each environment."""
    answer = api.get(api_path("projects", project, "flags"))
    if api.json(answer):
        return
    flags = items(answer, "flags")
    environments: list[str] = []
    for flag in flags:
        environments += [k for k, _ in configs(flag) if k not in environments]
    rows = []
    for flag in flags:
        by_environment = dict(configs(flag))
        rows.append(
            [flag.get("key"), flag.get("kind")]
            + [state(by_environment[e]) if e in by_environment else None for e in environments]
            + [flag.get("description")]
        )
    title = f"Flags in {project}" if flags else f"No flags in {project} yet"
    console.print(table(("flag", "kind", *environments, "description"), rows, title=title))


@command(flag_app, "show")
def show(api: Api, key: KeyArgument, project: ProjectOption = "default") -> None:
    """One flag: what it is, and its rules in each environment."""
    flag = api.get(api_path("projects", project, "flags", key))
    if api.json(flag):
        return
    segments = _segment_names(api, project, flag)
    say(Text(str(flag.get("key")), style="bold"), f"  {flag.get('kind')} flag in {project}")
    for label in ("description", "owner", "tags"):
        value = flag.get(label)
        if value:
            say(f"{label}: ", ", ".join(value) if isinstance(value, list) else str(value))
    if flag.get("archived"):
        say("archived", style="yellow")
    rows = []
    for environment, config in configs(flag):
        strategies = config.get("strategies") or []
        rules = "\n".join(strategy_summary(s, segments) for s in strategies)
        rules = rules or "none: everyone when on"
        rows.append((environment, state(config), rules, config["version"]))
    console.print(table(("environment", "state", "rules", "version"), rows))


def _segment_names(remote: Remote, project: str, flag: dict[str, Any]) -> dict[int, str]:
    """Segment ids to names, when the flag's rules use segments (one more request)."""
    used = any(
        strategy.get("segments")
        for _, config in configs(flag)
        for strategy in config.get("strategies") or []
    )
    if not used:
        return {}
    listed = items(remote.get(api_path("projects", project, "segments")), "segments")
    return {int(s["id"]): str(s["name"]) for s in listed}


def _switch(api: Api, action: str, target: tuple[str, str, str], body: Any = None) -> None:
    """POST .../flags/{key}/environments/{environment}/{action}, for ``target``
    (project, key, environment), and say the flag's new state there."""
    project, key, environment = target
    path = api_path("projects", project, "flags", key, "environments", environment, action)
    config = api.post(path, body)
    if api.json(config):
        return
    version = f" (version {config['version']})"
    if action == "kill":
        say(Text(key, style="bold"), f" is killed in {environment}: off for everyone{version}.")
        say("The reason is in the audit log.", style="dim")
    else:
        say(Text(key, style="bold"), f" in {environment}: ", state(config), version)


@command(flag_app, "enable")
def enable(
    api: Api,
    key: KeyArgument,
    environment: EnvironmentOption,
    project: ProjectOption = "default",
) -> None:
    """Switch a flag on in one environment (its rules then decide who gets it)."""
    _switch(api, "enable", (project, key, environment))


@command(flag_app, "disable")
def disable(
    api: Api,
    key: KeyArgument,
    environment: EnvironmentOption,
    project: ProjectOption = "default",
) -> None:
    """Switch a flag off in one environment."""
    _switch(api, "disable", (project, key, environment))


@command(flag_app, "rollout")
def rollout(
    api: Api,
    key: KeyArgument,
    percentage: Annotated[int, typer.Argument(metavar="PERCENT", min=0, max=100, help="0-100.")],
    environment: EnvironmentOption,
    project: ProjectOption = "default",
    stickiness: Annotated[
        str | None, typer.Option(help="What keeps a user in: default, userId, sessionId, ...")
    ] = None,
) -> None:
    """Roll a flag out to a percentage of users, and switch it on.

    Raising the percentage keeps everyone who already had the flag.
    """
    body: dict[str, Any] = {"percentage": percentage}
    if stickiness:
        body["stickiness"] = stickiness
    _switch(api, "rollout", (project, key, environment), body)


@command(flag_app, "kill")
def kill(
    api: Api,
    key: KeyArgument,
    environment: EnvironmentOption,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit log).")],
    project: ProjectOption = "default",
) -> None:
    """The kill switch: off for everyone in one environment, now, whatever rollout runs."""
    _switch(api, "kill", (project, key, environment), {"reason": reason})
