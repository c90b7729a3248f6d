"""Segments: named constraint sets shared by a project's flags (e.g. "beta-testers").

Flags refer to a segment by its id, so a change to its constraints changes every flag
that uses it, in every environment of the project: each save bumps them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipwise.domain.access import Action
from shipwise.server.ports import SegmentRecord, Store
from shipwise.server.services._common import audit, check_key, creating, project_or_404
from shipwise.server.services.errors import Conflict, NotFound
from shipwise.server.services.principal import Principal
from shipwise.server.services.rules import check_constraints


def _segment_dict(segment: SegmentRecord) -> dict[str, Any]:
    return {
        "id": segment.id,
        "description": segment.description,
        "constraints": segment.constraints,
        "version": segment.version,
    }


class SegmentService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None = None,
    ) -> SegmentRecord:
        return self.save(principal, project_key, name, constraints, description, create_only=True)

    def update(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None,
        expected_version: int,
    ) -> SegmentRecord:
        """Replace an existing segment; ``expected_version`` (If-Match) must be current."""
        return self.save(
            principal,
            project_key,
            name,
            constraints,
            description,
            expected_version=expected_version,
            must_exist=True,
        )

    def save(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None = None,
        expected_version: int | None = None,
        create_only: bool = False,
        must_exist: bool = False,
    ) -> SegmentRecord:
        check_key(name, "name")
        check_constraints(constraints)
        with creating(self._store, "name") as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            current = tx.get_segment(project.id, name, for_update=True)
            if current is not None and create_only:
                raise Conflict(
                    f"segment {name!r} already exists in project {project_key!r}", field="name"
                )
            if current is None and must_exist:
                raise NotFound(f"no segment {name!r} in project {project_key!r}")
            if expected_version is not None:
                found = 0 if current is None else current.version
                if found != expected_version:
                    raise Conflict(
                        f"segment {name!r} is at version {found}, not {expected_version}: "
                        "someone changed it; read it again and retry",
                        field="If-Match",
                    )
            saved = tx.save_segment(project.id, name, description, list(constraints))
            # A segment can change any flag's answer in any environment of the project.
            tx.touch([e.id for e in tx.list_environments(project.id)])
            audit(
                tx,
                principal,
                "segment.create" if current is None else "segment.update",
                "segment",
                name,
                project=project_key,
                before=None if current is None else _segment_dict(current),
                after=_segment_dict(saved),
            )
        return saved

    def all(self, principal: Principal, project_key: str) -> list[SegmentRecord]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.list_segments(project.id)

    def get(self, principal: Principal, project_key: str, name: str) -> SegmentRecord:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            segment = tx.get_segment(project.id, name)
            if segment is None:
                raise NotFound(f"no segment {name!r} in project {project_key!r}")
            return segment
