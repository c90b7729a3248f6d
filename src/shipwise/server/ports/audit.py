"""The audit log: every change, hash-chained so an edit or a deletion shows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.audit import ChainedRecord


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What a change records: who did what to which thing, with before and after."""

    actor: str
    action: str
    target_type: str
    target_key: str
    project: str | None = None
    environment: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    entry: AuditEntry
    previous_hash: str
    hash: str


@dataclass
class AuditFilter:
    project: str | None = None
    target_type: str | None = None
    target_key: str | None = None
    limit: int = 100
    before_id: int | None = None
    after_id: int | None = None  # newer than this record (the dashboard's live feed)
    extra: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    action: str | None = None  # exact, or a family ending in ".*" ("flag.*")
    actor: str | None = None  # part of the actor, any case ("ana" finds "token:ana (#3, …)")
    since: datetime | None = None  # at or after (UTC)
    until: datetime | None = None  # before (UTC)


class AuditStore(Protocol):
    def append_audit(self, entry: AuditEntry) -> AuditRecord:
        """Number the entry, stamp it with the store's clock and chain it to the head."""
        ...

    def list_audit(self, query: AuditFilter) -> list[AuditRecord]:
        """Newest first."""
        ...

    def iter_audit(self) -> Iterator[AuditRecord]: ...
    def iter_audit_chain(self) -> Iterator[ChainedRecord]:
        """Every record as the hash chain sees it, oldest first."""
        ...

    def audit_chain_head(self) -> str | None:
        """The hash the newest record must have (None before the first record)."""
        ...
