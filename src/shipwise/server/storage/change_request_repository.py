"""Change requests: rows in, ``domain.change_requests`` values out. Mixed into
``SqlTransaction``, so a request's transition commits with the change it applies and its
audit record, or not at all."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipwise.domain.change_requests import (
    ChangeRequest,
    RequestKind,
    RequestState,
    Review,
)
from shipwise.server.storage.tables import ChangeRequestRow, ProjectRow


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _review_row(review: Review) -> dict[str, Any]:
    return {
        "person": review.person,
        "approved": review.approved,
        "at": _utc(review.at).isoformat(),
        "comment": review.comment,
    }


def _review(row: dict[str, Any]) -> Review:
    return Review(
        person=str(row["person"]),
        approved=bool(row["approved"]),
        at=_utc(datetime.fromisoformat(str(row["at"]))),
        comment=row.get("comment"),
    )


class ChangeRequestQueries:
    session: Session

    def _change_request(self, row: ChangeRequestRow) -> ChangeRequest:
        project = self.session.get_one(ProjectRow, row.project_id)
        return ChangeRequest(
            id=row.id,
            project=project.key,
            kind=RequestKind(row.kind),
            target=row.target,
            environment=row.environment,
            base_version=row.base_version,
            change=dict(row.change or {}),
            before=dict(row.before or {}),
            requested_by=row.requested_by,
            created_at=_utc(row.created_at),
            reason=row.reason,
            state=RequestState(row.state),
            reviews=tuple(_review(r) for r in row.reviews or ()),
            closed_reason=row.closed_reason,
            updated_at=_utc(row.updated_at),
            applied_version=row.applied_version,
        )

    def add_change_request(self, project_id: int, request: ChangeRequest) -> ChangeRequest:
        row = ChangeRequestRow(
            project_id=project_id,
            kind=request.kind.value,
            target=request.target,
            environment=request.environment,
            base_version=request.base_version,
            change=dict(request.change),
            before=dict(request.before),
            reason=request.reason,
            requested_by=request.requested_by,
            state=request.state.value,
            reviews=[_review_row(r) for r in request.reviews],
            closed_reason=request.closed_reason,
            applied_version=request.applied_version,
            created_at=request.created_at,
            updated_at=request.updated_at or request.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return self._change_request(row)

    def get_change_request(
        self, project_id: int, request_id: int, *, for_update: bool = False
    ) -> ChangeRequest | None:
        statement = select(ChangeRequestRow).where(
            ChangeRequestRow.project_id == project_id, ChangeRequestRow.id == request_id
        )
        if for_update:
            statement = statement.with_for_update()
        row = self.session.scalar(statement)
        return None if row is None else self._change_request(row)

    def save_change_request(self, request: ChangeRequest) -> ChangeRequest:
        row = self.session.get_one(ChangeRequestRow, request.id)
        row.state = request.state.value
        row.reviews = [_review_row(r) for r in request.reviews]
        row.closed_reason = request.closed_reason
        row.applied_version = request.applied_version
        row.updated_at = request.updated_at or row.updated_at
        self.session.flush()
        return self._change_request(row)

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
        statement = select(ChangeRequestRow).where(ChangeRequestRow.project_id == project_id)
        if states:
            statement = statement.where(ChangeRequestRow.state.in_([s.value for s in states]))
        if kind is not None:
            statement = statement.where(ChangeRequestRow.kind == kind.value)
        if target is not None:
            statement = statement.where(ChangeRequestRow.target == target)
        if environment is not None:
            statement = statement.where(ChangeRequestRow.environment == environment)
        statement = statement.order_by(ChangeRequestRow.id.desc()).limit(limit)
        if for_update:
            statement = statement.with_for_update()
        return [self._change_request(row) for row in self.session.scalars(statement)]
