"""Which events go to which channel, as rows, and the dedupe keys already queued.

A subscription belongs to one channel (it goes when the channel does). ``claim_dedupe``
is how one event becomes at most one message per destination: the first claim of a
key wins, every later one (a runner restarted, an event announced again) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: int
    project_id: int
    channel_id: int
    events: tuple[str, ...]  # kinds or families (``rollout.*``), as ``domain.events``
    environments: tuple[str, ...]  # empty: any
    flags: tuple[str, ...]
    release_kinds: tuple[str, ...]
    min_severity: str  # info, warning, critical
    created_by: str
    created_at: datetime
    # "daily": the channel gets the events this subscription hears as one message a day,
    # at ``digest_at`` (HH:MM) in the policy's time zone; None: each event at once.
    digest: str | None = None
    digest_at: str | None = None


class SubscriptionStore(Protocol):
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
        """Stamped by the store's clock."""
        ...

    def list_subscriptions(self, project_id: int) -> list[SubscriptionRecord]:
        """The project's subscriptions, in the order they were added."""
        ...

    def remove_subscription(self, subscription_id: int) -> bool:
        """False when there was none."""
        ...

    def claim_dedupe(self, destination: str, key: str) -> bool:
        """True the first time ``key`` is claimed for ``destination`` (queue it); False
        when it was before, in this unit of work or a committed one."""
        ...
