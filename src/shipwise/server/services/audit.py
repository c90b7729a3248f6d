"""Reading the audit log, and verifying its hash chain."""

from __future__ import annotations

from shipwise.domain.access import Action
from shipwise.domain.audit import ChainBreak, verify_chain
from shipwise.server.ports import AuditFilter, AuditRecord, Store
from shipwise.server.services._common import project_or_404
from shipwise.server.services.principal import Principal


class AuditService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def all(self, principal: Principal, query: AuditFilter) -> list[AuditRecord]:
        with self._store.read() as tx:
            if query.project is None:
                principal.require(Action.MANAGE_PROJECTS)
            else:
                principal.require(Action.READ, project_or_404(tx, query.project))
            return tx.list_audit(query)

    def verify(self) -> tuple[int, list[ChainBreak]]:
        """How many records were checked, and every break found."""
        with self._store.read() as tx:
            records = list(tx.iter_audit_chain())
        return len(records), verify_chain(records)
