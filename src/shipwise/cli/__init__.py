"""The ``shipwise`` command.

Its toolkit (Typer, Click, Rich) comes with the ``server`` extra, and ``pip install
shipwise`` alone installs only the SDK; so the command is imported when it runs, and
without the extra ``shipwise`` says which one to install rather than show a traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipwise.cli.app import app

# Top-level modules of the command's own toolkit, all from the ``server`` extra.
_TOOLKIT = frozenset({"typer", "click", "rich"})
NEEDS_SERVER_EXTRA = 'the shipwise command needs the server extra: pip install "shipwise[server]"'


def main() -> None:
    try:
        from shipwise.cli.app import app  # noqa: PLC0415 (see the module docstring)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in _TOOLKIT:
            raise
        sys.stderr.write(f"Error: {NEEDS_SERVER_EXTRA} ({error.name} is not installed)\n")
        raise SystemExit(2) from None
    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from shipwise.cli.app import app  # noqa: PLC0415 (see the module docstring)

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
