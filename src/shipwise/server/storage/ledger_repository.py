"""Tokens, the hash-chained audit log and SDK exposures: rows in, records out. Mixed
into ``SqlTransaction``, so a change and its audit record commit together."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipwise.domain.audit import ChainedRecord, record_hash
from shipwise.server.ports import (
    AuditEntry,
    AuditFilter,
    AuditRecord,
    ExposureCount,
    TokenRecord,
)
from shipwise.server.storage.tables import AuditRow, ChainHeadRow, ExposureRow, TokenRow
from shipwise.server.storage.timestamps import utc, utc_or_none


def _token(row: TokenRow) -> TokenRecord:
    return TokenRecord(
        row.id,
        row.name,
        row.kind,
        row.role,
        row.project_id,
        row.environment_id,
        row.prefix,
        row.created_by,
        utc(row.created_at),
        utc_or_none(row.expires_at),
        utc_or_none(row.revoked_at),
    )


def audit_fields(row: AuditRow) -> dict[str, Any]:
    """What a record's hash covers: everything but the hashes themselves."""
    return {
        "id": row.id,
        "at": utc(row.at).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "project": row.project,
        "environment": row.environment,
        "target_type": row.target_type,
        "target_key": row.target_key,
        "before": row.before,
        "after": row.after,
        "reason": row.reason,
    }


def _audit(row: AuditRow) -> AuditRecord:
    entry = AuditEntry(
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_key=row.target_key,
        project=row.project,
        environment=row.environment,
        before=row.before,
        after=row.after,
        reason=row.reason,
    )
    return AuditRecord(row.id, utc(row.at), entry, row.previous_hash, row.hash)


class LedgerQueries:
    session: Session
    _now: Callable[[], datetime]

    # -- tokens ---------------------------------------------------------------------

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
        row = TokenRow(
            name=name,
            kind=kind,
            role=role,
            project_id=project_id,
            environment_id=environment_id,
            secret_hash=secret_hash,
            prefix=prefix,
            created_by=created_by,
            created_at=self._now(),
            expires_at=expires_at,
        )
        self.session.add(row)
        self.session.flush()
        return _token(row)

    def find_token(self, secret_hash: str) -> TokenRecord | None:
        row = self.session.scalar(select(TokenRow).where(TokenRow.secret_hash == secret_hash))
        return None if row is None else _token(row)

    def list_tokens(self, project_id: int | None) -> list[TokenRecord]:
        query = select(TokenRow).order_by(TokenRow.id)
        if project_id is not None:
            query = query.where(TokenRow.project_id == project_id)
        return [_token(r) for r in self.session.scalars(query)]

    def get_token(self, token_id: int) -> TokenRecord | None:
        row = self.session.get(TokenRow, token_id)
        return None if row is None else _token(row)

    def revoke_token(self, token_id: int, at: datetime) -> TokenRecord:
        row = self.session.get_one(TokenRow, token_id)
        row.revoked_at = at
        self.session.flush()
        return _token(row)

    def count_tokens(self) -> int:
        return len(self.session.scalars(select(TokenRow.id)).all())

    # -- audit ----------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditRecord:
        # Locking the head row orders appends across instances (PostgreSQL row lock;
        # SQLite has one writer already).
        head = self.session.scalars(
            select(ChainHeadRow).where(ChainHeadRow.id == 1).with_for_update()
        ).one()  # created by the first migration
        row = AuditRow(
            at=self._now(),
            actor=entry.actor,
            action=entry.action,
            project=entry.project,
            environment=entry.environment,
            target_type=entry.target_type,
            target_key=entry.target_key,
            before=None if entry.before is None else dict(entry.before),
            after=None if entry.after is None else dict(entry.after),
            reason=entry.reason,
            previous_hash=head.last_hash,
            hash="",
        )
        self.session.add(row)
        self.session.flush()  # assigns the id the hash covers
        row.hash = record_hash(row.previous_hash, audit_fields(row))
        head.last_hash = row.hash
        self.session.flush()
        return _audit(row)

    def list_audit(self, query: AuditFilter) -> list[AuditRecord]:
        statement = select(AuditRow).order_by(AuditRow.id.desc()).limit(query.limit)
        if query.project is not None:
            statement = statement.where(AuditRow.project == query.project)
        if query.target_type is not None:
            statement = statement.where(AuditRow.target_type == query.target_type)
        if query.target_key is not None:
            statement = statement.where(AuditRow.target_key == query.target_key)
        if query.before_id is not None:
            statement = statement.where(AuditRow.id < query.before_id)
        if query.after_id is not None:
            statement = statement.where(AuditRow.id > query.after_id)
        if query.environment is not None:
            statement = statement.where(AuditRow.environment == query.environment)
        if query.action is not None:
            family = query.action.removesuffix("*")
            statement = statement.where(
                AuditRow.action.startswith(family, autoescape=True)
                if family != query.action
                else AuditRow.action == query.action
            )
        if query.actor is not None:
            statement = statement.where(AuditRow.actor.icontains(query.actor, autoescape=True))
        # SQLite keeps datetimes without their zone: compare in UTC, as they were stored.
        if query.since is not None:
            statement = statement.where(AuditRow.at >= utc(query.since))
        if query.until is not None:
            statement = statement.where(AuditRow.at < utc(query.until))
        return [_audit(r) for r in self.session.scalars(statement)]

    def iter_audit(self) -> Iterator[AuditRecord]:
        for row in self.session.scalars(select(AuditRow).order_by(AuditRow.id)).yield_per(500):
            yield _audit(row)

    def audit_chain_head(self) -> str | None:
        return self.session.scalar(select(ChainHeadRow.last_hash).where(ChainHeadRow.id == 1))

    def iter_audit_chain(self) -> Iterator[ChainedRecord]:
        for row in self.session.scalars(select(AuditRow).order_by(AuditRow.id)).yield_per(500):
            yield ChainedRecord(row.id, row.previous_hash, row.hash, audit_fields(row))

    # -- metrics --------------------------------------------------------------------

    def add_exposures(
        self, environment_id: int, app_name: str | None, counts: Mapping[str, ExposureCount]
    ) -> int:
        now = self._now()
        rows = [
            ExposureRow(
                environment_id=environment_id,
                flag=flag,
                app_name=app_name,
                received_at=now,
                yes=count.yes,
                no=count.no,
                variants=dict(count.variants),
            )
            for flag, count in counts.items()
        ]
        self.session.add_all(rows)
        self.session.flush()
        return len(rows)

    def exposure_totals(self, environment_id: int) -> dict[str, ExposureCount]:
        totals: dict[str, ExposureCount] = {}
        rows = self.session.scalars(
            select(ExposureRow).where(ExposureRow.environment_id == environment_id)
        )
        for row in rows:
            previous = totals.get(row.flag, ExposureCount(0, 0, {}))
            variants = dict(previous.variants)
            for name, count in (row.variants or {}).items():
                variants[name] = variants.get(name, 0) + int(count)
            totals[row.flag] = ExposureCount(previous.yes + row.yes, previous.no + row.no, variants)
        return totals
