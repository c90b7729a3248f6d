"""Change requests and GitHub deliveries, in memory."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from shipwise.domain.change_requests import ChangeRequest, RequestKind, RequestState, Review
from shipwise.server.ports.deliveries import GitHubDelivery
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import as_json, utc


def _review(review: Review) -> Review:
    return replace(review, at=utc(review.at))


class RequestQueries(MemoryBase):
    # -- change requests ----------------------------------------------------------------

    def _request_row(
        self, project_id: int, request: ChangeRequest, request_id: int
    ) -> ChangeRequest:
        return replace(
            request,
            id=request_id,
            project=self._t.projects[project_id].key,
            change=as_json(dict(request.change)),
            before=as_json(dict(request.before)),
            created_at=utc(request.created_at),
            updated_at=utc(request.updated_at or request.created_at),
            reviews=tuple(_review(r) for r in request.reviews),
        )

    def add_change_request(self, project_id: int, request: ChangeRequest) -> ChangeRequest:
        stored = self._request_row(project_id, request, self._t.next_id("change_requests"))
        self._t.change_requests[stored.id] = (project_id, stored)
        return stored

    def get_change_request(
        self, project_id: int, request_id: int, *, for_update: bool = False
    ) -> ChangeRequest | None:
        found = self._t.change_requests.get(request_id)
        return None if found is None or found[0] != project_id else found[1]

    def save_change_request(self, request: ChangeRequest) -> ChangeRequest:
        # Only what changes over a request's life is saved, as in the SQL store.
        project_id, stored = self._t.change_requests[request.id]
        saved = replace(
            stored,
            state=request.state,
            reviews=tuple(_review(r) for r in request.reviews),
            closed_reason=request.closed_reason,
            applied_version=request.applied_version,
            updated_at=stored.updated_at if request.updated_at is None else utc(request.updated_at),
        )
        self._t.change_requests[request.id] = (project_id, saved)
        return saved

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
        newest_first = [
            request
            for project, request in reversed(self._t.change_requests.values())
            if project == project_id
            and (not states or request.state in states)
            and (kind is None or request.kind is kind)
            and (target is None or request.target == target)
            and (environment is None or request.environment == environment)
        ]
        return newest_first[: max(limit, 0)]

    # -- GitHub deliveries --------------------------------------------------------------

    def claim_delivery(self, project_id: int, delivery: GitHubDelivery) -> GitHubDelivery | None:
        # One writer at a time: a project's claims are already in arrival order.
        earlier = next(
            (
                d
                for project, d in self._t.deliveries.values()
                if project == project_id
                and (d.delivery == delivery.delivery or d.body_sha256 == delivery.body_sha256)
            ),
            None,
        )
        if earlier is not None:
            return earlier
        claimed = replace(
            delivery,
            received_at=utc(delivery.received_at),
            applied=tuple(delivery.applied),
            skipped=tuple(delivery.skipped),
        )
        self._t.deliveries[self._t.next_id("deliveries")] = (project_id, claimed)
        return None

    def settle_delivery(
        self, project_id: int, delivery: str, applied: Sequence[str], skipped: Sequence[str]
    ) -> None:
        for delivery_id, (project, d) in self._t.deliveries.items():
            if project == project_id and d.delivery == delivery:
                settled = replace(d, applied=tuple(applied), skipped=tuple(skipped))
                self._t.deliveries[delivery_id] = (project, settled)

    def forget_deliveries(self, project_id: int, before: datetime) -> int:
        old = [
            delivery_id
            for delivery_id, (project, d) in self._t.deliveries.items()
            if project == project_id and d.received_at < utc(before)
        ]
        for delivery_id in old:
            del self._t.deliveries[delivery_id]
        return len(old)
