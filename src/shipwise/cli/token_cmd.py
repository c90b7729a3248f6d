"""``shipwise token create|list|revoke``: api tokens and SDK keys."""

from __future__ import annotations

import getpass
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from shipwise.cli import database
from shipwise.cli.command import Api, command
from shipwise.cli.moments import moment
from shipwise.cli.options import (
    DatabaseUrlOption,
    DataDirOption,
)
from shipwise.cli.output import console, fail, note, print_json, say, table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items, when
from shipwise.domain.access import Role, TokenKind

token_app = typer.Typer(
    help="Tokens: api tokens for people and scripts, SDK keys.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

KindOption = Annotated[
    TokenKind | None,
    typer.Option(
        "--kind",
        help="server: a backend SDK's key; frontend: a browser's or app's key; api: a token "
        "for people and scripts.",
        show_default=False,
    ),
]
AdminOption = Annotated[
    bool,
    typer.Option(
        "--admin",
        help="On the server host, when the admin token is lost: write a new global admin "
        "token straight into the database of --data-dir (or --database-url), no server "
        "call, audited as host:USER@HOSTNAME.",
    ),
]
_HOST_ONLY = ("data_dir", "database_url")


@command(token_app, "create")
def create(
    api: Api,
    ctx: typer.Context,
    kind: KindOption = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            "-p",
            envvar="SHIPWISE_PROJECT",
            help="The project (SDK keys: 'default' unless given).",
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option("--env", "-e", "--environment", help="The environment (for SDK keys)."),
    ] = None,
    role: Annotated[
        Role | None, typer.Option(help="For api tokens: what it may do in the project.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name people will recognise.")] = None,
    expires: Annotated[
        str | None,
        typer.Option(help="When it stops working: 90d, 12h, 2w, or a date such as 2027-01-31."),
    ] = None,
    admin: AdminOption = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a token and print its secret, once: the server keeps only a hash.

    The secret alone goes to stdout, so KEY=$(shipwise token create ...) works; the
    rest goes to stderr.
    """
    until = moment(expires, "--expires")
    if admin:
        _refuse_with_admin(kind, project, environment, role)
        _create_on_host(data_dir, database_url, name, until, api.as_json)
        return
    given = [f"--{p.replace('_', '-')}" for p in _HOST_ONLY if _typed(ctx, p)]
    if given:
        fail(
            f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} for --admin: a "
            "new admin token written on the server host",
            hint="Add --admin to replace a lost admin token, or leave them out to ask the "
            "server (--url, --token).",
        )
    if environment is not None and project is None:
        project = "default"  # as every other command that names an environment
    kind = _check(kind, project, environment, role)
    where = "/".join(p for p in (project, environment) if p) or "every project"
    body: dict[str, Any] = {
        "name": name or f"{kind.value} {where}",
        "kind": kind.value,
        "project": project,
        "environment": environment,
        "role": role.value if role else None,
        "expires_at": until.isoformat() if until else None,
    }
    created = api.post(api_path("tokens"), {k: v for k, v in body.items() if v is not None})
    _show(created, where, api.as_json)


def _typed(ctx: typer.Context, parameter: str) -> bool:
    """Whether the option was typed on the command line (not read from the environment:
    SHIPWISE_DATA_DIR may well be set for every command on the server host)."""
    source = ctx.get_parameter_source(parameter)
    return source is not None and source.name == "COMMANDLINE"


def _check(
    kind: TokenKind | None, project: str | None, environment: str | None, role: Role | None
) -> TokenKind:
    """The kind, after the mistakes the server would refuse, said with the options that
    fix them (the server names its JSON fields; people typed options)."""
    if kind is None:
        fail(
            "--kind is needed: server (a backend SDK's key), frontend (a browser's or "
            "app's key) or api (a token for people and scripts)",
            hint="Or --admin, on the server host, to replace a lost admin token.",
        )
    roles = ", ".join(r.value for r in Role)
    if kind is TokenKind.API:
        if environment is not None:
            fail(
                "-e/--env is for SDK keys (--kind server or frontend); an api token "
                "belongs to a project (-p) with a role (--role)"
            )
        if role is not None and role is not Role.ADMIN and project is None:
            fail(
                f"--project (or SHIPWISE_PROJECT) is needed for an api token with the "
                f"role {role.value}: the project it may act in",
                hint="Without a project and role an api token is a global admin token.",
            )
        if project is not None and role is None:
            fail(f"--role is needed for an api token of project {project!r}: one of {roles}")
        return kind
    if role is not None:
        fail(f"--role is for api tokens; a {kind.value} key reads its environment only")
    if environment is None:
        fail(
            f"-e/--env is needed for a {kind.value} key: the environment it reads, "
            "e.g. -e production",
            hint="Its project is -p (or SHIPWISE_PROJECT), else 'default'.",
        )
    return kind


def _refuse_with_admin(
    kind: TokenKind | None, project: str | None, environment: str | None, role: Role | None
) -> None:
    if kind not in {None, TokenKind.API} or role not in {None, Role.ADMIN}:
        fail("--admin makes a global admin api token; leave out --kind and --role")
    if project is not None or environment is not None:
        what = "--project (or SHIPWISE_PROJECT)" if project is not None else "-e/--env"
        fail(
            f"--admin makes a global admin token, for every project; {what} does not apply",
            hint="Make project tokens with it afterwards, through the server.",
        )


def _host() -> str:
    """``user@hostname`` of who runs this on the server host, for the audit log."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def _create_on_host(
    data_dir: Path | None,
    database_url: str | None,
    name: str | None,
    until: datetime | None,
    as_json: bool,
) -> None:
    """Write the token through the token service, on the database the server uses: the
    same checks and audit record as a token made through the API."""
    settings = database.settings(data_dir, database_url)
    with database.server_extra():
        from shipwise.server.clocks import system_clock  # noqa: PLC0415 (lazy)
        from shipwise.server.services.errors import ServiceError  # noqa: PLC0415 (lazy)
        from shipwise.server.services.tokens import TokenService  # noqa: PLC0415 (lazy)

    with database.existing(settings) as store:
        try:
            issued = TokenService(store, system_clock).create_on_host(
                _host(), name=name, expires_at=until
            )
        except ServiceError as error:
            fail(f"{error.message} (field: {error.field})" if error.field else error.message)
    record = issued.record
    created = {
        "id": record.id,
        "name": record.name,
        "kind": record.kind,
        "role": record.role,
        "project": None,
        "environment": None,
        "prefix": record.prefix,
        "created_by": record.created_by,
        "created_at": record.created_at.isoformat(),
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "revoked_at": None,
        "secret": issued.secret,
    }
    _show(created, "every project (made on the server host)", as_json)


