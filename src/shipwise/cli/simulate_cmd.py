"""``shipwise simulate``: a release through its whole rollout plan, weeks in seconds.

See ``simulation.py``: a real server on a simulated clock, synthetic users through the
real SDK, the server's runner deciding. Prints each scenario's timeline: when the plan
moved, held, rolled back or released, and why.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shipwise.cli.options import JsonOption
from shipwise.cli.output import console, fail


def simulate(
    scenario: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SCENARIO]...",
            help="healthy, error-spike, latency, low-traffic (default: all four).",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=120, help="Simulated days at most.")
    ] = 28,
    users: Annotated[
        int | None,
        typer.Option("--users-per-day", min=10, max=1_000_000, help="Override the traffic."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The synthetic users' random seed.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Drive a release through a whole rollout plan on an accelerated clock."""
    from dataclasses import replace  # noqa: PLC0415

    from shipwise.cli import simulation  # noqa: PLC0415 (server modules, lazily)

    names = scenario or list(simulation.SCENARIOS)
    unknown = [n for n in names if n not in simulation.SCENARIOS]
    if unknown:
        fail(
            f"no scenario {unknown[0]!r}",
            hint=f"Choose from: {', '.join(simulation.SCENARIOS)}.",
        )
    results = []
    for name in names:
        chosen = simulation.SCENARIOS[name]
        if users is not None:
            chosen = replace(chosen, users_per_day=users)
        if not as_json:
            console.print(f"[bold]{chosen.name}[/]: {chosen.description}")
        with Progress(
            TextColumn("  {task.description:<32}"),
            BarColumn(),
            TextColumn("day {task.fields[day]:>4.1f}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("starting", total=1.0, day=0.0)

            def shown(done: float, what: str, task: Any = task, bar: Progress = bar) -> None:
                bar.update(task, completed=done, description=what, day=done * days)

            outcome = simulation.run(
                chosen, seed=seed, horizon=timedelta(days=days), progress=shown
            )
        results.append(outcome)
        if not as_json:
            _print(outcome)
    if as_json:
        typer.echo(json.dumps([_as_dict(o) for o in results], indent=2, default=str))


def _day(outcome: Any, at: Any) -> str:
    from shipwise.cli.simulation import START  # noqa: PLC0415

    elapsed = at - START
    return f"day {elapsed.days:>2} {elapsed.seconds // 3600:02d}:{elapsed.seconds % 3600 // 60:02d}"


def _print(outcome: Any) -> None:
    table = Table("when", "what", "why", title_justify="left", show_lines=False)
    for event in outcome.timeline:
        style = {"rollback": "bold red", "release": "bold green", "pause": "yellow"}.get(
            event.what, ""
        )
        table.add_row(
            _day(outcome, event.at),
            f"[{style}]{event.what}[/]" if style else event.what,
            event.detail,
        )
    console.print(table)
    console.print(
        f"  → [bold]{outcome.status}[/] at step {outcome.step} ({outcome.percentage}%) on "
        f"{_day(outcome, outcome.ended_at)}; {outcome.users:,} users, "
        f"{outcome.users_with_feature:,} with the feature; {outcome.wall_seconds:.1f} s\n"
    )


def _as_dict(outcome: Any) -> dict[str, Any]:
    return {
        "scenario": outcome.scenario.name,
        "status": outcome.status,
        "step": outcome.step,
        "percentage": outcome.percentage,
        "ended_at": outcome.ended_at.isoformat(),
        "users": outcome.users,
        "users_with_feature": outcome.users_with_feature,
        "wall_seconds": round(outcome.wall_seconds, 2),
        "timeline": [
            {"at": e.at.isoformat(), "what": e.what, "detail": e.detail} for e in outcome.timeline
        ],
    }
