"""``@command(app, "name")``: a command that talks to a server, its shared options
declared once.

Every such command takes ``--url``, ``--token`` and ``--json`` (``cli/options.py``).
Rather than repeat them in fifty signatures, a command's first parameter is ``api:
Api``; the decorator puts the three options in its place (last in ``--help``, as
before) and hands the command an ``Api``: the client (``cli/remote.py``), connected at
the first request and closed when the command ends, and whether to print JSON::

    @command(metric_app, "list")
    def list_metrics(api: Api, project: ProjectOption = "default") -> None:
        answer = api.get(api_path("projects", project, "metrics"))
        if api.json(answer):
            return
        console.print(table(...))

Errors are not handled here: the client raises, ``cli/errors.py`` reports.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from shipwise.cli.options import JsonOption, TokenOption, UrlOption
from shipwise.cli.output import print_json
from shipwise.cli.remote import Remote

_SHARED = (
    inspect.Parameter("url", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=UrlOption),
    inspect.Parameter(
        "token", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=TokenOption
    ),
    inspect.Parameter(
        "as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOption
    ),
)


class Api(Remote):
    """The client as a command gets it: with ``--json`` known."""

    def __init__(self, url: str | None, token: str | None, as_json: bool) -> None:
        super().__init__(url, token)
        self.as_json = as_json

    def json(self, answer: Any) -> bool:
        """Print ``answer`` for scripts when ``--json`` was given; True then: the command
        has said all it says."""
        if self.as_json:
            print_json(answer)
        return self.as_json


def command(
    app: typer.Typer, name: str, **settings: Any
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as ``app``'s command ``name`` (``settings`` as for
    ``Typer.command``), with ``--url``, ``--token`` and ``--json`` for its ``api``."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(function, eval_str=True)
        first, *own = signature.parameters.values()
        if first.name != "api":
            raise TypeError(f"{function.__qualname__}: the first parameter must be api: Api")

        @functools.wraps(function)
        def run(
            *args: Any, url: str | None, token: str | None, as_json: bool, **kwargs: Any
        ) -> None:
            with Api(url, token, as_json) as api:
                function(api, *args, **kwargs)

        parameters = [*own, *_SHARED]
        # Typer reads the options from the signature and the annotations.
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        app.command(name, **settings)(run)
        return function

    return register
