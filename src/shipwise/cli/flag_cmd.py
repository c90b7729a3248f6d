"""``shipwise flag create|list|show|enable|disable|rollout|kill``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.options import (
    EnvironmentOption,
    JsonOption,
    ProjectOption,
    TokenOption,
    UrlOption,
)
from shipwise.cli.output import console, print_json, say, table
from shipwise.cli.remote import Remote, api_path, connect
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


@flag_app.command("create")
def create(
    key: KeyArgument,
    project: ProjectOption = "default",
    kind: Annotated[FlagKind, typer.Option(help="What the flag is for.")] = FlagKind.RELEASE,
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who answers for it.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat for more.")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a flag; it starts off in every environment."""
    body: dict[str, Any] = {"key": key, "kind": kind.value, "tags": tag or []}
    body |= {k: v for k, v in {"description": description, "owner": owner}.items() if v}
    with connect(url, token) as remote:
        flag = remote.post(api_path("projects", project, "flags"), body)
    if as_json:
        print_json(flag)
        return
    say(
        f"Created {flag['kind']} flag {flag['key']} in {project}; ",
        "it is off everywhere.",
    )
    say(f"Next: shipwise flag enable {key} -p {project} -e ENVIRONMENT", style="dim")


@flag_app.command("list")
def list_flags(
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A project's flags and their state in each environment."""
    with connect(url, token) as remote:
        answer = remote.get(api_path("projects", project, "flags"))
    if as_json:
        print_json(answer)
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


@flag_app.command("show")
def show(
    key: KeyArgument,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One flag: what it is, and its rules in each environment."""
    with connect(url, token) as remote:
        flag = remote.get(api_path("projects", project, "flags", key))
        if as_json:
            print_json(flag)
            return
        segments = _segment_names(remote, project, flag)
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


def _switch(
    action: str, target: tuple[str, str, str], body: Any, url: str | None, token: str | None
) -> dict[str, Any]:
    """POST .../flags/{key}/environments/{environment}/{action}, for ``target``
    (project, key, environment); the flag's new configuration there."""
    project, key, environment = target
    path = api_path("projects", project, "flags", key, "environments", environment, action)
    with connect(url, token) as remote:
        return dict(remote.post(path, body))


def _report(key: str, environment: str, config: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(config)
        return
    version = f" (version {config['version']})"
    say(Text(key, style="bold"), f" in {environment}: ", state(config), version)


@flag_app.command("enable")
def enable(
    key: KeyArgument,
    environment: EnvironmentOption,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Switch a flag on in one environment (its rules then decide who gets it)."""
    config = _switch("enable", (project, key, environment), None, url, token)
    _report(key, environment, config, as_json)


@flag_app.command("disable")
def disable(
    key: KeyArgument,
    environment: EnvironmentOption,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Switch a flag off in one environment."""
    config = _switch("disable", (project, key, environment), None, url, token)
    _report(key, environment, config, as_json)


@flag_app.command("rollout")
def rollout(
    key: KeyArgument,
    percentage: Annotated[int, typer.Argument(metavar="PERCENT", min=0, max=100, help="0-100.")],
    environment: EnvironmentOption,
    project: ProjectOption = "default",
    stickiness: Annotated[
        str | None, typer.Option(help="What keeps a user in: default, userId, sessionId, ...")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Roll a flag out to a percentage of users, and switch it on.

    Raising the percentage keeps everyone who already had the flag.
    """
    body: dict[str, Any] = {"percentage": percentage}
    if stickiness:
        body["stickiness"] = stickiness
    config = _switch("rollout", (project, key, environment), body, url, token)
    _report(key, environment, config, as_json)


@flag_app.command("kill")
def kill(
    key: KeyArgument,
    environment: EnvironmentOption,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit log).")],
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The kill switch: off for everyone in one environment, now, whatever rollout runs."""
    config = _switch("kill", (project, key, environment), {"reason": reason}, url, token)
    if as_json:
        print_json(config)
        return
    say(
        Text(key, style="bold"),
        f" is killed in {environment}: off for everyone (version {config['version']}).",
    )
    say("The reason is in the audit log.", style="dim")
