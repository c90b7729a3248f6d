"""Vercel drain records and deployment links, in memory: the same numbers as the SQL
store (nearest-rank percentiles, sums, counts of 5xx answers)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from shipwise.domain.nearest_rank import nearest_rank
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc
from shipwise.server.ports.vercel import (
    REQUEST,
    DrainQuery,
    DrainRecord,
    Moments,
    VercelDeployment,
)


def _matches(query: DrainQuery, project_id: int, record: DrainRecord) -> bool:
    return (
        project_id == query.project_id
        and record.kind == query.kind
        and record.name == query.name
        and utc(query.since) <= record.at < utc(query.until)
        and (query.route is None or record.route == query.route)
        and (query.environment is None or record.environment == query.environment)
        and (query.deployments is None or record.deployment in query.deployments)
    )


class VercelQueries(MemoryBase):
    def _matching(self, query: DrainQuery) -> Iterator[DrainRecord]:
        return (r for p, r, _ in self._t.drain_records if _matches(query, p, r))

    def add_drain_records(
        self, project_id: int, records: Sequence[DrainRecord], received_at: datetime
    ) -> int:
        for record in records:
            stored = DrainRecord(
                record.kind,
                utc(record.at),
                record.name,
                record.value,
                record.status,
                record.route,
                record.deployment,
                record.environment,
            )
            self._t.drain_records.append((project_id, stored, utc(received_at)))
        return len(records)

    def drain_percentile(self, query: DrainQuery, quantile: float) -> tuple[float | None, int]:
        values = sorted(r.value for r in self._matching(query) if r.value is not None)
        if not values:
            return None, 0
        return values[nearest_rank(len(values), quantile)], len(values)

    def drain_moments(self, query: DrainQuery) -> Moments:
        values = [r.value for r in self._matching(query) if r.value is not None]
        return Moments(len(values), sum(values), sum(v * v for v in values))

    def drain_counts(self, query: DrainQuery) -> tuple[int, int]:
        records = list(self._matching(query))
        if query.kind != REQUEST:
            return len(records), 0
        # As the SQL store: a request without a status is in neither number.
        records = [r for r in records if r.status is not None]
        failed = sum(1 for r in records if r.status is not None and 500 <= r.status < 600)
        return len(records), failed

    def prune_drain_records(self, before: datetime, limit: int | None = None) -> int:
        cutoff = utc(before)
        old = sorted(
            (i for i, (_, r, _) in enumerate(self._t.drain_records) if r.at < cutoff),
            key=lambda i: self._t.drain_records[i][1].at,
        )
        doomed = set(old if limit is None else old[:limit])
        self._t.drain_records = [
            row for i, row in enumerate(self._t.drain_records) if i not in doomed
        ]
        return len(doomed)

    def link_vercel_deployment(self, link: VercelDeployment) -> None:
        self._t.vercel_deployments[(link.project_id, link.deployment)] = VercelDeployment(
            link.project_id, link.deployment, link.environment, link.commit, utc(link.at)
        )

    def vercel_deployments(self, project_id: int, environment: str, commit: str) -> tuple[str, ...]:
        links = [
            link
            for (p, _), link in self._t.vercel_deployments.items()
            if p == project_id and link.environment == environment and link.commit == commit
        ]
        return tuple(link.deployment for link in sorted(links, key=lambda link: link.at))
