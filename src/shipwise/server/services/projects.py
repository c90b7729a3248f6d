"""Projects and their pipelines of environments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shipwise.domain.access import Action
from shipwise.domain.keys import ENVIRONMENT_KEY, PROJECT_KEY
from shipwise.domain.pipeline import DEFAULT_PIPELINE, Stage
from shipwise.server.ports import (
    AuditStore,
    Clocked,
    Environment,
    FlagStore,
    Project,
    ProjectStore,
    StoreOf,
)
from shipwise.server.services._common import (
    audit,
    check_key,
    creating,
    environment_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.principal import Principal


@dataclass(frozen=True, slots=True)
class ProjectView:
    project: Project
    environments: list[Environment]


def _environment_dict(environment: Environment) -> dict[str, object]:
    return {
        "key": environment.key,
        "name": environment.name,
        "branch": environment.branch,
        "position": environment.position,
    }


class ProjectTx(ProjectStore, FlagStore, AuditStore, Clocked, Protocol):
    """What projects touch: projects and environments, the flags a new environment
    gets a configuration for (off, stamped by the store's clock), the audit log."""


class ProjectService:
    def __init__(self, store: StoreOf[ProjectTx]) -> None:
        self._store = store

    def create(
        self,
        principal: Principal,
        key: str,
        name: str | None = None,
        timezone: str = "UTC",
        pipeline: Sequence[Stage] = DEFAULT_PIPELINE,
    ) -> ProjectView:
        principal.require(Action.MANAGE_PROJECTS)
        check_key(key, rule=PROJECT_KEY)
        _check_pipeline(pipeline)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                f"unknown time zone {timezone!r}, e.g. Europe/Oslo", field="timezone"
            ) from None
        with creating(self._store, "key") as tx:
            if tx.get_project(key) is not None:
                raise Conflict(f"project {key!r} already exists", field="key")
            project = tx.add_project(key, name or key, timezone)
            environments = [
                tx.add_environment(project.id, stage.key, stage.name, stage.branch, position)
                for position, stage in enumerate(pipeline)
            ]
            audit(
                tx,
                principal,
                "project.create",
                "project",
                key,
                project=key,
                after={
                    "name": project.name,
                    "timezone": timezone,
                    "environments": [_environment_dict(e) for e in environments],
                },
            )
        return ProjectView(project, environments)

    def all(self, principal: Principal) -> list[ProjectView]:
        """The projects this principal may see: all for a global admin, else its own."""
        principal.require_api_token()
        with self._store.read() as tx:
            projects = tx.list_projects()
            visible = [
                p for p in projects if principal.global_admin or principal.project_id == p.id
            ]
            return [ProjectView(p, tx.list_environments(p.id)) for p in visible]

    def get(self, principal: Principal, key: str) -> ProjectView:
        with self._store.read() as tx:
            project = project_or_404(tx, key)
            principal.require(Action.READ, project)
            return ProjectView(project, tx.list_environments(project.id))

    def add_environment(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        name: str | None = None,
        branch: str | None = None,
    ) -> Environment:
        check_key(key, rule=ENVIRONMENT_KEY)
        with creating(self._store, "key") as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_ENVIRONMENTS, project)
            if tx.get_environment(project.id, key) is not None:
                raise Conflict(
                    f"environment {key!r} already exists in project {project_key!r}", field="key"
                )
            position = len(tx.list_environments(project.id))
            environment = tx.add_environment(project.id, key, name or key, branch or key, position)
            # Every flag exists in every environment, off until someone turns it on.
            for flag in tx.list_flags(project.id):
                tx.save_config(off_config(tx, flag.id, environment.id))
            audit(
                tx,
                principal,
                "environment.create",
                "environment",
                key,
                project=project_key,
                environment=key,
                after=_environment_dict(environment),
            )
        return environment

    def environment(self, principal: Principal, project_key: str, key: str) -> Environment:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return environment_or_404(tx, project, key)


def _check_pipeline(pipeline: Sequence[Stage]) -> None:
    if not pipeline:
        raise Invalid("a project needs at least one environment", field="environments")
    seen: set[str] = set()
    for index, stage in enumerate(pipeline):
        check_key(stage.key, f"environments[{index}].key", ENVIRONMENT_KEY)
        if stage.key in seen:
            raise Invalid(
                f"environment {stage.key!r} is listed twice", field=f"environments[{index}].key"
            )
        seen.add(stage.key)
