"""``shipwise serve``: the server, on SQLite in a data directory or on PostgreSQL."""

from __future__ import annotations

import io
import signal
import socket
import sys
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from shipwise.cli import database
from shipwise.cli.options import DatabaseUrlOption, DataDirOption
from shipwise.cli.output import fail, note

if TYPE_CHECKING:
    from shipwise.server.api.limits import BodyLimits

HostOption = Annotated[
    str, typer.Option("--host", envvar="SHIPWISE_HOST", help="The address to listen on.")
]
PortOption = Annotated[
    int, typer.Option("--port", envvar="SHIPWISE_PORT", min=1, max=65535, help="The port.")
]
MaxBodyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--max-body",
        envvar="SHIPWISE_MAX_BODY",
        metavar="CLASS=SIZE",
        help="A body size limit for a class of routes, e.g. webhook=25MiB (repeatable; "
        "the variable takes several, space-separated). Classes and defaults: evaluate=64KiB, "
        "reports=2MiB, admin=1MiB, imports=10MiB, webhook=10MiB; larger bodies get 413.",
    ),
]
JsonDepthOption = Annotated[
    int | None,
    typer.Option(
        "--max-json-depth",
        envvar="SHIPWISE_MAX_JSON_DEPTH",
        help="How deep a request's JSON may nest (default 64, at most 256).",
    ),
]


def serve(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 4242,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="On first start, seed a demo world in 'default': flags, releases in every "
            "stage, and a rollout kept moving by synthetic SDK traffic (its SDK key is kept "
            "in <data-dir>/demo-sdk-key). The rollout keeps the real schedule, a week a "
            "step, on a demo clock where 1 week = 1 minute (SHIPWISE_CLOCK_SPEED sets "
            "another; the timeline is kept in <data-dir>/demo-clock); sign-in sessions, "
            "links and token expiry keep real time.",
        ),
    ] = False,
    max_body: MaxBodyOption = None,
    max_json_depth: JsonDepthOption = None,
) -> None:
    """Run the server: admin API, SDK APIs, streams. Migrates the database first.

    On first start with an empty database it creates an admin token and prints it once,
    with the URL (or uses SHIPWISE_ADMIN_TOKEN). Stop it with Ctrl-C.
    """
    limits = _body_limits(max_body, max_json_depth)
    settings = database.settings(
        data_dir, database_url, host=host, port=port, demo=demo, body_limits=limits
    )
    _check_port_free(host, port)
    with database.server_extra():
        from shipwise.server.serve import serve as run_server  # noqa: PLC0415 (lazy)

    # The URL and the first token must reach a pipe (a log, a test) before the server
    # blocks, not when a buffer fills.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    # uvicorn stops gracefully on SIGINT and SIGTERM, then raises the signal again for
    # the handler it found: make that a clean exit 0, not a traceback or a kill.
    signal.signal(signal.SIGTERM, _stop)
    try:
        with database.database_errors(settings.resolved_database_url):
            run_server(settings)
    except KeyboardInterrupt:
        pass
    except SystemExit as stop:  # uvicorn exits 1 when it cannot start
        if stop.code not in {0, None}:
            fail("the server could not start; the lines above say why")
    note("Shipwise stopped.")


def _body_limits(sizes: list[str] | None, depth: int | None) -> BodyLimits:
    with database.server_extra():
        from shipwise.server.api.limits import BodyLimits  # noqa: PLC0415 (lazy)

    try:
        return BodyLimits().overridden(sizes or (), depth)
    except ValueError as error:
        fail(f"--max-body/--max-json-depth: {error}")


def _stop(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _check_port_free(host: str, port: int) -> None:
    """Refuse before touching the database when the address is taken, rather than print
    a first admin token for a server that then cannot start."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        fail(f"cannot listen on {host!r}: {error.strerror}", hint="Pass --host 127.0.0.1")
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            fail(
                f"cannot listen on {host}:{port}: {error.strerror}",
                hint="Another program (another Shipwise?) holds the port; stop it, or pass "
                "--port with a free one.",
            )
