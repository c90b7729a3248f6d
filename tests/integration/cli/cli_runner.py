"""``shipwise ARGS`` in this process (typer's CliRunner), with an environment of its
own: no SHIPWISE_* variable and no config file leaks in from the machine running the
tests, and wide enough that tables do not wrap."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from shipwise.cli.app import app

VARIABLES = (
    "SHIPWISE_URL",
    "SHIPWISE_TOKEN",
    "SHIPWISE_CONFIG",
    "SHIPWISE_PROJECT",
    "SHIPWISE_DATA_DIR",
    "SHIPWISE_DATABASE_URL",
    "SHIPWISE_ADMIN_TOKEN",
    "SHIPWISE_HOST",
    "SHIPWISE_PORT",
    "SHIPWISE_MAX_BODY",
    "SHIPWISE_MAX_JSON_DEPTH",
    "SHIPWISE_DATABASE_BUSY_TIMEOUT",
)


@dataclass
class Shipwise:
    """``shipwise ARGS`` in this process; ``json`` also parses what it printed."""

    home: Path

    def __call__(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        environment: dict[str, str | None] = dict.fromkeys(VARIABLES)
        environment |= {"XDG_CONFIG_HOME": str(self.home / "config"), "COLUMNS": "200"}
        environment |= dict(env or {})
        return CliRunner().invoke(app, list(args), env=environment, catch_exceptions=False)

    def json(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        result = self(*args, "--json", env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)
