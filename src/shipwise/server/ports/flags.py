"""Flags, their rules in each environment, and the revision bump that publishes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shipwise.server.ports.bus import Change


@dataclass(frozen=True, slots=True)
class FlagRecord:
    id: int
    project_id: int
    key: str
    kind: str
    owner: str | None
    description: str | None
    tags: tuple[str, ...]
    created_at: datetime
    archived: bool = False


@dataclass(frozen=True, slots=True)
class FlagConfig:
    """A flag's rules in one environment, as JSON in the engine's (Unleash) shapes."""

    flag_id: int
    environment_id: int
    enabled: bool
    strategies: list[Any]
    variants: list[Any]
    dependencies: list[Any]
    version: int
    updated_at: datetime

    def rules(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "strategies": self.strategies,
            "variants": self.variants,
            "dependencies": self.dependencies,
        }


class FlagStore(Protocol):
    """A project's flags (by key), their per-environment configuration, and ``touch``."""

    def list_flags(self, project_id: int) -> list[FlagRecord]: ...
    def get_flag(self, project_id: int, key: str) -> FlagRecord | None: ...
    def add_flag(
        self,
        project_id: int,
        key: str,
        kind: str,
        owner: str | None,
        description: str | None,
        tags: Sequence[str],
    ) -> FlagRecord:
        """Raises ``KeyTaken`` when the project has a flag with that key."""
        ...

    def update_flag(self, flag: FlagRecord) -> FlagRecord: ...
    def get_config(
        self, flag_id: int, environment_id: int, *, for_update: bool = False
    ) -> FlagConfig | None:
        """``for_update`` locks the row until the transaction ends (a version check)."""
        ...

    def configs_for_flag(self, flag_id: int) -> list[FlagConfig]: ...
    def configs_for_project(self, project_id: int) -> list[FlagConfig]:
        """Every configuration of every flag of the project, in one read (a table of all
        flags would otherwise cost a query per flag)."""
        ...

    def save_config(self, config: FlagConfig) -> FlagConfig:
        """Insert, or replace and bump the version. The caller checked the version."""
        ...

    def touch(self, environment_ids: Sequence[int]) -> list[Change]:
        """Bump the revision of each environment; published once the transaction commits."""
        ...
