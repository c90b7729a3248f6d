"""The ``shipwise`` command: people get tables, scripts get ``--json``."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli import demo as demo_module
from shipwise.cli.announcement_cmd import announcement_app
from shipwise.cli.audit_cmd import audit_app
from shipwise.cli.change_cmd import change_app
from shipwise.cli.db_cmd import db_app
from shipwise.cli.delivery_cmd import channel_app  # the channel commands, deliveries too
from shipwise.cli.deploy_cmd import ci_app, deploy_app
from shipwise.cli.env_cmd import env_app
from shipwise.cli.errors import reported
from shipwise.cli.flag_cmd import flag_app
from shipwise.cli.gate_cmd import gate_app
from shipwise.cli.help_docs_cmd import help_docs as _help_docs  # noqa: F401 (release help-docs)
from shipwise.cli.import_cmd import import_app
from shipwise.cli.login_cmd import login_app
from shipwise.cli.mailout_cmd import mailout_app
from shipwise.cli.metric_cmd import metric_app
from shipwise.cli.options import JsonOption, SpellingGroup
from shipwise.cli.output import console, fail, json_option, say
from shipwise.cli.policy_cmd import policy_app
from shipwise.cli.project_cmd import project_app
from shipwise.cli.release_cmd import release_app
from shipwise.cli.report_cmd import report_app
from shipwise.cli.rollback_cmd import rollback_app
from shipwise.cli.rollout_cmd import rollout_app
from shipwise.cli.runner_cmd import runner
from shipwise.cli.schedule_cmd import calendar_app
from shipwise.cli.segment_cmd import segment_app
from shipwise.cli.serve_cmd import serve
from shipwise.cli.simulate_cmd import simulate
from shipwise.cli.subscription_cmd import channel_app as _subscriptions  # noqa: F401
from shipwise.cli.token_cmd import token_app
from shipwise.engine import Snapshot, SnapshotError


class _Root(SpellingGroup):
    """The ``shipwise`` group: whatever a command raises as a ``CliError`` (the client's
    ``ApiError`` included) leaves through ``cli/errors.py``, the one way out."""

    def invoke(self, ctx: Any) -> Any:  # Any: Typer's click.Context is private (typer._click)
        with reported():
            return super().invoke(ctx)


app = typer.Typer(
    help="Shipwise: releases that follow the process, flags that roll out on their own.\n\n"
    "Commands that talk to a server take --url and --token, or SHIPWISE_URL and "
    "SHIPWISE_TOKEN, or url and token from ~/.config/shipwise/config.toml.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion [bash|zsh|fish|…]
    rich_markup_mode="markdown",
    cls=_Root,  # old option spellings still work, hidden (cli/options.py)
)
snapshot_app = typer.Typer(help="Check, convert and evaluate flag snapshots offline.")


def _print_version(wanted: bool) -> None:
    if wanted:
        # The installed distribution's version, as pip and `pip show shipwise` know it.
        typer.echo(f"shipwise {metadata.version('shipwise')}")
        raise typer.Exit()


@app.callback()
def _each_invocation(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    # A command without --json prints its errors for people, whatever ran before it in
    # this process (the CLI's own tests invoke many commands in one).
    json_option(False)


app.command(rich_help_panel="Server")(serve)
app.command(rich_help_panel="Server")(runner)
app.add_typer(db_app, name="db", rich_help_panel="Server")
app.add_typer(audit_app, name="audit", rich_help_panel="Server")
app.add_typer(project_app, name="project", rich_help_panel="Flags")
app.add_typer(env_app, name="env", rich_help_panel="Flags")
app.add_typer(flag_app, name="flag", rich_help_panel="Flags")
app.add_typer(token_app, name="token", rich_help_panel="Flags")
app.add_typer(segment_app, name="segment", rich_help_panel="Flags")
app.add_typer(import_app, name="import", rich_help_panel="Flags")
app.add_typer(login_app, rich_help_panel="Flags")  # one command: shipwise login-link
release_app.add_typer(report_app)  # release report, release learnings
app.add_typer(release_app, name="release", rich_help_panel="Releases")
app.add_typer(gate_app, name="gate", rich_help_panel="Releases")
app.add_typer(deploy_app, name="deploy", rich_help_panel="Releases")
app.add_typer(ci_app, name="ci", rich_help_panel="Releases")
app.add_typer(policy_app, name="policy", rich_help_panel="Releases")
app.add_typer(change_app, name="change", rich_help_panel="Releases")
app.add_typer(channel_app, name="channel", rich_help_panel="Releases")
app.add_typer(calendar_app, name="calendar", rich_help_panel="Releases")
app.add_typer(mailout_app, name="mailout", rich_help_panel="Releases")
app.add_typer(announcement_app, name="announcement", rich_help_panel="Releases")
app.add_typer(rollout_app, name="rollout", rich_help_panel="Rollouts")
app.add_typer(metric_app, name="metric", rich_help_panel="Rollouts")
app.add_typer(rollback_app)  # one command: shipwise rollback
app.command(rich_help_panel="Releases")(simulate)
app.add_typer(snapshot_app, name="snapshot", rich_help_panel="Offline")
UnleashOption = Annotated[
    bool, typer.Option("--unleash", help="The file is an Unleash client-API features document.")
]


def _load(path: Path, unleash: bool) -> Snapshot:
    # fail(): exit 2, and with --json the error is JSON on stdout too.
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    except ValueError as error:
        fail(f"{path} is not valid JSON: {error}")
    try:
        return Snapshot.from_unleash(document) if unleash else Snapshot.load(document)
    except SnapshotError as error:
        hint = "without --unleash" if unleash else "with --unleash if it is an Unleash document"
        fail(f"{path}: {error}", hint=f"Fix the field named above, or try {hint}.")


@app.command(rich_help_panel="Offline")
def demo(
    users: Annotated[int, typer.Option(help="How many synthetic users to evaluate.")] = 10_000,
) -> None:
    """Evaluate the demo snapshot: a release at 10% plus beta testers, and friends."""
    demo_module.run(console, users)


@snapshot_app.command("check")
def check(path: Path, unleash: UnleashOption = False, as_json: JsonOption = False) -> None:
    """Validate a snapshot; exit 2 naming the flag and field if it is malformed."""
    snapshot = _load(path, unleash)
    summary = {"flags": len(snapshot.state.flags), "segments": len(snapshot.state.segments)}
    if as_json:
        console.print_json(data={"ok": True, **summary})
    else:
        say(Text("OK", style="green"), f" {summary['flags']} flags, {summary['segments']} segments")


@snapshot_app.command("convert")
def convert(path: Path, unleash: UnleashOption = True) -> None:
    """Print the Shipwise snapshot for an Unleash features document (moving in)."""
    console.print_json(data=_load(path, unleash).dump())


@snapshot_app.command("explain")
def explain(
    path: Path,
    flag: str,
    context: Annotated[str, typer.Option(help='The context as JSON: \'{"userId": "42"}\'.')] = "{}",
    unleash: UnleashOption = False,
    as_json: JsonOption = False,
) -> None:
    """Evaluate one flag for one context and say why."""
    try:
        parsed: Any = json.loads(context)
    except ValueError as error:
        fail(f"--context is not valid JSON: {error}")
    result = _load(path, unleash).explain(flag, parsed)
    if as_json:
        console.print_json(data=result.to_dict())
        return
    state = Text("on", style="green") if result.enabled else Text("off", style="red")
    say(Text(flag, style="bold"), " is ", state, f" — {result.message}")
    say(f"variant: {result.variant.name}  reason: {result.reason.value}")
    for trace in result.trace:
        mark = Text("✓", style="green") if trace.matched else Text("✗", style="red")
        label = trace.title or trace.name
        say("  ", mark, f" strategy {trace.index} {label}: {trace.detail}")
