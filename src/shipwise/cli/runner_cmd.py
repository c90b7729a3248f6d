"""``shipwise runner``: the rollout runner on its own, without the HTTP server.

``shipwise serve`` already runs it in a thread; run it apart when the servers should
only answer requests, or to have a spare ready. Any number may run: one acts (it holds
the lock), the others stand by and take over when it stops.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Annotated

import typer

from shipwise.cli import database
from shipwise.cli.options import DatabaseUrlOption, DataDirOption
from shipwise.cli.output import note


def runner(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    interval: Annotated[
        float,
        typer.Option("--interval", min=0.01, max=3600, help="Seconds between rounds."),
    ] = 1.0,
) -> None:
    """Advance rollout plans, judge their guardrails and act, until stopped (Ctrl-C)."""
    settings = database.settings(data_dir, database_url)
    with database.server_extra():
        from shipwise.server.bootstrap import build  # noqa: PLC0415 (lazy)

    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with database.database_errors(settings.resolved_database_url):
        services = build(settings, settings.clock())
    loop = services.start_runner(interval, settings.runner_lease)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    note(f"Rollout runner started (every {interval:g}s); it acts while it holds the lock.")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        services.close()
        del loop
    note("Rollout runner stopped.")
