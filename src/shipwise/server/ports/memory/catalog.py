"""Projects, environments, flags, their configs, segments and snapshots, in memory."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from shipwise.server.ports.bus import Change
from shipwise.server.ports.errors import KeyTaken
from shipwise.server.ports.flags import FlagConfig, FlagFacets, FlagPage, FlagQuery, FlagRecord
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import as_json, utc
from shipwise.server.ports.projects import Environment, Project
from shipwise.server.ports.segments import SegmentRecord
from shipwise.server.ports.snapshots import EnvironmentState


def _config(config: FlagConfig) -> FlagConfig:
    """A copy the caller may change without changing the store."""
    return replace(
        config,
        strategies=as_json(config.strategies),
        variants=as_json(config.variants),
        dependencies=as_json(config.dependencies),
    )


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _segment(segment: SegmentRecord) -> SegmentRecord:
    return replace(segment, constraints=as_json(segment.constraints))


class CatalogQueries(MemoryBase):
    # -- projects and environments ----------------------------------------------------

    def get_project(self, key: str) -> Project | None:
        return next((p for p in self._t.projects.values() if p.key == key), None)

    def list_projects(self) -> list[Project]:
        return sorted(self._t.projects.values(), key=lambda p: p.key)

    def add_project(self, key: str, name: str, timezone: str) -> Project:
        if self.get_project(key) is not None:
            raise KeyTaken(f"project {key!r}")
        project = Project(self._t.next_id("projects"), key, name, timezone, utc(self._now()))
        self._t.projects[project.id] = project
        return project

    def list_environments(self, project_id: int) -> list[Environment]:
        mine = [e for e in self._t.environments.values() if e.project_id == project_id]
        return sorted(mine, key=lambda e: e.position)

    def get_environment(self, project_id: int, key: str) -> Environment | None:
        return next(
            (
                e
                for e in self._t.environments.values()
                if e.project_id == project_id and e.key == key
            ),
            None,
        )

    def get_environment_by_id(self, environment_id: int) -> Environment | None:
        return self._t.environments.get(environment_id)

    def add_environment(
        self, project_id: int, key: str, name: str, branch: str, position: int
    ) -> Environment:
        if self.get_environment(project_id, key) is not None:
            raise KeyTaken(f"environment {key!r}")
        environment = Environment(
            self._t.next_id("environments"), project_id, key, name, branch, position, 1
        )
        self._t.environments[environment.id] = environment
        return environment

    def touch(self, environment_ids: Sequence[int]) -> list[Change]:
        if self._changes is None:
            raise RuntimeError("touch() needs a write transaction")
        changes = []
        for environment_id in sorted(set(environment_ids)):
            environment = self._t.environments[environment_id]
            bumped = replace(environment, revision=environment.revision + 1)
            self._t.environments[environment_id] = bumped
            changes.append(Change(environment_id, bumped.revision))
        self._changes.extend(changes)
        return changes

    # -- flags --------------------------------------------------------------------------

    def list_flags(self, project_id: int) -> list[FlagRecord]:
        mine = [f for f in self._t.flags.values() if f.project_id == project_id]
        return sorted(mine, key=lambda f: f.key)

    def get_flag(self, project_id: int, key: str) -> FlagRecord | None:
        return next(
            (f for f in self._t.flags.values() if f.project_id == project_id and f.key == key),
            None,
        )

    def add_flag(
        self,
        project_id: int,
        key: str,
        kind: str,
        owner: str | None,
        description: str | None,
        tags: Sequence[str],
    ) -> FlagRecord:
        if self.get_flag(project_id, key) is not None:
            raise KeyTaken(f"flag {key!r}")
        flag = FlagRecord(
            self._t.next_id("flags"),
            project_id,
            key,
            kind,
            owner,
            description,
            tuple(tags),
            utc(self._now()),
        )
        self._t.flags[flag.id] = flag
        return flag

    def update_flag(self, flag: FlagRecord) -> FlagRecord:
        stored = self._t.flags[flag.id]
        updated = replace(
            stored,
            kind=flag.kind,
            owner=flag.owner,
            description=flag.description,
            tags=tuple(flag.tags),
            archived=flag.archived,
        )
        self._t.flags[flag.id] = updated
        return updated

    def get_config(
        self, flag_id: int, environment_id: int, *, for_update: bool = False
    ) -> FlagConfig | None:
        # One writer at a time: ``for_update`` has nothing to wait for.
        config = self._t.configs.get((flag_id, environment_id))
        return None if config is None else _config(config)

    def configs_for_flag(self, flag_id: int) -> list[FlagConfig]:
        return [_config(c) for (flag, _), c in self._t.configs.items() if flag == flag_id]

    def configs_for_project(self, project_id: int) -> list[FlagConfig]:
        return [
            _config(c)
            for (flag, _), c in self._t.configs.items()
            if self._t.flags[flag].project_id == project_id
        ]

    def _matches(self, flag: FlagRecord, query: FlagQuery) -> bool:
        wanted = {"archived": query.archived, "kind": query.kind, "owner": query.owner}
        if any(value is not None and getattr(flag, k) != value for k, value in wanted.items()):
            return False
        if query.tag is not None and query.tag not in flag.tags:
            return False
        search = query.folded_search
        if search is not None and search not in flag.key.translate(_ASCII_LOWER):
            return False
        if query.keys is not None and flag.key not in query.keys:
            return False
        if query.enabled is None:
            return True
        on = any(c.enabled for (f, _), c in self._t.configs.items() if f == flag.id)
        return on == query.enabled

    def find_flags(
        self, project_id: int, query: FlagQuery, *, offset: int = 0, limit: int | None = None
    ) -> FlagPage:
        found = [f for f in self.list_flags(project_id) if self._matches(f, query)]
        end = None if limit is None else offset + limit
        return FlagPage(found[offset:end], len(found))

    def configs_for_flags(self, flag_ids: Sequence[int]) -> list[FlagConfig]:
        wanted = set(flag_ids)
        return [_config(c) for (flag, _), c in self._t.configs.items() if flag in wanted]

    def flag_facets(self, project_id: int) -> FlagFacets:
        flags = self.list_flags(project_id)
        return FlagFacets(
            tags=sorted({t for f in flags for t in f.tags}),
            owners=sorted({f.owner for f in flags if f.owner is not None}),
        )

    def save_config(self, config: FlagConfig) -> FlagConfig:
        key = (config.flag_id, config.environment_id)
        stored = self._t.configs.get(key)
        saved = FlagConfig(
            config.flag_id,
            config.environment_id,
            config.enabled,
            as_json(list(config.strategies)),
            as_json(list(config.variants)),
            as_json(list(config.dependencies)),
            1 if stored is None else stored.version + 1,
            utc(self._now()),
        )
        self._t.configs[key] = saved
        return _config(saved)

    # -- segments -----------------------------------------------------------------------

    def list_segments(self, project_id: int) -> list[SegmentRecord]:
        return [_segment(s) for s in self._t.segments.values() if s.project_id == project_id]

    def _segment_row(self, project_id: int, name: str) -> SegmentRecord | None:
        return next(
            (s for s in self._t.segments.values() if s.project_id == project_id and s.name == name),
            None,
        )

    def get_segment(
        self, project_id: int, name: str, *, for_update: bool = False
    ) -> SegmentRecord | None:
        segment = self._segment_row(project_id, name)
        return None if segment is None else _segment(segment)

    def save_segment(
        self, project_id: int, name: str, description: str | None, constraints: list[Any]
    ) -> SegmentRecord:
        stored = self._segment_row(project_id, name)
        segment = SegmentRecord(
            self._t.next_id("segments") if stored is None else stored.id,
            project_id,
            name,
            description,
            as_json(list(constraints)),
            1 if stored is None else stored.version + 1,
            utc(self._now()),
        )
        self._t.segments[segment.id] = segment
        return _segment(segment)

    def delete_segment(self, project_id: int, name: str) -> bool:
        stored = self._segment_row(project_id, name)
        if stored is None:
            return False
        del self._t.segments[stored.id]
        return True

    # -- snapshots ----------------------------------------------------------------------

    def environment_state(self, environment_id: int) -> EnvironmentState | None:
        environment = self._t.environments.get(environment_id)
        if environment is None:
            return None
        project = self._t.projects[environment.project_id]
        flags = sorted(
            (
                (flag, _config(config))
                for (flag_id, env_id), config in self._t.configs.items()
                if env_id == environment_id and not (flag := self._t.flags[flag_id]).archived
            ),
            key=lambda pair: pair[0].key,
        )
        return EnvironmentState(
            environment=environment,
            project=project,
            flags=flags,
            segments=self.list_segments(project.id),
        )
