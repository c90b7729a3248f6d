"""The GitHub deliveries each project received, so a repeat changes nothing. Mixed into
``SqlTransaction``: a delivery is claimed in the same unit of work as what it changes,
so a delivery that fails (and rolls back) is not remembered and can be redelivered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipwise.server.ports import GitHubDelivery
from shipwise.server.storage.tables import GitHubDeliveryRow

# The first key of the PostgreSQL advisory lock that queues one project's deliveries (the
# second is the project's id): "SHGD". Transaction-scoped, so a crash cannot leak it.
INTAKE_LOCK = 0x5348_4744


def _delivery(row: GitHubDeliveryRow) -> GitHubDelivery:
    received = row.received_at  # naive from SQLite (stored in UTC), zoned from PostgreSQL
    return GitHubDelivery(
        delivery=row.delivery,
        event=row.event,
        body_sha256=row.body_sha256,
        received_at=received.replace(tzinfo=UTC)
        if received.tzinfo is None
        else received.astimezone(UTC),
        applied=tuple(row.applied or ()),
        skipped=tuple(row.skipped or ()),
    )


class DeliveryQueries:
    session: Session

    def claim_delivery(self, project_id: int, delivery: GitHubDelivery) -> GitHubDelivery | None:
        postgres = self.session.get_bind().dialect.name == "postgresql"
        if postgres:
            # One delivery of a project at a time, in arrival order: the check below, and
            # the intake's "is this status newer than the recorded one", then see every
            # delivery committed before. (SQLite has a single writer already.)
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:kind AS integer), CAST(:id AS integer))"),
                {"kind": INTAKE_LOCK, "id": project_id},
            )
        earlier = self._earlier(project_id, delivery)
        if earlier is not None:
            return earlier
        values = {
            "project_id": project_id,
            "delivery": delivery.delivery,
            "event": delivery.event,
            "body_sha256": delivery.body_sha256,
            "received_at": delivery.received_at,
            "applied": list(delivery.applied),
            "skipped": list(delivery.skipped),
        }
        dialect_insert = postgresql.insert if postgres else sqlite.insert
        # The unique keys are the last word should two claims ever race past the lock.
        inserted = self.session.execute(
            dialect_insert(GitHubDeliveryRow).values(**values).on_conflict_do_nothing()
        )
        if inserted.rowcount == 0:  # type: ignore[attr-defined]
            return self._earlier(project_id, delivery)
        return None

    def _earlier(self, project_id: int, delivery: GitHubDelivery) -> GitHubDelivery | None:
        row = self.session.scalar(
            select(GitHubDeliveryRow)
            .where(
                GitHubDeliveryRow.project_id == project_id,
                or_(
                    GitHubDeliveryRow.delivery == delivery.delivery,
                    GitHubDeliveryRow.body_sha256 == delivery.body_sha256,
                ),
            )
            .order_by(GitHubDeliveryRow.id)
            .limit(1)
        )
        return None if row is None else _delivery(row)

    def settle_delivery(
        self, project_id: int, delivery: str, applied: Sequence[str], skipped: Sequence[str]
    ) -> None:
        self.session.execute(
            update(GitHubDeliveryRow)
            .where(
                GitHubDeliveryRow.project_id == project_id,
                GitHubDeliveryRow.delivery == delivery,
            )
            .values(applied=list(applied), skipped=list(skipped))
        )

    def forget_deliveries(self, project_id: int, before: datetime) -> int:
        result = self.session.execute(
            delete(GitHubDeliveryRow).where(
                GitHubDeliveryRow.project_id == project_id,
                GitHubDeliveryRow.received_at < before,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
