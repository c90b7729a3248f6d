"""``shipwise audit verify`` reads the database itself and finds any record that was
edited or deleted behind the server's back (here: with SQLAlchemy, on the database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select, update
from tests.integration.cli.cli_runner import Shipwise

from shipwise.server.bootstrap import build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings
from shipwise.server.storage.tables import AuditRow


@pytest.fixture
def audited(database_url: str, tmp_path: Path) -> str:
    """A database with a few audit records: first start, a flag created and switched."""
    services = build(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        services.flags.create(SYSTEM, "default", "new-checkout", description="Checkout v2")
        services.flags.set_enabled(SYSTEM, "default", "new-checkout", "dev", True)
        services.flags.set_enabled(SYSTEM, "default", "new-checkout", "staging", True)
    finally:
        services.close()
    return database_url


def _record_ids(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(AuditRow.id).order_by(AuditRow.id)))
    finally:
        engine.dispose()


def _tamper(url: str, statement: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(statement)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_audit_verify__intact_chain__exits_0_with_count(shipwise: Shipwise, audited: str) -> None:
    count = len(_record_ids(audited))

    result = shipwise("audit", "verify", "--database-url", audited)

    assert result.exit_code == 0, result.output
    assert f"intact: {count} records verified" in result.stdout
    assert shipwise.json("audit", "verify", "--database-url", audited) == {
        "ok": True,
        "checked": count,
        "breaks": [],
    }


def test_audit_verify__edited_record__exits_1_naming_it(shipwise: Shipwise, audited: str) -> None:
    # Given someone rewrote who made a change
    edited = _record_ids(audited)[2]
    _tamper(audited, update(AuditRow).where(AuditRow.id == edited).values(actor="token:nobody"))

    # When the chain is verified
    result = shipwise("audit", "verify", "--database-url", audited)

    # Then it exits 1 and names the record and the problem
    assert result.exit_code == 1, result.output
    assert "broken" in result.stdout
    assert str(edited) in result.stdout
    assert "edited" in result.stdout
    breaks = shipwise("audit", "verify", "--database-url", audited, "--json")
    assert breaks.exit_code == 1
    problems = json.loads(breaks.stdout)["breaks"]
    assert [b["record_id"] for b in problems] == [edited]


def test_audit_verify__deleted_record__exits_1_naming_the_one_after_it(
    shipwise: Shipwise, audited: str
) -> None:
    ids = _record_ids(audited)
    _tamper(audited, delete(AuditRow).where(AuditRow.id == ids[1]))

    result = shipwise("audit", "verify", "--database-url", audited, "--json")

    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)["breaks"]
    assert [b["record_id"] for b in problems] == [ids[2]]
    assert "deleted" in problems[0]["problem"]


def test_audit_verify__newest_record_deleted__is_found(shipwise: Shipwise, audited: str) -> None:
    ids = _record_ids(audited)
    _tamper(audited, delete(AuditRow).where(AuditRow.id == ids[-1]))

    result = shipwise("audit", "verify", "--database-url", audited)

    assert result.exit_code == 1, result.output
    assert "deleted" in result.stdout


def test_audit_verify__data_dir__reads_the_sqlite_file_there(
    shipwise: Shipwise, tmp_path: Path
) -> None:
    build(Settings(data_dir=tmp_path / "data")).close()
    result = shipwise("audit", "verify", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    assert "intact" in result.stdout


def test_audit_verify__no_database_there__exits_2_and_creates_nothing(
    shipwise: Shipwise, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    result = shipwise("audit", "verify", "--data-dir", str(missing))
    assert result.exit_code == 2
    assert f"no Shipwise database at {missing / 'shipwise.db'}" in result.stderr
    assert "--data-dir" in result.stderr
    assert not missing.exists()
