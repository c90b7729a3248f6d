"""``shipwise channel add|list|show|remove|test``: where a project's notifications go.

    shipwise channel add releases --kind slack --set channel=#releases --secret token
    shipwise channel add ops --kind email --set host=smtp.example.com --set port=587 \\
        --set from=shipwise@example.com --set 'recipients=["ops@example.com"]' --secret password
    shipwise channel test releases

Secrets are write-only. ``--secret NAME`` asks for the value without echoing it (so it
stays out of the shell's history); ``--secret NAME=VALUE`` takes it as given, for
scripts. Nothing this command prints shows a secret: the server answers only which
secrets are set.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.metric_cmd import settings_from, settings_text
from shipwise.cli.options import ProjectOption
from shipwise.cli.output import console, fail, say, table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items

channel_app = typer.Typer(
    help="Where a project's notifications go: Slack, email, a signed webhook, the log.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

ChannelArgument = Annotated[
    str, typer.Argument(metavar="CHANNEL", help="The channel's name (or id), e.g. releases.")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="A public setting, KEY=VALUE (JSON values: port=587, "
        "'recipients=[\"a@example.com\"]'); repeat for more.",
    ),
]
SecretOption = Annotated[
    list[str] | None,
    typer.Option(
        "--secret",
        help="A secret: NAME (asked for, not echoed) or NAME=VALUE; repeat for more. "
        "Slack: webhook_url or token; email: password; webhook: url and secret.",
    ),
]


def _path(project: str, *rest: str) -> str:
    return api_path("projects", project, "channels", *rest)


def secrets_from(given: list[str] | None) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for item in given or []:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not name:
            fail(f"--secret {item!r} names no secret: give NAME or NAME=VALUE")
        if not equals:
            value = typer.prompt(f"{name}", hide_input=True)
        secrets[name] = value
    return secrets


def _describe(channel: dict[str, Any]) -> None:
    say(
        Text(str(channel.get("name")), style="bold"),
        f"  {channel.get('kind')}  (id {channel.get('id')}, version {channel.get('version')})",
    )
    for key, value in (channel.get("settings") or {}).items():
        say(f"{key}: {value}")
    secrets = channel.get("secrets") or []
    say(f"secrets set: {', '.join(secrets) if secrets else 'none'} (write-only)", style="dim")


@command(channel_app, "add")
def add(
    api: Api,
    name: ChannelArgument,
    kind: Annotated[str, typer.Option(help="slack, email, webhook, log or sentry-flags.")],
    project: ProjectOption = "default",
    set_: SetOption = None,
    secret: SecretOption = None,
) -> None:
    """Add a channel to a project (admins and release managers)."""
    body = {
        "name": name,
        "kind": kind,
        "settings": settings_from(None, set_),
        "secrets": secrets_from(secret),
    }
    saved = api.post(_path(project), body)
    if api.json(saved):
        return
    say("Added channel ", Text(name, style="bold"), f" ({kind}) to {project}.")
    say(f"Check it: shipwise channel test {name} -p {project}", style="dim")


@command(channel_app, "list")
def list_channels(api: Api, project: ProjectOption = "default") -> None:
    """A project's channels (secrets show only by name)."""
    answer = api.get(_path(project))
    if api.json(answer):
        return
    channels = items(answer, "channels")
    rows = (
        (
            c.get("name"),
            c.get("kind"),
            settings_text(c.get("settings")),
            ", ".join(c.get("secrets") or []),
        )
        for c in channels
    )
    title = f"Channels of {project}" if channels else f"No channels in {project} yet"
    console.print(table(("channel", "kind", "settings", "secrets set"), rows, title=title))


@command(channel_app, "show")
def show(api: Api, channel: ChannelArgument, project: ProjectOption = "default") -> None:
    """One channel: its settings, and which secrets are set."""
    answer = api.get(_path(project, channel))
    if api.json(answer):
        return
    _describe(answer)


@command(channel_app, "remove")
def remove(api: Api, channel: ChannelArgument, project: ProjectOption = "default") -> None:
    """Remove a channel; what was queued for it is not sent."""
    answer = api.delete(_path(project, channel))
    if api.json(answer):
        return
    say(f"Removed channel {channel} from {project}.")


@command(channel_app, "test")
def send_test(api: Api, channel: ChannelArgument, project: ProjectOption = "default") -> None:
    """Send a test message now and print what the channel answered (exit 1 if it failed)."""
    answer = api.post(_path(project, channel, "test"))
    if not api.json(answer):
        mark = "sent" if answer.get("ok") else "NOT sent"
        say(f"Test message {mark} to {channel}: ", Text(str(answer.get("said"))))
    if not answer.get("ok"):
        raise typer.Exit(1)
