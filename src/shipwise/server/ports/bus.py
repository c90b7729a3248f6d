"""Carrying "environment E is now at revision R" to every server instance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Change:
    """An environment's snapshot changed: its new revision."""

    environment_id: int
    revision: int


class ChangeBus(Protocol):
    """Carries "environment E is now at revision R" to every server instance's streams,
    and "token T was revoked" to every instance's token cache and streams. Listeners
    are called in the order they subscribed."""

    def publish(self, changes: Sequence[Change]) -> None: ...
    def subscribe(self, listener: Callable[[Change], None]) -> None: ...
    def publish_revocation(self, token_id: int) -> None: ...
    def subscribe_revocations(self, listener: Callable[[int], None]) -> None: ...
    def close(self) -> None: ...
