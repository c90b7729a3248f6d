"""``shipwise demo``: the SDK evaluating a demo snapshot, shown as a person would read it.

Later issues grow this into a live server with a dashboard; for now it shows the engine
deciding, with its reasons, for a crowd of synthetic users.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import track
from rich.table import Table

from shipwise import Client
from shipwise.data import demo_snapshot

PLANS = ("free", "pro", "beta", "internal")


def _context(index: int) -> dict[str, Any]:
    return {
        "userId": f"user-{index}",
        "properties": {"plan": PLANS[index % 4], "appVersion": f"2.{index % 7}.0"},
    }


def run(console: Console, users: int) -> None:
    client = Client.offline(demo_snapshot())
    flags = sorted(client.snapshot.flags)
    console.rule("[bold]Shipwise demo[/bold] — the SDK evaluating a production snapshot")
    for index in track(range(users), description="Evaluating users", console=console):
        context = _context(index)
        for flag in flags:
            client.is_enabled(flag, context)
        client.get_variant("new-checkout", context)

    table = Table(title=f"{users:,} synthetic users (plans cycle {', '.join(PLANS)})")
    for column in ("flag", "kind", "description", "on for"):
        table.add_column(column, justify="right" if column == "on for" else "left")
    exposures = client.exposures()
    for flag in flags:
        definition = client.snapshot.state.flags[flag]
        counts = exposures[flag]
        share = counts.yes / max(1, counts.yes + counts.no)
        table.add_row(flag, definition.kind, definition.description or "", f"{share:.1%}")
    console.print(table)

    variants = exposures["new-checkout"].variants
    console.print(
        "new-checkout variants served: "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(variants.items()))
    )

    console.rule("Why? Three users, explained")
    for index in (2, 4, 5):
        context = _context(index)
        for flag in ("new-checkout", "export-csv-xlsx"):
            result = client.explain(flag, context)
            state = "[green]on[/green]" if result.enabled else "[red]off[/red]"
            properties = context["properties"]
            who = f"user-{index} ({properties['plan']}, v{properties['appVersion']})"
            console.print(f"{who}: [bold]{flag}[/bold] {state} — {result.message}")
    console.print(
        '\nNext: [bold]shipwise snapshot explain FILE FLAG --context \'{"userId": "42"}\'[/bold]'
        " evaluates your own snapshot."
    )
