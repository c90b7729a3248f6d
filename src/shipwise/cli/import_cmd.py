"""``shipwise import unleash FILE``: moving in from Unleash, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from shipwise.cli.options import (
    EnvironmentOption,
    JsonOption,
    ProjectOption,
    TokenOption,
    UrlOption,
)
from shipwise.cli.output import console, fail, print_json, say, table, working
from shipwise.cli.remote import api_path, connect

import_app = typer.Typer(
    help="Moving in: load flags from another system.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@import_app.command("unleash")
def unleash(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="An Unleash client-API features document (GET /api/client/features).",
        ),
    ],
    environment: EnvironmentOption,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load an Unleash features document (with segments) into one environment.

    All or nothing: what Shipwise cannot represent (a custom strategy, say) is reported
    by name and nothing is imported.
    """
    document = _read(path)
    features = document.get("features") if isinstance(document, dict) else None
    count = len(features) if isinstance(features, list) else 0
    target = api_path("projects", project, "environments", environment, "import", "unleash")
    with (
        connect(url, token) as remote,
        working(f"Importing {count} flags into {project}/{environment}"),
    ):
        report = remote.post(target, document)
    if as_json:
        print_json(report)
        return
    _show(report, project, environment)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    except ValueError as error:
        fail(
            f"{path} is not valid JSON: {error}",
            hint="Export it from Unleash with GET /api/client/features (a server key).",
        )


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
