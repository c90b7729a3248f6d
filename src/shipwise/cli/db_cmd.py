"""``shipwise db upgrade``: apply the Alembic migrations (``serve`` also does, on start)."""

from __future__ import annotations

import typer

from shipwise.cli import database
from shipwise.cli.options import DatabaseUrlOption, DataDirOption, JsonOption
from shipwise.cli.output import print_json, say, working

db_app = typer.Typer(
    help="The database: migrations.", no_args_is_help=True, rich_markup_mode="markdown"
)


@db_app.command("upgrade")
def upgrade(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Migrate the database to this version of Shipwise and print its revision."""
    settings = database.settings(data_dir, database_url)
    url = settings.resolved_database_url
    with database.server_extra():
        from shipwise.server.bootstrap import open_database  # noqa: PLC0415 (lazy)

    with database.database_errors(url):
        db = open_database(settings)
        try:
            before = db.current_revision()
            with working("Migrating the database"):
                db.upgrade()
            after = db.current_revision()
        finally:
            db.dispose()
    if as_json:
        print_json({"database": database.shown(url), "previous": before, "revision": after})
    elif before == after:
        say(f"{database.shown(url)} is up to date at revision {after}.")
    else:
        say(f"{database.shown(url)} migrated from {before or 'empty'} to revision {after}.")
