"""Segments: named constraint lists a project's flags share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    id: int
    project_id: int
    name: str
    description: str | None
    constraints: list[Any]
    version: int
    updated_at: datetime


class SegmentStore(Protocol):
    def list_segments(self, project_id: int) -> list[SegmentRecord]: ...
    def get_segment(
        self, project_id: int, name: str, *, for_update: bool = False
    ) -> SegmentRecord | None: ...
    def save_segment(
        self,
        project_id: int,
        name: str,
        description: str | None,
        constraints: list[Any],
    ) -> SegmentRecord:
        """Insert, or replace and bump the version."""
        ...

    def delete_segment(self, project_id: int, name: str) -> bool: ...
