"""Change requests: proposed changes reviewed before they take effect."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from shipwise.domain.change_requests import ChangeRequest, RequestKind, RequestState


class ChangeRequestStore(Protocol):
    """Change requests: proposed changes to a flag, a segment or the policy, reviewed
    before they take effect (``domain.change_requests``)."""

    def add_change_request(self, project_id: int, request: ChangeRequest) -> ChangeRequest:
        """Store a new request (its ``id`` is ignored); the stored one, numbered."""
        ...

    def get_change_request(
        self, project_id: int, request_id: int, *, for_update: bool = False
    ) -> ChangeRequest | None: ...
    def save_change_request(self, request: ChangeRequest) -> ChangeRequest:
        """Store the new state, reviews, closing reason and applied version."""
        ...

    def list_change_requests(
        self,
        project_id: int,
        *,
        states: Collection[RequestState] = (),
        kind: RequestKind | None = None,
        target: str | None = None,
        environment: str | None = None,
        limit: int = 200,
        for_update: bool = False,
    ) -> list[ChangeRequest]:
        """Newest first; empty ``states`` means every state."""
        ...
