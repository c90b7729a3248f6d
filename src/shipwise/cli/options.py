"""Options shared by many commands, declared once so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipwise.cli.output import json_option

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print JSON for scripts, errors included.", callback=json_option),
]
NewKeyArgument = Annotated[
    str,
    typer.Argument(metavar="KEY", help="Lowercase letters, digits, '.', '_' and '-'."),
]

# Talking to a server (see cli/remote.py for the config file).
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="SHIPWISE_URL",
        help="The server, e.g. http://127.0.0.1:4242 (else the config file's url).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="SHIPWISE_TOKEN",
        help="An api token (else the config file's token).",
        show_default=False,
    ),
]
ProjectOption = Annotated[
    str,
    typer.Option("--project", "-p", envvar="SHIPWISE_PROJECT", help="The project's key."),
]
EnvironmentOption = Annotated[
    str,
    typer.Option("--environment", "-e", help="The environment's key, e.g. production."),
]

# Reading the database directly (operator commands: serve, db, audit verify).
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="SHIPWISE_DATA_DIR",
        help="Where the SQLite database lives. (default: shipwise-data)",
        show_default=False,
        file_okay=False,
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SHIPWISE_DATABASE_URL",
        help="A PostgreSQL URL, e.g. postgresql+psycopg://user@host/shipwise (else SQLite "
        "in --data-dir).",
        show_default=False,
    ),
]
