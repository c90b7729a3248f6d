"""Notification subscriptions and the dedupe keys already queued: rows in, records out.
Mixed into ``SqlTransaction``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipwise.server.ports import SubscriptionRecord
from shipwise.server.storage.communication_tables import DedupeRow, SubscriptionRow
from shipwise.server.storage.timestamps import utc


def _subscription(row: SubscriptionRow) -> SubscriptionRecord:
    return SubscriptionRecord(
        row.id,
        row.project_id,
        row.channel_id,
        tuple(row.events),
        tuple(row.environments),
        tuple(row.flags),
        tuple(row.release_kinds),
        row.min_severity,
        row.created_by,
        utc(row.created_at),
        row.digest,
        row.digest_at,
    )


class SubscriptionQueries:
    session: Session
    _now: Callable[[], datetime]

    def add_subscription(
        self,
        *,
        project_id: int,
        channel_id: int,
        events: tuple[str, ...],
        environments: tuple[str, ...],
        flags: tuple[str, ...],
        release_kinds: tuple[str, ...],
        min_severity: str,
        created_by: str,
        digest: str | None = None,
        digest_at: str | None = None,
    ) -> SubscriptionRecord:
        row = SubscriptionRow(
            project_id=project_id,
            channel_id=channel_id,
            events=list(events),
            environments=list(environments),
            flags=list(flags),
            release_kinds=list(release_kinds),
            min_severity=min_severity,
            created_by=created_by,
            created_at=self._now(),
            digest=digest,
            digest_at=digest_at,
        )
        self.session.add(row)
        self.session.flush()
        return _subscription(row)

    def list_subscriptions(self, project_id: int) -> list[SubscriptionRecord]:
        rows = self.session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.project_id == project_id)
            .order_by(SubscriptionRow.id)
        )
        return [_subscription(row) for row in rows]

    def remove_subscription(self, subscription_id: int) -> bool:
        result = self.session.execute(
            delete(SubscriptionRow).where(SubscriptionRow.id == subscription_id)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def claim_dedupe(self, destination: str, key: str) -> bool:
        # ON CONFLICT DO NOTHING, not a read then an insert: two writers announcing the
        # same event at once must not fail the second one's whole unit of work (its
        # promotion, its rollback) on the primary key; on PostgreSQL the second insert
        # waits for the first writer's commit, then inserts nothing. RETURNING says
        # whether this insert took the key (psycopg reports no rowcount here).
        values = {"destination": destination, "key": key[:400], "created_at": self._now()}
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        claimed = self.session.execute(
            insert(DedupeRow).values(**values).on_conflict_do_nothing().returning(DedupeRow.key)
        )
        return claimed.first() is not None
