"""Notification subscriptions and claimed dedupe keys, in memory."""

from __future__ import annotations

from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc
from shipwise.server.ports.subscriptions import SubscriptionRecord


class SubscriptionQueries(MemoryBase):
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
        record = SubscriptionRecord(
            self._t.next_id("subscriptions"),
            project_id,
            channel_id,
            tuple(events),
            tuple(environments),
            tuple(flags),
            tuple(release_kinds),
            min_severity,
            created_by,
            utc(self._now()),
            digest,
            digest_at,
        )
        self._t.subscriptions[record.id] = record
        return record

    def list_subscriptions(self, project_id: int) -> list[SubscriptionRecord]:
        # A removed channel's subscriptions go with it, as the SQL cascade does.
        return [
            s
            for s in self._t.subscriptions.values()
            if s.project_id == project_id and s.channel_id in self._t.channels
        ]

    def remove_subscription(self, subscription_id: int) -> bool:
        record = self._t.subscriptions.pop(subscription_id, None)
        return record is not None and record.channel_id in self._t.channels

    def claim_dedupe(self, destination: str, key: str) -> bool:
        claimed = (destination, key[:400])
        if claimed in self._t.dedupe:
            return False
        self._t.dedupe.add(claimed)
        return True
