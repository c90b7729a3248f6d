"""What one environment's snapshot is made of, read in one go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shipwise.server.ports.flags import FlagConfig, FlagRecord
from shipwise.server.ports.projects import Environment, Project
from shipwise.server.ports.segments import SegmentRecord


@dataclass(frozen=True, slots=True)
class EnvironmentState:
    """Everything one environment's snapshot is made of."""

    environment: Environment
    project: Project
    flags: Sequence[tuple[FlagRecord, FlagConfig]]
    segments: Sequence[SegmentRecord]


class SnapshotStore(Protocol):
    def environment_state(self, environment_id: int) -> EnvironmentState | None:
        """The environment, its project, its unarchived configured flags (by key) and
        the project's segments; None for an unknown environment."""
        ...
