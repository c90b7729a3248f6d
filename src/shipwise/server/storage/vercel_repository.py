"""Vercel drain records and deployment links: rows in, numbers out. Mixed into
``SqlTransaction``. Every read is plain SQL both SQLite and PostgreSQL run the same way
(a count, then one row by ``ORDER BY value LIMIT 1 OFFSET k`` for a percentile), so the
guardrail sees the same number on either database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from shipwise.domain.nearest_rank import nearest_rank
from shipwise.server.ports.vercel import (
    REQUEST,
    DrainQuery,
    DrainRecord,
    Moments,
    VercelDeployment,
)
from shipwise.server.storage.timestamps import utc
from shipwise.server.storage.vercel_tables import DrainRecordRow, VercelDeploymentRow


def _matching(query: DrainQuery, *columns: Any) -> Select[Any]:
    statement = select(*columns).where(
        DrainRecordRow.project_id == query.project_id,
        DrainRecordRow.kind == query.kind,
        DrainRecordRow.name == query.name,
        DrainRecordRow.at >= utc(query.since),
        DrainRecordRow.at < utc(query.until),
    )
    if query.route is not None:
        statement = statement.where(DrainRecordRow.route == query.route)
    if query.environment is not None:
        statement = statement.where(DrainRecordRow.environment == query.environment)
    if query.deployments is not None:
        statement = statement.where(DrainRecordRow.deployment.in_(query.deployments))
    return statement


class VercelQueries:
    session: Session
    _now: Callable[[], datetime]

    def add_drain_records(
        self, project_id: int, records: Sequence[DrainRecord], received_at: datetime
    ) -> int:
        self.session.add_all(
            DrainRecordRow(
                project_id=project_id,
                kind=r.kind,
                name=r.name,
                at=utc(r.at),
                value=r.value,
                status=r.status,
                route=r.route,
                deployment=r.deployment,
                environment=r.environment,
                received_at=utc(received_at),
            )
            for r in records
        )
        self.session.flush()
        return len(records)

    def drain_percentile(self, query: DrainQuery, quantile: float) -> tuple[float | None, int]:
        valued = _matching(query, func.count(DrainRecordRow.id)).where(
            DrainRecordRow.value.is_not(None)
        )
        count = int(self.session.scalar(valued) or 0)
        if count == 0:
            return None, 0
        value = self.session.scalar(
            _matching(query, DrainRecordRow.value)
            .where(DrainRecordRow.value.is_not(None))
            .order_by(DrainRecordRow.value)
            .limit(1)
            .offset(nearest_rank(count, quantile))
        )
        return (None if value is None else float(value)), count

    def drain_moments(self, query: DrainQuery) -> Moments:
        value = DrainRecordRow.value
        count, total, total_sq = self.session.execute(
            _matching(query, func.count(value), func.sum(value), func.sum(value * value))
        ).one()
        return Moments(int(count or 0), float(total or 0.0), float(total_sq or 0.0))

    def drain_counts(self, query: DrainQuery) -> tuple[int, int]:
        counted = _matching(query, func.count(DrainRecordRow.id))
        if query.kind != REQUEST:
            return int(self.session.scalar(counted) or 0), 0
        # A request without a status (a span that carries none) is no answer to share:
        # it is left out of both numbers, or it would dilute the 5xx share.
        answered = counted.where(DrainRecordRow.status.is_not(None))
        count = int(self.session.scalar(answered) or 0)
        if count == 0:
            return 0, 0
        failed = self.session.scalar(
            answered.where(DrainRecordRow.status >= 500, DrainRecordRow.status < 600)
        )
        return count, int(failed or 0)

    def prune_drain_records(self, before: datetime, limit: int | None = None) -> int:
        """Deletes records that happened before ``before``, at most ``limit`` of them
        (the oldest first) so that a caller can prune a backlog in short transactions."""
        doomed = select(DrainRecordRow.id).where(DrainRecordRow.at < utc(before))
        if limit is not None:
            doomed = doomed.order_by(DrainRecordRow.at).limit(limit)
        ids = list(self.session.scalars(doomed))
        if not ids:
            return 0
        self.session.execute(
            delete(DrainRecordRow)
            .where(DrainRecordRow.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        return len(ids)

    def link_vercel_deployment(self, link: VercelDeployment) -> None:
        """Ties the deployment to its environment and commit; a deployment linked again
        (a deploy reported twice) keeps the latest report."""
        row = self.session.scalar(
            select(VercelDeploymentRow).where(
                VercelDeploymentRow.project_id == link.project_id,
                VercelDeploymentRow.deployment == link.deployment,
            )
        )
        if row is None:
            row = VercelDeploymentRow(project_id=link.project_id, deployment=link.deployment)
            self.session.add(row)
        row.environment = link.environment
        row.commit = link.commit
        row.at = utc(link.at)
        self.session.flush()

    def vercel_deployments(self, project_id: int, environment: str, commit: str) -> tuple[str, ...]:
        rows = self.session.scalars(
            select(VercelDeploymentRow.deployment)
            .where(
                VercelDeploymentRow.project_id == project_id,
                VercelDeploymentRow.environment == environment,
                VercelDeploymentRow.commit == commit,
            )
            .order_by(VercelDeploymentRow.at, VercelDeploymentRow.id)
        )
        return tuple(rows)
