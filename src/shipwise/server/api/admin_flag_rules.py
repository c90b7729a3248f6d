"""A flag's rules in one environment, and the quick switches.

GET  …/flags/{key}/environments/{environment}           rules, with ETag: "<version>"
PUT  …/flags/{key}/environments/{environment}           If-Match required: 428 without,
                                                        409 when stale (nothing changes)
POST …/flags/{key}/environments/{environment}/enable    these four take an optional
POST …/flags/{key}/environments/{environment}/disable   If-Match, checked the same way
POST …/flags/{key}/environments/{environment}/rollout   {percentage, stickiness?}
POST …/flags/{key}/environments/{environment}/kill      {reason}: off for everyone, now

Every answer carries the new version as its ETag.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import Field, StrictBool, StrictInt

from shipwise.server.api.admin_flags import EnvironmentRules
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayKill, MayRead, MayWriteFlags, ServicesDep
from shipwise.server.api.schemas import (
    EnvironmentKey,
    FlagKey,
    IfMatch,
    JsonObject,
    ProjectKey,
    Reason,
    Stickiness,
    StrictBody,
    errors,
    etag,
    with_etag,
)
from shipwise.server.ports import FlagConfig
from shipwise.server.services.flag_changes import parse_if_match, require_if_match

router = admin_router("flags")
PATH = "/projects/{project}/flags/{key}/environments/{environment}"

_STRATEGIES = (
    "Unleash strategy objects: name (default, flexibleRollout, userWithId, ...), "
    "parameters, constraints, segments (ids), variants, title, disabled"
)
_VARIANTS = "Unleash variant objects: name, weight, payload {type, value}, stickiness, overrides"
_DEPENDENCIES = "Parent flags: feature, enabled (default true), variants"


class RulesIn(StrictBody):
    """A flag's whole configuration in one environment; it replaces the current one."""

    enabled: StrictBool
    strategies: list[JsonObject] = Field(
        default_factory=list, max_length=200, description=_STRATEGIES
    )
    variants: list[JsonObject] = Field(default_factory=list, max_length=100, description=_VARIANTS)
    dependencies: list[JsonObject] = Field(
        default_factory=list, max_length=50, description=_DEPENDENCIES
    )


class RolloutIn(StrictBody):
    percentage: StrictInt = Field(ge=0, le=100)
    stickiness: Stickiness | None = Field(
        default=None, description="The context field to hash: default, userId, sessionId, ..."
    )


class KillIn(StrictBody):
    reason: Reason = Field(description="Why; it goes in the audit log")


class FlagConfigOut(EnvironmentRules):
    project: str
    flag: str
    environment: str


def _answer(
    response: Response, project: str, key: str, environment: str, config: FlagConfig
) -> FlagConfigOut:
    response.headers["ETag"] = etag(config.version)
    fields: dict[str, Any] = EnvironmentRules.fields_of(config)
    return FlagConfigOut(project=project, flag=key, environment=environment, **fields)


def _optional_version(if_match: str | None) -> int | None:
    return None if if_match is None else parse_if_match(if_match)


@router.get(
    PATH,
    summary="A flag's rules in one environment",
    responses={**with_etag("The rules and their version"), **errors(404, 422)},
)
def get_rules(
    project: ProjectKey,
    key: FlagKey,
    environment: EnvironmentKey,
    response: Response,
    services: ServicesDep,
    who: MayRead,
) -> FlagConfigOut:
    config = services.flags.config(who, project, key, environment)
    return _answer(response, project, key, environment, config)


@router.put(
    PATH,
    summary="Replace a flag's rules in one environment (If-Match required)",
    responses={**with_etag("The new rules and version"), **errors(404, 409, 422, 428)},
)
def put_rules(
    project: ProjectKey,
    key: FlagKey,
    environment: EnvironmentKey,
    body: RulesIn,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> FlagConfigOut:
    version = require_if_match(if_match)
    rules = body.model_dump()
    config = services.flags.update_rules(
        who, project, key, environment, rules, expected_version=version
    )
    return _answer(response, project, key, environment, config)


@router.post(
    f"{PATH}/enable",
    summary="Switch a flag on in one environment (its rules decide for whom)",
    responses={**with_etag("The new rules and version"), **errors(404, 409, 422)},
)
def enable(
    project: ProjectKey,
    key: FlagKey,
    environment: EnvironmentKey,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> FlagConfigOut:
    version = _optional_version(if_match)
    config = services.flags.set_enabled(who, project, key, environment, True, version)
    return _answer(response, project, key, environment, config)


@router.post(
    f"{PATH}/disable",
    summary="Switch a flag off in one environment",
    responses={**with_etag("The new rules and version"), **errors(404, 409, 422)},
)
def disable(
    project: ProjectKey,
    key: FlagKey,
    environment: EnvironmentKey,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> FlagConfigOut:
    version = _optional_version(if_match)
    config = services.flags.set_enabled(who, project, key, environment, False, version)
    return _answer(response, project, key, environment, config)


@router.post(
    f"{PATH}/rollout",
    summary="Roll a flag out to a percentage (and switch it on)",
    responses={**with_etag("The new rules and version"), **errors(404, 409, 422)},
)
def rollout(
    project: ProjectKey,
    key: FlagKey,
    environment: EnvironmentKey,
    body: RolloutIn,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> FlagConfigOut:
    version = _optional_version(if_match)
    config = services.flags.set_rollout(
        who, project, key, environment, body.percentage, body.stickiness, version
    )
    return _answer(response, project, key, environment, config)


@router.post(
    f"{PATH}/kill",
    summary="Kill switch: off for everyone in one environment, now, with a reason",
    responses={**with_etag("The new rules and version"), **errors(404, 409, 422)},
)
def kill(
    project: ProjectKey,
    key: FlagKey,
    environment: EnvironmentKey,
    body: KillIn,
    response: Response,
    services: ServicesDep,
    who: MayKill,
    if_match: IfMatch = None,
) -> FlagConfigOut:
    version = _optional_version(if_match)
    config = services.flags.kill(who, project, key, environment, body.reason, version)
    return _answer(response, project, key, environment, config)
