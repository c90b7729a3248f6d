"""Segments: named constraint sets shared by a project's flags (e.g. "beta-testers")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipwise.domain.access import Action
from shipwise.engine import SnapshotError, load_segment
from shipwise.server.ports import SegmentRecord, Store
from shipwise.server.services._common import audit, check_key, project_or_404
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.principal import Principal


def _validate(constraints: Sequence[Any]) -> None:
    try:
        load_segment({"id": 0, "constraints": list(constraints)})
    except SnapshotError as error:
        raise Invalid(f"{error.field}: {error.problem}", field=error.field) from None


class SegmentService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def save(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None = None,
        expected_version: int | None = None,
        create_only: bool = False,
    ) -> SegmentRecord:
        check_key(name, "name")
        _validate(constraints)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            current = tx.get_segment(project.id, name)
            if current is not None and create_only:
                raise Conflict(f"segment {name!r} already exists in project {project_key!r}")
            if expected_version is not None:
                found = 0 if current is None else current.version
                if found != expected_version:
                    raise Conflict(
                        f"segment {name!r} is at version {found}, not {expected_version}: "
                        "read it again and retry"
                    )
            saved = tx.save_segment(project.id, name, description, list(constraints))
            # A segment can change any flag's answer in any environment of the project.
            tx.touch([e.id for e in tx.list_environments(project.id)])
            audit(
                tx,
                principal,
                "segment.save",
                "segment",
                name,
                project=project_key,
                before=None if current is None else {"constraints": current.constraints},
                after={
                    "id": saved.id,
                    "description": description,
                    "constraints": saved.constraints,
                },
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
