"""Flags, their rules in each environment, and the revision bump that publishes them."""

from __future__ import annotations

import string
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


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True, slots=True)
class FlagQuery:
    """Which of a project's flags a listing reads; each field set narrows it, ``None``
    leaves it open. The store filters (so a page of a long table reads only its rows)."""

    archived: bool | None = False
    tag: str | None = None
    kind: str | None = None
    owner: str | None = None
    search: str | None = None  # a part of the key, in any case
    enabled: bool | None = None  # on in some environment (True), or in none (False)
    keys: frozenset[str] | None = None  # only flags with one of these keys

    @property
    def folded_search(self) -> str | None:
        """``search`` with A-Z lowered and nothing else: keys are ASCII, and every store
        lowers them alike, where databases lower other letters each their own way."""
        return None if self.search is None else self.search.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class FlagPage:
    flags: list[FlagRecord]  # in key order, from the offset, at most the limit
    total: int  # every flag the query matches


@dataclass(frozen=True, slots=True)
class FlagFacets:
    """What a project's flags are labelled with, to offer as filters: sorted, distinct."""

    tags: list[str]
    owners: list[str]


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

    def find_flags(
        self, project_id: int, query: FlagQuery, *, offset: int = 0, limit: int | None = None
    ) -> FlagPage:
        """The flags ``query`` matches, in key order, ``limit`` of them from ``offset``
        (all without one), and how many match in all: two reads whatever the page."""
        ...

    def configs_for_flags(self, flag_ids: Sequence[int]) -> list[FlagConfig]:
        """Every configuration of these flags, in one read (a page of the table)."""
        ...

    def flag_facets(self, project_id: int) -> FlagFacets: ...
    def save_config(self, config: FlagConfig) -> FlagConfig:
        """Insert, or replace and bump the version. The caller checked the version."""
        ...

    def touch(self, environment_ids: Sequence[int]) -> list[Change]:
        """Bump the revision of each environment; published once the transaction commits."""
        ...
