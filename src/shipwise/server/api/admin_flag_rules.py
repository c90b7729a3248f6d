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

from typing import Annotated, Any, NamedTuple

from fastapi import Depends, Response
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
from shipwise.server.services.flags import FlagService

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


class Where(NamedTuple):
    """The path's flag in one environment: what every route here acts on (``*where``
    is the services' ``project, key, environment``)."""

    project: str
    key: str
    environment: str


def _where(project: ProjectKey, key: FlagKey, environment: EnvironmentKey) -> Where:
    return Where(project, key, environment)


# The three path parameters, validated as before, in one parameter of each route.
WhereDep = Annotated[Where, Depends(_where)]
_WRITTEN = {**with_etag("The new rules and version"), **errors(404, 409, 422)}


def _answer(response: Response, where: Where, config: FlagConfig) -> FlagConfigOut:
    response.headers["ETag"] = etag(config.version)
    fields: dict[str, Any] = EnvironmentRules.fields_of(config)
    return FlagConfigOut(
        project=where.project, flag=where.key, environment=where.environment, **fields
    )


class Switch(NamedTuple):
    """What a quick switch (enable, disable, rollout, kill) acts on: the flag in one
    environment, the version its If-Match names (None without one: these routes do not
    require it), and the response that carries the new ETag."""

    where: Where
    version: int | None
    flags: FlagService
    response: Response

    def answer(self, config: FlagConfig) -> FlagConfigOut:
        return _answer(self.response, self.where, config)


def _switch(
    where: WhereDep, response: Response, services: ServicesDep, if_match: IfMatch = None
) -> Switch:
    # Each route names ``who`` before ``switch``, so its permission is checked first (a
    # 403 before any 422); and the header's pattern admits only what this reads.
    version = None if if_match is None else parse_if_match(if_match)
    return Switch(where, version, services.flags, response)


SwitchDep = Annotated[Switch, Depends(_switch)]


@router.get(
    PATH,
    summary="A flag's rules in one environment",
    responses={**with_etag("The rules and their version"), **errors(404, 422)},
)
def get_rules(
    where: WhereDep,
    response: Response,
    services: ServicesDep,
    who: MayRead,
) -> FlagConfigOut:
    config = services.flags.config(who, *where)
    return _answer(response, where, config)


@router.put(
    PATH,
    summary="Replace a flag's rules in one environment (If-Match required)",
    responses={**with_etag("The new rules and version"), **errors(404, 409, 422, 428)},
)
def put_rules(
    where: WhereDep,
    body: RulesIn,
    response: Response,
    services: ServicesDep,
    who: MayWriteFlags,
    if_match: IfMatch = None,
) -> FlagConfigOut:
    version = require_if_match(if_match)
    rules = body.model_dump()
    config = services.flags.update_rules(who, *where, rules, expected_version=version)
    return _answer(response, where, config)


@router.post(
    f"{PATH}/enable",
    summary="Switch a flag on in one environment (its rules decide for whom)",
    responses=_WRITTEN,
)
def enable(who: MayWriteFlags, switch: SwitchDep) -> FlagConfigOut:
    return switch.answer(switch.flags.set_enabled(who, *switch.where, True, switch.version))


@router.post(f"{PATH}/disable", summary="Switch a flag off in one environment", responses=_WRITTEN)
def disable(who: MayWriteFlags, switch: SwitchDep) -> FlagConfigOut:
    return switch.answer(switch.flags.set_enabled(who, *switch.where, False, switch.version))


@router.post(
    f"{PATH}/rollout",
    summary="Roll a flag out to a percentage (and switch it on)",
    responses=_WRITTEN,
)
def rollout(body: RolloutIn, who: MayWriteFlags, switch: SwitchDep) -> FlagConfigOut:
    percentage, stickiness = body.percentage, body.stickiness
    config = switch.flags.set_rollout(who, *switch.where, percentage, stickiness, switch.version)
    return switch.answer(config)


@router.post(
    f"{PATH}/kill",
    summary="Kill switch: off for everyone in one environment, now, with a reason",
    responses=_WRITTEN,
)
def kill(body: KillIn, who: MayKill, switch: SwitchDep) -> FlagConfigOut:
    return switch.answer(switch.flags.kill(who, *switch.where, body.reason, switch.version))
