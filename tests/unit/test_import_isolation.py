"""The SDK is light: importing it loads no web framework, ORM or CLI toolkit.

Run in a fresh interpreter, because this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "pydantic", "typer", "rich")


def _modules_after(statement: str) -> set[str]:
    probe = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(output))


@pytest.mark.parametrize(
    "statement",
    [
        "import shipwise",
        "import shipwise.sdk",
        "from shipwise import Client",
        "import shipwise.engine",
    ],
)
def test_import__sdk_and_engine__load_no_web_framework_orm_or_cli(statement: str) -> None:
    loaded = _modules_after(statement)
    heavy_loaded = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy_loaded == []


def test_import__probe_sees_heavy_modules__when_they_are_imported() -> None:
    # The probe itself must be able to fail: importing the CLI does load typer and rich.
    loaded = _modules_after("import shipwise.cli.app")
    assert {"typer", "rich"} <= loaded
