"""``shipwise audit verify``: check the audit log's hash chain, reading the database
directly (an operator's command: it works with the server stopped, and trusts no API)."""

from __future__ import annotations

import typer

from shipwise.cli import database
from shipwise.cli.options import DatabaseUrlOption, DataDirOption, JsonOption
from shipwise.cli.output import Exit, console, fail, print_json, say, table, working

audit_app = typer.Typer(
    help="The audit log: who changed what, hash-chained.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@audit_app.command("verify")
def verify(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check that no audit record was edited or deleted. Exit 1 listing each break."""
    settings = database.settings(data_dir, database_url)
    url = settings.resolved_database_url
    file = database.sqlite_path(url)
    if file is not None and not file.exists():
        fail(
            f"there is no Shipwise database at {file}",
            hint="Pass the server's --data-dir (or --database-url).",
        )
    with database.server_extra():
        from shipwise.server.bootstrap import open_database  # noqa: PLC0415 (lazy)
        from shipwise.server.services.audit import AuditService  # noqa: PLC0415 (lazy)

    with database.database_errors(url):
        db = open_database(settings)
        try:
            if db.current_revision() is None:
                fail(
                    f"{database.shown(url)} is not a Shipwise database (it has no migrations)",
                    hint="Pass the server's --data-dir or --database-url.",
                )
            with working("Verifying the audit chain"):
                checked, breaks = AuditService(db).verify()
        finally:
            db.dispose()

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
