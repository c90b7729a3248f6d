"""Flags: what each one is (kind, owner, description, tags, archived).

GET   /projects/{project}/flags          every flag, with its rules per environment
POST  /projects/{project}/flags          a new flag, off in every environment
GET   /projects/{project}/flags/{key}
PATCH /projects/{project}/flags/{key}    only the fields sent change

Its rules per environment are in ``admin_flag_rules``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from shipwise.domain.flags import FlagKind
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, MayWriteFlags, ServicesDep
from shipwise.server.api.schemas import (
    Description,
    FlagKey,
    FlagKeyIn,
    Owner,
    ProjectKey,
    StrictBody,
    Tag,
    errors,
)
from shipwise.server.ports import FlagConfig, FlagRecord
from shipwise.server.services.flags import FlagView

router = admin_router("flags")


class FlagIn(StrictBody):
    key: FlagKeyIn
    kind: FlagKind = FlagKind.RELEASE
    owner: Owner | None = None
    description: Description | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class FlagPatch(StrictBody):
    """Only the fields sent change. ``owner`` and ``description`` may be null (cleared);
    null for ``kind``, ``tags`` or ``archived`` leaves them as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    kind: FlagKind | None = None
    owner: Owner | None = None
    description: Description | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    archived: StrictBool | None = None

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True, mode="json")
        clearable = {"owner", "description"}
        return {k: v for k, v in sent.items() if v is not None or k in clearable}


class EnvironmentRules(BaseModel):
    enabled: bool
    strategies: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    dependencies: list[dict[str, Any]]
    version: int = Field(description="Send it back as If-Match to change these rules")
    updated_at: datetime

    @classmethod
    def fields_of(cls, config: FlagConfig) -> dict[str, Any]:
        return {
            "enabled": config.enabled,
            "strategies": config.strategies,
            "variants": config.variants,
            "dependencies": config.dependencies,
            "version": config.version,
            "updated_at": config.updated_at,
        }


class FlagOut(BaseModel):
    key: str
    kind: str
    owner: str | None
    description: str | None
    tags: list[str]
    archived: bool
    created_at: datetime
    environments: dict[str, EnvironmentRules] = Field(
        description="The rules in each environment, in pipeline order"
    )

    @classmethod
    def of(cls, flag: FlagRecord, configs: dict[str, FlagConfig]) -> FlagOut:
        return cls(
            key=flag.key,
            kind=flag.kind,
            owner=flag.owner,
            description=flag.description,
            tags=list(flag.tags),
            archived=flag.archived,
            created_at=flag.created_at,
            environments={
                key: EnvironmentRules(**EnvironmentRules.fields_of(config))
                for key, config in configs.items()
            },
        )

    @classmethod
    def of_view(cls, view: FlagView) -> FlagOut:
        return cls.of(view.flag, view.configs)


class FlagList(BaseModel):
    flags: list[FlagOut]


@router.get(
    "/projects/{project}/flags",
    summary="Every flag of the project, with its rules per environment",
    responses=errors(404, 422),
)
def list_flags(project: ProjectKey, services: ServicesDep, who: MayRead) -> FlagList:
    return FlagList(flags=[FlagOut.of_view(v) for v in services.flags.all(who, project)])


@router.post(
    "/projects/{project}/flags",
    status_code=201,
    summary="Create a flag, off in every environment",
    responses=errors(404, 409, 422),
)
def create_flag(
    project: ProjectKey, body: FlagIn, services: ServicesDep, who: MayWriteFlags
) -> FlagOut:
    view = services.flags.create(
        who, project, body.key, body.kind.value, body.owner, body.description, body.tags
    )
    return FlagOut.of_view(view)


@router.get(
    "/projects/{project}/flags/{key}",
    summary="One flag, with its rules per environment",
    responses=errors(404, 422),
)
def get_flag(project: ProjectKey, key: FlagKey, services: ServicesDep, who: MayRead) -> FlagOut:
    return FlagOut.of_view(services.flags.get(who, project, key))


@router.patch(
    "/projects/{project}/flags/{key}",
    summary="Change what a flag is: kind, owner, description, tags, archived",
    responses=errors(404, 422),
)
def update_flag(
    project: ProjectKey, key: FlagKey, body: FlagPatch, services: ServicesDep, who: MayWriteFlags
) -> FlagOut:
    services.flags.update_metadata(who, project, key, body.changes())
    return FlagOut.of_view(services.flags.get(who, project, key))
