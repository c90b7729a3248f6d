"""Options shared by many commands, declared once so they read the same everywhere.

One spelling per option across commands: ``-e/--env`` for an environment, ``-p/--project``,
``--ref`` for a commit SHA, ``-r/--reason``, ``--json``. Spellings that older versions
took (``--environment``, ``--stage``/``-s``, ``--commit``) still work, hidden from help:
an option declares them among its names, and ``SpellingGroup`` (the root command's
class) moves every name in ``HIDDEN_ALIASES`` into a hidden twin of the option. The twin
writes to the same destination as the option (click's parser stores a value under the
option's name, whichever spelling was typed), so the command sees one value and a
required option is satisfied by either spelling.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from shipwise.cli.output import json_option
from shipwise.cli.params import commit_sha

# Old spellings: accepted where an option declares them, never shown in help.
HIDDEN_ALIASES = frozenset({"--environment", "--stage", "-s", "--commit"})


class SpellingGroup(TyperGroup):
    """The root ``shipwise`` group: gives each option's old spellings a hidden twin,
    once, when the command tree is built."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _hide_aliases(self)


def _hide_aliases(command: Any) -> None:
    for sub in getattr(command, "commands", {}).values():
        _hide_aliases(sub)
    twins = []
    for param in command.params:
        hidden = [name for name in param.opts if name in HIDDEN_ALIASES]
        if param.param_type_name != "option" or not hidden:
            continue
        shown = [name for name in param.opts if name not in HIDDEN_ALIASES]
        if not shown:
            raise ValueError(f"{command.name}: {'/'.join(hidden)} needs a spelling to show")
        param.opts = shown
        twin = copy.copy(param)
        # Only the shown option checks, converts and exposes the value; the twin lets
        # the parser accept the old names for it.
        twin.opts, twin.secondary_opts, twin.hidden = hidden, [], True
        twin.required, twin.expose_value, twin.callback = False, False, None
        twin.envvar, twin.is_eager = None, False
        twins.append(twin)
    command.params.extend(twins)


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
    typer.Option("--env", "-e", "--environment", help="The environment's key, e.g. production."),
]
ReasonOption = Annotated[
    str, typer.Option("--reason", "-r", help="Why (kept in the audit log and the notification).")
]


def env_option(help: str, *old: str) -> Any:
    """``-e/--env`` with one command's help; ``old`` are spellings it took before
    (hidden: ``--environment``, ``--stage``, ``-s``)."""
    return typer.Option("--env", "-e", *old, help=help, show_default=False)


# Releases (release, gate, rollback commands).
ReleaseArgument = Annotated[
    str, typer.Argument(metavar="RELEASE", help="The release's key, e.g. rel-12.")
]
CommitOption = Annotated[
    str | None,
    typer.Option(
        "--ref",
        "--commit",
        help="The full commit SHA being released (40 or 64 hex digits).",
        callback=commit_sha,
        show_default=False,
    ),
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