def _show(created: dict[str, Any], where: str, as_json: bool) -> None:
    if as_json:
        print_json(created)
        return
    label = f"{created['kind']} token {created['name']!r} (id {created['id']})"
    note(f"Created {label} for {where}. Its secret is shown this once; keep it safe:")
    console.print(str(created.get("secret")), markup=False, highlight=False, soft_wrap=True)


@command(token_app, "list")
def list_tokens(
    api: Api,
    project: Annotated[
        str | None,
        typer.Option("--project", "-p", envvar="SHIPWISE_PROJECT", help="Only this project's."),
    ] = None,
) -> None:
    """Tokens (never their secrets): who made them, what they may do, when they expire."""
    answer = api.get(api_path("tokens"), {"project": project})
    if api.json(answer):
        return
    tokens = items(answer, "tokens")
    columns = (
        "id",
        "name",
        "kind",
        "role",
        "project",
        "environment",
        "prefix",
        "expires (UTC)",
        "revoked (UTC)",
    )
    rows = (
        [
            t.get("id"),
            t.get("name"),
            t.get("kind"),
            t.get("role"),
            t.get("project"),
            t.get("environment"),
            t.get("prefix"),
            when(t.get("expires_at")),
            when(t.get("revoked_at")),
        ]
        for t in tokens
    )
    console.print(table(columns, rows, title="Tokens"))


@command(token_app, "revoke")
def revoke(
    api: Api,
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (token list).")],
) -> None:
    """Revoke a token: it stops working within seconds, on every server instance."""
    revoked = api.delete(api_path("tokens", token_id))
    if api.json(revoked):
        return
    say(f"Revoked token {token_id}.", style="green")
