"""The one way out for what went wrong in a command: a ``CliError`` raised anywhere below
the root command becomes ``Error: ...`` on stderr (and the JSON error object on stdout
when ``--json`` was given) and its exit code, here and nowhere else.

The errors themselves (``cli/remote.py`` draws the tree)::

    CliError        a mistake around the call: no URL, no token, a broken config file (2)
    └── ApiError    the server answered an error, or no usable answer came (2)
        └── Refusal the server said no, 409: a closed gate, a conflict (1)

Raising rather than exiting lets a command catch the answers it shows its own way (a
refused promotion's gates, a policy file's line) and lets the client be used, and
tested, as a library.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from shipwise.cli.output import Exit, fail


class CliError(Exception):
    """A mistake a person can fix: ``message`` says what, ``hint`` what to do next."""

    code: ClassVar[Exit] = Exit.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@contextmanager
def reported() -> Iterator[None]:
    """Run a command; a ``CliError`` leaves as its message and exit code (see the top)."""
    try:
        yield
    except CliError as error:
        fail(str(error), hint=error.hint, code=error.code)
