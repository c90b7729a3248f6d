"""``shipwise token create|list|revoke``: api tokens and SDK keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from shipwise.cli.options import JsonOption, TokenOption, UrlOption
from shipwise.cli.output import console, note, print_json, say, table
from shipwise.cli.remote import api_path, connect
from shipwise.cli.shapes import items, when
from shipwise.domain.access import Role, TokenKind

token_app = typer.Typer(
    help="Tokens: api tokens for people and scripts, SDK keys.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

KindOption = Annotated[
    TokenKind,
    typer.Option(
        "--kind",
        help="server: a backend SDK's key; frontend: a browser's or app's key; api: a token "
        "for people and scripts.",
    ),
]
_DURATION = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def expiry(text: str | None) -> datetime | None:
    """``90d``, ``12h``, ``2w`` from now, or an ISO 8601 date or time (UTC unless it
    says otherwise)."""
    if text is None:
        return None
    duration = _DURATION.match(text.strip())
    if duration:
        amount, unit = duration.groups()
        return datetime.now(UTC) + timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a duration (90d, 12h, 2w) nor a date (2027-01-31)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@token_app.command("create")
def create(
    kind: KindOption,
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
        typer.Option("--environment", "-e", help="The environment (for SDK keys)."),
    ] = None,
    role: Annotated[
        Role | None, typer.Option(help="For api tokens: what it may do in the project.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name people will recognise.")] = None,
    expires: Annotated[
        str | None,
        typer.Option(help="When it stops working: 90d, 12h, 2w, or a date such as 2027-01-31."),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token and print its secret, once: the server keeps only a hash.

    The secret alone goes to stdout, so KEY=$(shipwise token create ...) works; the
    rest goes to stderr.
    """
    until = expiry(expires)
    if environment is not None and project is None:
        project = "default"  # as every other command that names an environment
    where = "/".join(p for p in (project, environment) if p) or "every project"
    body: dict[str, Any] = {
        "name": name or f"{kind.value} {where}",
        "kind": kind.value,
        "project": project,
        "environment": environment,
        "role": role.value if role else None,
        "expires_at": until.isoformat() if until else None,
    }
    with connect(url, token) as remote:
        created = remote.post(api_path("tokens"), {k: v for k, v in body.items() if v is not None})
    if as_json:
        print_json(created)
        return
    label = f"{created['kind']} token {created['name']!r} (id {created['id']})"
    note(f"Created {label} for {where}. Its secret is shown this once; keep it safe:")
    console.print(str(created.get("secret")), markup=False, highlight=False, soft_wrap=True)


@token_app.command("list")
def list_tokens(
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Only this project's.")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens (never their secrets): who made them, what they may do, when they expire."""
    with connect(url, token) as remote:
        answer = remote.get(api_path("tokens"), {"project": project})
    if as_json:
        print_json(answer)
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


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (token list).")],
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: it stops working within seconds, on every server instance."""
    with connect(url, token) as remote:
        revoked = remote.delete(api_path("tokens", token_id))
    if as_json:
        print_json(revoked)
        return
    say(f"Revoked token {token_id}.", style="green")
