"""Reading the audit log, and verifying its hash chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.domain.audit import GENESIS, ChainBreak, verify_chain
from shipwise.server.ports import AuditFilter, AuditRecord, AuditStore, ProjectStore, StoreOf
from shipwise.server.services._common import project_or_404
from shipwise.server.services.errors import Invalid
from shipwise.server.services.principal import SYSTEM, Principal


class AuditReadTx(AuditStore, ProjectStore, Protocol):
    """What reading the log needs: the records, and the project a reader names."""


class AuditService:
    def __init__(self, store: StoreOf[AuditReadTx]) -> None:
        self._store = store

    def all(self, principal: Principal, query: AuditFilter) -> list[AuditRecord]:
        """Newest first. Without a project, every project's records: global admins only."""
        # A moment without a zone is UTC, as everywhere in the API.
        query = replace(query, since=_utc(query.since), until=_utc(query.until))
        if query.since is not None and query.until is not None and query.until <= query.since:
            raise Invalid(
                f"until ({query.until.isoformat()}) must be after since "
                f"({query.since.isoformat()})",
                field="until",
            )
        with self._store.read() as tx:
            if query.project is None:
                principal.require_global_admin("read the audit log of every project")
            else:
                principal.require(Action.READ, project_or_404(tx, query.project))
            return tx.list_audit(query)

    def verify(self, principal: Principal = SYSTEM) -> tuple[int, list[ChainBreak]]:
        """How many records were checked, and every break found. (The CLI reads the
        database directly and acts as the system; the API passes the caller.)"""
        principal.require_global_admin("verify the audit chain")
        with self._store.read() as tx:
            # The head first: a record appended after it was read is still in the list.
            head = tx.audit_chain_head()
            records = list(tx.iter_audit_chain())
        breaks = verify_chain(records)
        # Each record vouches for the one before it, but nothing after the newest vouches
        # for it: the head row, written with every record, catches the newest ones deleted.
        if head not in {GENESIS, None, *(r.hash for r in records)}:
            newest = records[-1].id if records else 0
            problem = "newer records were deleted: the chain head names a record not in the log"
            breaks.append(ChainBreak(newest, problem))
        return len(records), breaks


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
