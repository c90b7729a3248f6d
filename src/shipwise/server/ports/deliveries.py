"""The GitHub deliveries each project received, so a repeat is recognised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class GitHubDelivery:
    """A GitHub delivery a project received: ``delivery`` is ``X-GitHub-Delivery``,
    ``body_sha256`` the digest of the signed body."""

    delivery: str
    event: str
    body_sha256: str
    received_at: datetime
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


class GitHubDeliveryStore(Protocol):
    """The deliveries each project received, so a repeat is recognised."""

    def claim_delivery(self, project_id: int, delivery: GitHubDelivery) -> GitHubDelivery | None:
        """Record ``delivery`` as received, or return the earlier one it repeats (the same
        id or the same body). A project's deliveries are claimed one at a time: the claim
        holds until this transaction ends."""
        ...

    def settle_delivery(
        self, project_id: int, delivery: str, applied: Sequence[str], skipped: Sequence[str]
    ) -> None:
        """Keep what the claimed ``delivery`` did, for the answer to a repeat."""
        ...

    def forget_deliveries(self, project_id: int, before: datetime) -> int:
        """Drop the project's deliveries received before ``before``; how many."""
        ...
