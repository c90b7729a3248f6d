"""The ``shipwise`` command: people get tables, scripts get ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from shipwise.cli import demo as demo_module
from shipwise.engine import Snapshot, SnapshotError

app = typer.Typer(
    help="Shipwise: releases that follow the process, flags that roll out on their own.",
    no_args_is_help=True,
    add_completion=False,
)
snapshot_app = typer.Typer(help="Check, convert and evaluate flag snapshots offline.")
app.add_typer(snapshot_app, name="snapshot")

console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
UnleashOption = Annotated[
    bool, typer.Option("--unleash", help="The file is an Unleash client-API features document.")
]


def _load(path: Path, unleash: bool) -> Snapshot:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        errors.print(f"[red]Cannot read {path}:[/red] {error.strerror}")
        raise typer.Exit(2) from None
    except ValueError as error:
        errors.print(f"[red]{path} is not valid JSON:[/red] {error}")
        raise typer.Exit(2) from None
    try:
        return Snapshot.from_unleash(document) if unleash else Snapshot.load(document)
    except SnapshotError as error:
        errors.print(f"[red]{path}:[/red] {error}")
        hint = "without --unleash" if unleash else "with --unleash if it is an Unleash document"
        errors.print(f"Fix the field named above, or try {hint}.")
        raise typer.Exit(2) from None


@app.command()
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
        console.print(f"[green]OK[/green] {summary['flags']} flags, {summary['segments']} segments")


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
        errors.print(f"[red]--context is not valid JSON:[/red] {error}")
        raise typer.Exit(2) from None
    result = _load(path, unleash).explain(flag, parsed)
    if as_json:
        console.print_json(data=result.to_dict())
        return
    state = "[green]on[/green]" if result.enabled else "[red]off[/red]"
    console.print(f"[bold]{flag}[/bold] is {state} — {result.message}")
    console.print(f"variant: {result.variant.name}  reason: {result.reason.value}")
    for trace in result.trace:
        mark = "[green]✓[/green]" if trace.matched else "[red]✗[/red]"
        label = trace.title or trace.name
        console.print(f"  {mark} strategy {trace.index} {label}: {trace.detail}")
