"""``shipwise channel subscribe|subscriptions|unsubscribe``: which events go to which
channel.

    shipwise channel subscribe team --events promotion.done --events 'rollout.*' --env production
    shipwise channel subscribe managers --events '*' --digest daily --at 08:30
    shipwise channel subscriptions
    shipwise channel unsubscribe 3

A channel with no subscription of its own hears the defaults (listed as ``default``);
its first subscription replaces them. Registered on ``channel_app`` here, so
``shipwise channel`` has them all.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.channel_cmd import ChannelArgument, channel_app
from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption
from shipwise.cli.output import console, say, table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items

__all__ = ["channel_app"]

Many = list[str] | None


def _path(project: str, *rest: str | int) -> str:
    return api_path("projects", project, "subscriptions", *rest)


def _scope(subscription: dict[str, Any]) -> str:
    parts = [
        f"{name}: {', '.join(subscription.get(key) or [])}"
        for name, key in (("env", "environments"), ("flag", "flags"), ("kind", "release_kinds"))
        if subscription.get(key)
    ]
    if subscription.get("min_severity", "info") != "info":
        parts.append(f"at least {subscription['min_severity']}")
    return "; ".join(parts) or "any"


def _when(subscription: dict[str, Any]) -> str:
    """How the channel gets what it hears: at once, or in a digest at a time of day."""
    if not subscription.get("digest"):
        return "at once"
    return f"{subscription['digest']} digest at {subscription.get('digest_at') or '09:00'}"


@command(channel_app, "subscribe")
def subscribe(
    api: Api,
    channel: ChannelArgument,
    events: Annotated[
        list[str],
        typer.Option(
            "--events",
            help="An event kind (promotion.done), a family (rollout.*) or *; repeat for more.",
        ),
    ],
    project: ProjectOption = "default",
    env: Annotated[
        Many, typer.Option("--env", "-e", help="Only in this environment; repeat.")
    ] = None,
    flag: Annotated[Many, typer.Option("--flag", help="Only for this flag; repeat.")] = None,
    kind: Annotated[
        Many, typer.Option("--kind", help="Only releases of this kind: feature, bugfix, hotfix.")
    ] = None,
    min_severity: Annotated[
        str, typer.Option("--min-severity", help="info, warning or critical.")
    ] = "info",
    digest: Annotated[
        str | None,
        typer.Option(
            "--digest", help="daily: one email a day listing the events (email channels only)."
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The digest's time, HH:MM in the policy's time zone (09:00)."),
    ] = None,
) -> None:
    """Send these events to a channel (admins and release managers); its defaults stop."""
    body = {
        "channel": channel,
        "events": [e for given in events for e in given.split(",") if e.strip()],
        "environments": env or [],
        "flags": flag or [],
        "release_kinds": kind or [],
        "min_severity": min_severity,
        "digest": digest,
        "digest_at": at,
    }
    saved = api.post(_path(project), body)
    if api.json(saved):
        return
    say(
        f"Subscription {saved.get('id')}: ",
        Text(channel, style="bold"),
        f" hears {', '.join(saved.get('events') or [])} ({_scope(saved)}), {_when(saved)}.",
    )


@command(channel_app, "subscriptions")
def subscriptions(
    api: Api,
    project: ProjectOption = "default",
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
) -> None:
    """Which events go to which channel; a channel with none of its own hears the defaults."""
    answer = api.get(_path(project), {"channel": channel} if channel else None)
    if api.json(answer):
        return
    found = items(answer, "subscriptions")
    rows = (
        (
            "default" if s.get("default") else str(s.get("id")),
            s.get("channel"),
            ", ".join(s.get("events") or []),
            _scope(s),
            _when(s),
        )
        for s in found
    )
    title = f"Subscriptions in {project}" if found else f"No channels in {project} yet"
    console.print(table(("id", "channel", "events", "scope", "sent"), rows, title=title))


@command(channel_app, "unsubscribe")
def unsubscribe(
    api: Api,
    subscription: Annotated[int, typer.Argument(metavar="ID", help="The subscription's id.")],
    project: ProjectOption = "default",
) -> None:
    """Remove a subscription; a channel left with none hears the defaults again."""
    answer = api.delete(_path(project, subscription))
    if api.json(answer):
        return
    say(f"Removed subscription {subscription} ({answer.get('channel')}).")
