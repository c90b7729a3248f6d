"""Metrics a project's guardrails may name, and the counters people push.

GET    /metric-templates                      ready-made guardrails: per source the
                                              settings to give, the default rule, and
                                              whether this server can read it
GET    /projects/{p}/metrics
PUT    /projects/{p}/metrics/{name}           {source, settings, description?}: checked by
                                              its source before it is saved; with
                                              {template}, settings fill the template's
                                              recipe for the source
GET    /projects/{p}/metrics/{name}
DELETE /projects/{p}/metrics/{name}           409 while a running plan watches it
POST   /projects/{p}/metrics/{name}/values    {value, environment?}: 202, a pushed counter
                                              (a support ticket: 1)

Settings are shown as ``metric_catalog.public_definition`` shows them, secrets (tokens)
starred; so are the values of headers that carry credentials (``Authorization``,
``X-Api-Key``, …).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from shipwise.domain.guardrails import Compare, Threshold
from shipwise.server.api.admin_rollouts import Deleted, FreeJson
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, MayReport, MayRollout, ServicesDep
from shipwise.server.api.schemas import Description, Key, ProjectKey, StrictBody, Visible, errors
from shipwise.server.ports import MetricDefinition
from shipwise.server.services.metric_catalog import public_definition
from shipwise.server.services.metric_templates import MetricTemplates, OfferedTemplate

router = admin_router("metrics")
METRICS = "/projects/{project}/metrics"
METRIC = METRICS + "/{name}"
NAME_RULE = "lowercase letters, digits, '.', '_' and '-', at most 100"

MetricName = Annotated[
    str,
    Visible,
    Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$", description=f"The metric's name: {NAME_RULE}"),
]
PushedValue = Annotated[
    float,
    Field(strict=True, allow_inf_nan=False, ge=-1e12, le=1e12, description="Added to the counter"),
]


class MetricIn(StrictBody):
    source: str = Field(
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Where the numbers come from: sdk, pushed, prometheus, sentry, "
        "cloud-logging, vercel, zendesk, json",
    )
    settings: FreeJson = Field(
        default_factory=dict,
        description='The source\'s own: {"event": "error", "measure": "rate"} for sdk, '
        '{"url", "query"} for prometheus, {"window": "1h"} for pushed, …',
    )
    description: Description | None = None
    template: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{0,63}$",
        description="A metric template's name (GET /metric-templates): settings then "
        'fill its recipe for the source, e.g. {"job": "api", "url": "..."}',
    )


class ValueIn(StrictBody):
    value: PushedValue
    environment: Key | None = Field(default=None, description="Default: every environment")


class MetricOut(BaseModel):
    name: str
    source: str
    settings: dict[str, Any] = Field(description="Secrets show as ***")
    description: str | None

    @classmethod
    def of(cls, definition: MetricDefinition) -> MetricOut:
        return cls(**public_definition(definition))


class MetricList(BaseModel):
    metrics: list[MetricOut]


class Pushed(BaseModel):
    metric: str
    value: float
    environment: str | None


class AskOut(BaseModel):
    name: str
    help: str
    example: str
    default: str | None


class RecipeOut(BaseModel):
    source: str
    available: bool
    unavailable: str | None = Field(description="Why it cannot be picked on this server")
    compares_arms: bool = Field(description="False: it can only hold a threshold")
    settings: dict[str, Any] = Field(description="${name} placeholders are the asks")
    asks: list[AskOut]
    guardrail: dict[str, Any] = Field(description="The default: direction and a rule")
    note: str


class TemplateOut(BaseModel):
    name: str
    watches: str
    direction: str
    recipes: list[RecipeOut]

    @classmethod
    def of(cls, offered: OfferedTemplate) -> TemplateOut:
        template = offered.template
        rule = {"direction": template.direction.value}
        return cls(
            name=template.name,
            watches=template.watches,
            direction=template.direction.value,
            recipes=[
                RecipeOut(
                    source=o.recipe.source,
                    available=o.unavailable is None,
                    unavailable=o.unavailable,
                    compares_arms=o.recipe.compares_arms,
                    settings=dict(o.recipe.settings),
                    asks=[
                        AskOut(name=a.name, help=a.help, example=a.example, default=a.default)
                        for a in o.recipe.asks
                    ],
                    guardrail=rule | _rule(o.recipe.rule),
                    note=o.recipe.note,
                )
                for o in offered.recipes
            ],
        )


def _rule(rule: Threshold | Compare) -> dict[str, float]:
    return (
        {"threshold": rule.limit} if isinstance(rule, Threshold) else {"max_worse": rule.max_worse}
    )


class TemplateList(BaseModel):
    templates: list[TemplateOut]


@router.get("/metric-templates", summary="Ready-made guardrails", responses=errors())
def list_templates(services: ServicesDep, who: MayRead) -> TemplateList:
    offered = MetricTemplates(services.metric_catalog).all()
    return TemplateList(templates=[TemplateOut.of(t) for t in offered])


@router.get(METRICS, summary="The project's metrics", responses=errors(404))
def list_metrics(project: ProjectKey, services: ServicesDep, who: MayRead) -> MetricList:
    return MetricList(metrics=[MetricOut.of(m) for m in services.metric_catalog.all(who, project)])


@router.put(METRIC, summary="Define a metric, or change it", responses=errors(404))
def define_metric(
    project: ProjectKey, name: MetricName, body: MetricIn, services: ServicesDep, who: MayRollout
) -> MetricOut:
    if body.template is not None:
        saved = MetricTemplates(services.metric_catalog).define(
            who, project, name, body.template, body.source, body.settings, body.description
        )
    else:
        saved = services.metric_catalog.define(
            who, project, name, body.source, body.settings, body.description
        )
    return MetricOut.of(saved)


@router.get(METRIC, summary="One metric", responses=errors(404))
def get_metric(
    project: ProjectKey, name: MetricName, services: ServicesDep, who: MayRead
) -> MetricOut:
    return MetricOut.of(services.metric_catalog.get(who, project, name))


@router.delete(METRIC, summary="Delete a metric", responses=errors(404, 409))
def delete_metric(
    project: ProjectKey, name: MetricName, services: ServicesDep, who: MayRollout
) -> Deleted:
    services.metric_catalog.delete(who, project, name)
    return Deleted(name=name, deleted=True)


@router.post(
    METRIC + "/values",
    status_code=202,
    summary="Add to a pushed counter (a support ticket: 1)",
    responses=errors(404),
)
def push_value(
    project: ProjectKey, name: MetricName, body: ValueIn, services: ServicesDep, who: MayReport
) -> Pushed:
    services.metric_catalog.push(who, project, name, body.value, body.environment)
    return Pushed(metric=name, value=body.value, environment=body.environment)
