"""The command starts fast and works without the server: importing it loads no web
framework, ORM or HTTP client, which commands import when they run."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_SIDE = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "httpx", "psycopg")


def test_import__cli__loads_no_server_database_or_http_modules() -> None:
    probe = "import sys, json\nimport shipwise.cli.app\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(json.loads(output))
    assert sorted(m for m in loaded if m.split(".")[0] in SERVER_SIDE) == []
    assert sorted(m for m in loaded if m.startswith("shipwise.server")) == []


def test_help__lists_every_command_group() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shipwise.cli", "--help"],
        check=True,
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    for command in ("serve", "db", "audit", "project", "env", "flag", "token", "import", "demo"):
        assert f" {command} " in result.stdout
