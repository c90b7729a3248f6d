"""Rollout plans: a flag taken to 100% step by step, watched by guardrails.

GET  /projects/{p}/rollouts                         ?flag=&environment=&active=true
POST /projects/{p}/rollouts                         {flag, environment, plan? | template?,
                                                    release?}: 201, the first step applied;
                                                    409 while the flag has a plan there
GET  /projects/{p}/rollouts/{id}                    the plan, where it stands, last verdicts
GET  /projects/{p}/rollouts/{id}/timeline           every check that decided something
POST /projects/{p}/rollouts/{id}/pause | resume | approve | skip | abort
GET  /projects/{p}/rollout-templates
PUT  /projects/{p}/rollout-templates/{name}         {plan}
DELETE /projects/{p}/rollout-templates/{name}

A plan is free-form JSON here (``PlanJson``): the domain reads it (``plan_format``) and
names every mistake by where it is (``steps[1].percentage``), which a model of the plan
in this module would only say less well.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, Field

from shipwise.domain.keys import ENVIRONMENT_KEY, FLAG_KEY
from shipwise.domain.plan_format import plan_to_dict
from shipwise.domain.rollout import PlanSpec, step_label
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayOverrideRollout, MayRead, MayRollout, ServicesDep
from shipwise.server.api.rollout_watch import WatchWindowOut
from shipwise.server.api.schemas import (
    FlagKeyIn,
    JsonObject,
    Key,
    ProjectKey,
    Reason,
    ReleaseKeyIn,
    StrictBody,
    TemplateName,
    errors,
    follows,
)
from shipwise.server.ports import RolloutCheck, RolloutPlanRecord

router = admin_router("rollouts")
PLANS = "/projects/{project}/rollouts"
PLAN = PLANS + "/{plan_id}"
TEMPLATES = "/projects/{project}/rollout-templates"

PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The plan's number")]


def _without_nul(value: Any, where: str = "") -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(
                f"{where or 'value'}: contains a NUL character, which cannot be stored"
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _without_nul(key, where)
            _without_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _without_nul(item, f"{where}[{index}]")


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    _without_nul(value)
    return value


# Any JSON object the database can hold; what it means is checked by the services.
FreeJson = Annotated[JsonObject, AfterValidator(_storable_json)]
_PLAN = (
    "A rollout plan: steps [{percentage, audiences, min_duration, min_sample, approval}], "
    "guardrails [{metric, direction, threshold | max_worse, action, min_sample}], watch "
    "{close_for, close_every, then_every, bake}, alpha, when_inconclusive, sample_ratio_check"
)
PlanJson = Annotated[FreeJson, Field(description=_PLAN)]


class StartIn(StrictBody):
    flag: FlagKeyIn
    environment: Key
    plan: PlanJson | None = Field(default=None, description="Default: the template's plan")
    template: Key | None = Field(
        default=None, description='A saved template\'s name; default: "default"'
    )
    release: ReleaseKeyIn | None = Field(
        default=None, description="The release that ships the flag"
    )


class ReasonIn(StrictBody):
    reason: Reason


class TemplateIn(StrictBody):
    plan: PlanJson


class StateOut(BaseModel):
    status: str = Field(description="running, waiting-approval, paused, baking, released, …")
    step: int = Field(description="The current step, counted from 1")
    steps: int = Field(description="How many steps the plan has")
    percentage: int = Field(description="The current step's percentage")
    audiences: list[str] = Field(description="Segments that get the feature on top of it")
    label: str = Field(description='The current step in words: "10% + beta-testers for 7d"')
    approved: bool = Field(description="A person approved leaving the current step")
    started_at: datetime
    step_started_at: datetime
    baking_since: datetime | None
    finished_at: datetime | None
    reason: str | None = Field(description="Why it is paused, waiting, rolled back or aborted")
    next_check_at: datetime | None = Field(description="null: no more checks")
    version: int = Field(description="Bumped by every change to the plan")


class PlanOut(BaseModel):
    id: int
    project: str
    flag: str
    environment: str
    release: str | None
    created_by: str
    created_at: datetime
    spec: dict[str, Any] = Field(description="The plan as it was started")
    state: StateOut
    judgements: dict[str, Any] = Field(
        description="The last check's verdict per guardrail: verdict, summary, estimate, …"
    )
    watch_window: WatchWindowOut | None = Field(
        None, description="Which watch window it is in now (reading one plan only)"
    )

    @classmethod
    def of(cls, plan: RolloutPlanRecord, now: datetime | None = None) -> PlanOut:
        state = plan.state
        step = plan.spec.steps[state.step]
        return cls(
            id=plan.id,
            project=plan.project,
            flag=plan.flag,
            environment=plan.environment,
            release=plan.release,
            created_by=plan.created_by,
            created_at=plan.created_at,
            spec=plan_to_dict(plan.spec),
            state=StateOut(
                status=state.status.value,
                step=state.step + 1,
                steps=len(plan.spec.steps),
                percentage=step.percentage,
                audiences=list(step.audiences),
                label=step_label(step),
                approved=state.approved_step == state.step,
                started_at=state.started_at,
                step_started_at=state.step_started_at,
                baking_since=state.baking_since,
                finished_at=state.finished_at,
                reason=state.reason,
                next_check_at=plan.next_check_at,
                version=plan.version,
            ),
            judgements=dict(plan.judgements),
            watch_window=None if now is None else WatchWindowOut.of(plan, now),
        )


class PlanList(BaseModel):
    rollouts: list[PlanOut]


class CheckOut(BaseModel):
    at: datetime
    step: int = Field(description="The step it was at, counted from 1")
    decision: str = Field(description="hold, advance, pause, rollback, notify, bake, release, …")
    reason: str
    judgements: dict[str, Any]

    @classmethod
    def of(cls, check: RolloutCheck) -> CheckOut:
        return cls(
            at=check.at,
            step=check.step + 1,
            decision=check.decision,
            reason=check.reason,
            judgements=dict(check.judgements),
        )


class Timeline(BaseModel):
    plan: int
    checks: list[CheckOut] = Field(description="Oldest first")


class TemplateOut(BaseModel):
    name: str
    plan: dict[str, Any]

    @classmethod
    def of(cls, name: str, spec: PlanSpec) -> TemplateOut:
        return cls(name=name, plan=plan_to_dict(spec))


class TemplateList(BaseModel):
    templates: list[TemplateOut]


class Deleted(BaseModel):
    name: str
    deleted: bool


# -- plans -------------------------------------------------------------------------------


@router.get(PLANS, summary="Rollout plans", responses=errors(404))
def list_plans(
    project: ProjectKey,
    services: ServicesDep,
    who: MayRead,
    flag: Annotated[str | None, follows(FLAG_KEY), Query()] = None,
    environment: Annotated[str | None, follows(ENVIRONMENT_KEY), Query()] = None,
    active: Annotated[bool, Query(description="Only plans still under way")] = False,
) -> PlanList:
    plans = services.rollouts.all(
        who, project, flag=flag, environment=environment, active_only=active
    )
    return PlanList(rollouts=[PlanOut.of(p) for p in plans])


@router.post(PLANS, status_code=201, summary="Start a rollout plan", responses=errors(404, 409))
def start_plan(
    project: ProjectKey, body: StartIn, services: ServicesDep, who: MayRollout
) -> PlanOut:
    plan = services.rollouts.start(
        who,
        project,
        body.flag,
        body.environment,
        plan=body.plan,
        template=body.template,
        release=body.release,
    )
    return PlanOut.of(plan)


@router.get(PLAN, summary="A rollout plan and where it stands", responses=errors(404))
def get_plan(project: ProjectKey, plan_id: PlanId, services: ServicesDep, who: MayRead) -> PlanOut:
    return PlanOut.of(*services.rollouts.get_at(who, project, plan_id))


@router.get(PLAN + "/timeline", summary="A plan's checks and decisions", responses=errors(404))
def timeline(project: ProjectKey, plan_id: PlanId, services: ServicesDep, who: MayRead) -> Timeline:
    checks = services.rollouts.timeline(who, project, plan_id)
    return Timeline(plan=plan_id, checks=[CheckOut.of(c) for c in checks])


@router.post(PLAN + "/pause", summary="Hold a plan where it is", responses=errors(404, 409))
def pause(
    project: ProjectKey, plan_id: PlanId, body: ReasonIn, services: ServicesDep, who: MayRollout
) -> PlanOut:
    return PlanOut.of(services.rollouts.pause(who, project, plan_id, body.reason))


@router.post(PLAN + "/resume", summary="Carry on from the paused step", responses=errors(404, 409))
def resume(project: ProjectKey, plan_id: PlanId, services: ServicesDep, who: MayRollout) -> PlanOut:
    return PlanOut.of(services.rollouts.resume(who, project, plan_id))


@router.post(
    PLAN + "/approve", summary="Approve leaving the current step", responses=errors(404, 409)
)
def approve(
    project: ProjectKey, plan_id: PlanId, services: ServicesDep, who: MayOverrideRollout
) -> PlanOut:
    return PlanOut.of(services.rollouts.approve(who, project, plan_id))


@router.post(PLAN + "/skip", summary="Move to the next step now", responses=errors(404, 409))
def skip(
    project: ProjectKey,
    plan_id: PlanId,
    body: ReasonIn,
    services: ServicesDep,
    who: MayOverrideRollout,
) -> PlanOut:
    return PlanOut.of(services.rollouts.skip(who, project, plan_id, body.reason))


@router.post(
    PLAN + "/abort",
    summary="Stop the plan; the flag stays as it is",
    responses=errors(404, 409),
)
def abort(
    project: ProjectKey, plan_id: PlanId, body: ReasonIn, services: ServicesDep, who: MayRollout
) -> PlanOut:
    return PlanOut.of(services.rollouts.abort(who, project, plan_id, body.reason))


# -- templates ---------------------------------------------------------------------------


@router.get(TEMPLATES, summary="The project's rollout templates", responses=errors(404))
def list_templates(project: ProjectKey, services: ServicesDep, who: MayRead) -> TemplateList:
    templates = services.rollouts.templates(who, project)
    return TemplateList(templates=[TemplateOut.of(n, s) for n, s in templates.items()])


@router.put(TEMPLATES + "/{name}", summary="Save a rollout template", responses=errors(404))
def save_template(
    project: ProjectKey,
    name: TemplateName,
    body: TemplateIn,
    services: ServicesDep,
    who: MayRollout,
) -> TemplateOut:
    spec = services.rollouts.save_template(who, project, name, body.plan)
    return TemplateOut.of(name, spec)


@router.delete(TEMPLATES + "/{name}", summary="Delete a rollout template", responses=errors(404))
def delete_template(
    project: ProjectKey, name: TemplateName, services: ServicesDep, who: MayRollout
) -> Deleted:
    services.rollouts.delete_template(who, project, name)
    return Deleted(name=name, deleted=True)
