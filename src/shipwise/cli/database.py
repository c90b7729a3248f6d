"""The database for the operator commands (``serve``, ``db``, ``audit verify``, ``token
create --admin``): settings from flags and the environment, and database trouble turned
into a sentence and exit 2.

Server modules (SQLAlchemy, Alembic, FastAPI) are imported here only when a command runs,
so ``shipwise demo`` and ``shipwise snapshot`` start fast and work without the server
extra installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipwise.cli.output import fail

if TYPE_CHECKING:
    from shipwise.server.ports import Store
    from shipwise.server.settings import Settings

_DRIVERLESS_POSTGRES = re.compile(r"^postgres(?:ql)?://")
_PASSWORD = re.compile(r"(://[^:/@]*):[^@]*@")
_URL_EXAMPLE = "postgresql+psycopg://user:password@host:5432/shipwise"


def shown(url: str) -> str:
    """The URL with its password masked, for messages."""
    return _PASSWORD.sub(r"\1:***@", url)


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` name no driver, which SQLAlchemy takes to mean
    psycopg2; Shipwise ships psycopg 3, so say so."""
    return _DRIVERLESS_POSTGRES.sub("postgresql+psycopg://", url)


@contextmanager
def server_extra() -> Iterator[None]:
    """Around the lazy imports of server modules: missing ones say which extra to install."""
    try:
        yield
    except ModuleNotFoundError as error:
        fail(
            f"this command needs the Shipwise server, and {error.name!r} is not installed",
            hint="Install it with: pip install 'shipwise[server]'",
        )


def settings(data_dir: Path | None, database_url: str | None, **more: Any) -> Settings:
    """Settings from the options (which already read SHIPWISE_DATA_DIR and
    SHIPWISE_DATABASE_URL), then SHIPWISE_ADMIN_TOKEN from the environment."""
    with server_extra():
        from shipwise.server.settings import Settings  # noqa: PLC0415 (lazy)

    url = normalize_url(database_url) if database_url else None
    if url and not url.startswith(("sqlite:", "postgresql+psycopg:")):
        fail(
            f"Shipwise keeps its data in SQLite or PostgreSQL, and {shown(url)} is neither",
            hint=f"Use {_URL_EXAMPLE}, or leave --database-url out for SQLite in --data-dir.",
        )
    try:
        return Settings.from_environment(data_dir=data_dir, database_url=url, **more)
    except ValueError as error:  # a SHIPWISE_* variable the server cannot use
        fail(str(error), hint="Fix that environment variable, or unset it for the default.")


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None (another database, or in memory)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in {"", ":memory:"}:
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn what can go wrong opening, migrating or reading a database into a message
    naming the database (password masked) and what to check."""
    with server_extra():
        from alembic.util import CommandError  # noqa: PLC0415 (lazy)
        from sqlalchemy import exc  # noqa: PLC0415 (lazy)

        from shipwise.server.ports import StorageUnavailable  # noqa: PLC0415 (lazy)

    where = shown(url)
    try:
        yield
    except ModuleNotFoundError as error:
        fail(
            f"{where} needs the module {error.name!r}, which is not installed",
            hint="PostgreSQL needs its driver, the postgres extra: "
            'pip install "shipwise[server,postgres]"',
        )
    except exc.ArgumentError as error:
        fail(
            f"{where} is not a database URL Shipwise can use: {error}",
            hint=f"Use {_URL_EXAMPLE}, or leave --database-url out for SQLite in --data-dir.",
        )
    except exc.OperationalError as error:
        fail(
            f"cannot open the database {where}: {_first_line(error)}",
            hint="Check that the database is running and that --database-url (or "
            "SHIPWISE_DATABASE_URL) names it, with a user allowed to connect.",
        )
    except exc.DBAPIError as error:
        fail(
            f"the database {where} refused: {_first_line(error)}",
            hint="Check that the database user may create and alter tables in it.",
        )
    except StorageUnavailable as error:  # the storage adapter's words for a driver error
        fail(f"{where}: {error.problem}", hint=f"{error.advice[:1].upper()}{error.advice[1:]}.")
    except CommandError as error:
        fail(
            f"cannot migrate {where}: {error}",
            hint="A newer Shipwise may have migrated it; run that version (or newer) instead.",
        )


@contextmanager
def existing(settings: Settings) -> Iterator[Store]:
    """The server's database as it is (never created, never migrated), for the commands
    that act on it from the server host (``audit verify``, ``token create --admin``);
    exit 2 when there is no Shipwise database there, or it cannot be used."""
    url = settings.resolved_database_url
    file = sqlite_path(url)
    if file is not None and not file.exists():
        fail(
            f"there is no Shipwise database at {file}",
            hint="Pass the server's --data-dir (or --database-url).",
        )
    with server_extra():
        from shipwise.server.bootstrap import open_database  # noqa: PLC0415 (lazy)

    with database_errors(url):
        db = open_database(settings)
        try:
            if db.current_revision() is None:
                fail(
                    f"{shown(url)} is not a Shipwise database (it has no migrations)",
                    hint="Pass the server's --data-dir or --database-url.",
                )
            yield db
        finally:
            db.dispose()


def _first_line(error: Any) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or ["(no detail)"])[0]
