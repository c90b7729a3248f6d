"""Tokens, the hash-chained audit log and SDK exposures, in memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from shipwise.domain.audit import ChainedRecord, record_hash
from shipwise.server.ports.audit import AuditEntry, AuditFilter, AuditRecord
from shipwise.server.ports.errors import KeyTaken
from shipwise.server.ports.exposures import ExposureCount
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import as_json, utc, utc_or_none
from shipwise.server.ports.tokens import TokenRecord


def _hashed_fields(record: AuditRecord) -> dict[str, Any]:
    """What a record's hash covers, as the SQL store's ``audit_fields`` builds it."""
    entry = record.entry
    return {
        "id": record.id,
        "at": utc(record.at).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "project": entry.project,
        "environment": entry.environment,
        "target_type": entry.target_type,
        "target_key": entry.target_key,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }


def _matches(record: AuditRecord, query: AuditFilter) -> bool:
    entry = record.entry
    if query.action is not None:
        family = query.action.removesuffix("*")
        if not (
            entry.action.startswith(family) if family != query.action else entry.action == family
        ):
            return False
    return (
        (query.project is None or entry.project == query.project)
        and (query.target_type is None or entry.target_type == query.target_type)
        and (query.target_key is None or entry.target_key == query.target_key)
        and (query.before_id is None or record.id < query.before_id)
        and (query.after_id is None or record.id > query.after_id)
        and (query.environment is None or entry.environment == query.environment)
        and (query.actor is None or query.actor.casefold() in entry.actor.casefold())
        and (query.since is None or record.at >= utc(query.since))
        and (query.until is None or record.at < utc(query.until))
    )


class LedgerQueries(MemoryBase):
    # -- tokens -------------------------------------------------------------------------

    def add_token(
        self,
        *,
        name: str,
        kind: str,
        role: str | None,
        project_id: int | None,
        environment_id: int | None,
        secret_hash: str,
        prefix: str,
        created_by: str,
        expires_at: datetime | None,
    ) -> TokenRecord:
        if any(hash_ == secret_hash for _, hash_ in self._t.tokens.values()):
            raise KeyTaken(f"token {prefix!r}")
        token = TokenRecord(
            self._t.next_id("tokens"),
            name,
            kind,
            role,
            project_id,
            environment_id,
            prefix,
            created_by,
            utc(self._now()),
            utc_or_none(expires_at),
            None,
        )
        self._t.tokens[token.id] = (token, secret_hash)
        return token

    def find_token(self, secret_hash: str) -> TokenRecord | None:
        return next((t for t, hash_ in self._t.tokens.values() if hash_ == secret_hash), None)

    def list_tokens(self, project_id: int | None) -> list[TokenRecord]:
        tokens = (t for t, _ in self._t.tokens.values())
        return [t for t in tokens if project_id is None or t.project_id == project_id]

    def get_token(self, token_id: int) -> TokenRecord | None:
        found = self._t.tokens.get(token_id)
        return None if found is None else found[0]

    def revoke_token(self, token_id: int, at: datetime) -> TokenRecord:
        token, secret_hash = self._t.tokens[token_id]
        revoked = replace(token, revoked_at=utc(at))
        self._t.tokens[token_id] = (revoked, secret_hash)
        return revoked

    def count_tokens(self) -> int:
        return len(self._t.tokens)

    # -- audit --------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditRecord:
        stored = replace(
            entry,
            before=None if entry.before is None else as_json(dict(entry.before)),
            after=None if entry.after is None else as_json(dict(entry.after)),
        )
        record = AuditRecord(self._t.next_id("audit"), utc(self._now()), stored, "", "")
        record = replace(record, previous_hash=self._t.chain_head)
        record = replace(record, hash=record_hash(record.previous_hash, _hashed_fields(record)))
        self._t.audit.append(record)
        self._t.chain_head = record.hash
        return record

    def list_audit(self, query: AuditFilter) -> list[AuditRecord]:
        newest_first = (r for r in reversed(self._t.audit) if _matches(r, query))
        return [r for _, r in zip(range(query.limit), newest_first, strict=False)]

    def iter_audit(self) -> Iterator[AuditRecord]:
        yield from list(self._t.audit)

    def audit_chain_head(self) -> str | None:
        return self._t.chain_head

    def iter_audit_chain(self) -> Iterator[ChainedRecord]:
        for record in list(self._t.audit):
            yield ChainedRecord(
                record.id, record.previous_hash, record.hash, _hashed_fields(record)
            )

    # -- exposures ----------------------------------------------------------------------

    def add_exposures(
        self, environment_id: int, app_name: str | None, counts: Mapping[str, ExposureCount]
    ) -> int:
        now = utc(self._now())
        for flag, count in counts.items():
            variants = {name: int(n) for name, n in count.variants.items()}
            self._t.exposures.append(
                (environment_id, flag, app_name, now, count.yes, count.no, variants)
            )
        return len(counts)

    def exposure_totals(self, environment_id: int) -> dict[str, ExposureCount]:
        totals: dict[str, ExposureCount] = {}
        for env, flag, _, _, yes, no, counted in self._t.exposures:
            if env != environment_id:
                continue
            previous = totals.get(flag, ExposureCount(0, 0, {}))
            variants = dict(previous.variants)
            for name, count in counted.items():
                variants[name] = variants.get(name, 0) + count
            totals[flag] = ExposureCount(previous.yes + yes, previous.no + no, variants)
        return totals

    def exposures_since(self, environment_id: int, flag: str, since: datetime) -> ExposureCount:
        rows = [
            (yes, no)
            for env, name, _, received, yes, no, _ in self._t.exposures
            if env == environment_id and name == flag and received >= utc(since)
        ]
        return ExposureCount(sum(y for y, _ in rows), sum(n for _, n in rows), {})
