"""``shipwise login-link NAME``: a one-time link that signs a person in to the dashboard.

The link signs in as NAME's most recent active personal api token, works once, within
``--minutes`` (default 15). Only the link goes to stdout (``URL=$(shipwise login-link
ana)`` works); the rest to stderr. ``--on-host`` writes it straight into the server's
database instead of asking the server (``scripts/start`` signs its demo admin in so).
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from shipwise.cli import database
from shipwise.cli.command import Api, command
from shipwise.cli.options import DatabaseUrlOption, DataDirOption
from shipwise.cli.output import fail, note, print_json
from shipwise.cli.remote import api_path

login_app = typer.Typer(rich_markup_mode="markdown")
DEFAULT_URL = "http://127.0.0.1:4242"  # where --on-host says the server is, without --url

NameArgument = Annotated[
    str, typer.Argument(help="The person: the name of their personal api token.")
]
MinutesOption = Annotated[
    int, typer.Option("--minutes", min=1, max=24 * 60, help="How long the link works.")
]
ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help="Only NAME's token in this project (when NAME has tokens in several).",
        show_default=False,
    ),
]
OnHostOption = Annotated[
    bool,
    typer.Option(
        "--on-host",
        help="On the server host: write the link into the database of --data-dir (or "
        "--database-url), no server call, audited as host:USER@HOSTNAME.",
    ),
]


@command(login_app, "login-link")
def login_link(
    api: Api,
    name: NameArgument,
    minutes: MinutesOption = 15,
    project: ProjectOption = None,
    on_host: OnHostOption = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print a one-time link that signs NAME in to the dashboard (admins only)."""
    if on_host:
        base = (api.given_url or DEFAULT_URL).rstrip("/")
        _on_host(base, name, minutes, data_dir, database_url, api)
        return
    body: dict[str, Any] = {"name": name, "minutes": minutes}
    if project is not None:
        body["project"] = project
    issued = api.post(api_path("sign-in-links"), body)
    _show(f"{api.url}{issued['path']}", issued, api.as_json)


def _on_host(
    url: str,
    name: str,
    minutes: int,
    data_dir: Path | None,
    database_url: str | None,
    api: Api,
) -> None:
    settings = database.settings(data_dir, database_url)
    with database.server_extra():
        from shipwise.server.services.errors import ServiceError  # noqa: PLC0415 (lazy)
        from shipwise.server.services.web_sessions import WebSessionService  # noqa: PLC0415

    with database.existing(settings) as store:
        try:
            issued = WebSessionService(store).create_link_on_host(_host(), name, minutes=minutes)
        except ServiceError as error:
            fail(error.message)
    answer = {
        "path": f"/sign-in/link/{issued.code}",
        "person": issued.person,
        "token_prefix": issued.token_prefix,
        "expires_at": issued.expires_at.isoformat(),
    }
    _show(f"{url}{answer['path']}", answer, api.as_json)


def _show(link: str, issued: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json({**issued, "url": link})
        return
    typer.echo(link)
    note(
        f"Signs in as {issued['person']} (token {issued['token_prefix']}…) once, until "
        f"{issued['expires_at']}. Send it only to them."
    )


def _host() -> str:
    """``user@hostname`` of who runs this on the server host, for the audit log."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"
