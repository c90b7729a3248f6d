"""Projects and their environments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    key: str
    name: str
    timezone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Environment:
    id: int
    project_id: int
    key: str
    name: str
    branch: str
    position: int
    revision: int


class ProjectStore(Protocol):
    """Projects (by key) and their environments (in promotion order)."""

    def get_project(self, key: str) -> Project | None: ...
    def list_projects(self) -> list[Project]: ...
    def add_project(self, key: str, name: str, timezone: str) -> Project:
        """Raises ``KeyTaken`` when the key is in use."""
        ...

    def list_environments(self, project_id: int) -> list[Environment]: ...
    def get_environment(self, project_id: int, key: str) -> Environment | None: ...
    def get_environment_by_id(self, environment_id: int) -> Environment | None: ...
    def add_environment(
        self, project_id: int, key: str, name: str, branch: str, position: int
    ) -> Environment:
        """Raises ``KeyTaken`` when the project has an environment with that key."""
        ...
