"""``shipwise audit list|verify``: the audit log.

``list`` reads it over the API, filtered, as any token that may read the project may;
``verify`` checks its hash chain reading the database directly (an operator's command:
it works with the server stopped, and trusts no API).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from shipwise.cli import database
from shipwise.cli.command import Api, command
from shipwise.cli.moments import moment
from shipwise.cli.options import (
    DatabaseUrlOption,
    DataDirOption,
    JsonOption,
)
from shipwise.cli.output import Exit, console, fail, note, print_json, say, table, working
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items, when

audit_app = typer.Typer(
    help="The audit log: who changed what, hash-chained.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

MAX_LIMIT = 500  # the server's page size limit (GET /api/v1/audit)


@command(audit_app, "list")
def list_records(
    api: Api,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            "-p",
            envvar="SHIPWISE_PROJECT",
            help="Only this project's changes (without it: every project's, for global "
            "admins; 'default' when -e or --flag is given).",
            show_default=False,
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            "--environment",
            help="Only changes in this environment.",
            show_default=False,
        ),
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            help="Only this action (flag.kill), or a family of them (flag.*).", show_default=False
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Only changes by this actor: part of its name, any case (ana).", show_default=False
        ),
    ] = None,
    flag: Annotated[
        str | None, typer.Option("--flag", help="Only changes to this flag.", show_default=False)
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Only changes to this kind of thing: flag, segment, token, release, rollout, "
            "policy, …",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="From this long ago (24h, 7d, 2w) or this date (2027-01-31).", show_default=False
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Before this long ago (1h) or this date.", show_default=False),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_LIMIT, help="At most this many records, newest first.")
    ] = 50,
    before: Annotated[
        int | None,
        typer.Option(
            "--before",
            min=1,
            help="Older than this record id: the next page (the last page ends by naming it).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Who changed what, newest first: time, actor, action, target, environment, reason."""
    if flag is not None:
        if kind not in {None, "flag"}:
            fail(f"--flag names a flag, and --kind asks for {kind!r} changes: give one of them")
        kind = "flag"
    if project is None and (environment is not None or flag is not None):
        project = "default"  # environments and flags belong to a project, as elsewhere
    params = {
        "project": project,
        "environment": environment,
        "action": action,
        "actor": actor,
        "target_type": kind,
        "target_key": flag,
        "since": _iso(moment(since, "--since", past=True)),
        "until": _iso(moment(until, "--until", past=True)),
        "limit": limit,
        "before_id": before,
    }
    page = api.get(api_path("audit"), params)
    if api.json(page):
        return
    records = items(page, "records")
    title = f"Audit log of {project!r}" if project else "Audit log, every project"
    columns = ("id", "time (UTC)", "actor", "action", "target", "environment", "reason")
    console.print(
        table(columns, (_row(r, every_project=project is None) for r in records), title=title)
    )
    if not records:
        say("No record matches.", style="yellow")
    older = page.get("next_before_id")
    if older:
        note(f"Older records: the same command with --before {older}")


def _iso(moment_: Any) -> str | None:
    return None if moment_ is None else moment_.isoformat()


def _row(record: Mapping[str, Any], *, every_project: bool) -> list[Any]:
    target = f"{record.get('target_type')} {record.get('target_key')}"
    if every_project and record.get("project"):
        target = f"{record['project']}: {target}"
    return [
        record.get("id"),
        when(record.get("at")),
        record.get("actor"),
        record.get("action"),
        target,
        record.get("environment"),
        record.get("reason"),
    ]


@audit_app.command("verify")
def verify(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check that no audit record was edited or deleted. Exit 1 listing each break."""
    settings = database.settings(data_dir, database_url)
    with database.server_extra():
        from shipwise.server.services.audit import AuditService  # noqa: PLC0415 (lazy)

    with database.existing(settings) as store, working("Verifying the audit chain"):
        checked, breaks = AuditService(store).verify()

    if as_json:
        problems = [{"record_id": b.record_id, "problem": b.problem} for b in breaks]
        print_json({"ok": not breaks, "checked": checked, "breaks": problems})
    elif breaks:
        title = f"The audit chain is broken: {len(breaks)} problem(s) in {checked} records"
        console.print(
            table(("record", "problem"), ((b.record_id, b.problem) for b in breaks), title=title)
        )
        say(
            "Records from the first break on cannot be trusted; compare them with a backup.",
            style="yellow",
        )
    else:
        say(f"The audit chain is intact: {checked} records verified.", style="green")
    if breaks:
        raise typer.Exit(Exit.NO)
