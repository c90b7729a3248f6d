"""``shipwise import unleash FILE``: moving in from Unleash, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import (
    EnvironmentOption,
    ProjectOption,
)
from shipwise.cli.output import console, say, table, working
from shipwise.cli.params import json_document
from shipwise.cli.remote import api_path

_EXPORT = "Export it from Unleash with GET /api/client/features (a server key)."
import_app = typer.Typer(
    help="Moving in: load flags from another system.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@command(import_app, "unleash")
def unleash(
    api: Api,
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="An Unleash client-API features document (GET /api/client/features).",
        ),
    ],
    environment: EnvironmentOption,
    project: ProjectOption = "default",
) -> None:
    """Load an Unleash features document (with segments) into one environment.

    All or nothing: what Shipwise cannot represent (a custom strategy, say) is reported
    by name and nothing is imported.
    """
    document = json_document(path, hint=_EXPORT)
    features = document.get("features") if isinstance(document, dict) else None
    count = len(features) if isinstance(features, list) else 0
    target = api_path("projects", project, "environments", environment, "import", "unleash")
    with working(f"Importing {count} flags into {project}/{environment}"):
        report = api.post(target, document)
    if api.json(report):
        return
    _show(report, project, environment)


def _show(report: dict[str, Any], project: str, environment: str) -> None:
    created, updated = report["created_flags"], report["updated_flags"]
    segments = list(report["segments"].values())
    say(
        f"Imported into {project}/{environment}: {len(created)} flags created, "
        f"{len(updated)} updated, {len(segments)} segments.",
        style="green",
    )
    rows = [(name, "flag", "created") for name in created]
    rows += [(name, "flag", "updated") for name in updated]
    rows += [(name, "segment", "saved") for name in segments]
    if rows:
        console.print(table(("name", "what", "done"), rows))
    for problem in report.get("notes") or []:
        say(f"note: {problem}", style="yellow")
