"""Rollout plans as people use them: start one on a flag in an environment, pause,
resume, approve a step, skip ahead, abort; save plans as project templates.

Each action loads the plan under its row lock, asks the domain (``domain.rollout``)
whether it fits the plan's state, and records the result with its audit record and
notifications in one transaction (``rollout_apply.carry_out``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain import rollout
from shipwise.domain.access import Action
from shipwise.domain.keys import TEMPLATE_NAME
from shipwise.domain.plan_format import PlanInvalid, parse_plan, plan_to_dict
from shipwise.domain.policy_watch import plan_watch
from shipwise.domain.rollout import (
    DEFAULT_PLAN,
    Decision,
    DecisionKind,
    PlanActionRefused,
    PlanSpec,
    PlanState,
    Watch,
)
from shipwise.server.ports import (
    MetricDefinitionStore,
    Project,
    RolloutCheck,
    RolloutPlanRecord,
    RolloutPlanStore,
    StoreOf,
    TemplateStore,
)
from shipwise.server.services._common import (
    audit,
    check_key,
    environment_or_404,
    flag_or_404,
    project_or_404,
)
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import project_policy
from shipwise.server.services.rollout_apply import CarryOutTx, carry_out, segment_ids
from shipwise.server.services.rollout_checks import (
    PlanChecksTx,
    require_release_there,
    require_room,
    still_shipping,
)
from shipwise.server.services.rollout_news import RolloutNews

DEFAULT_TEMPLATE = "default"


@dataclass(frozen=True, slots=True)
class PlanView:
    """A plan as a page shows it: where it stands, its timeline (oldest first), its
    charts' points (the timeline with the sampled checks between its lines) and the
    store's time when all were read (how long a step has run, and has left)."""

    plan: RolloutPlanRecord
    checks: tuple[RolloutCheck, ...]
    now: datetime
    points: tuple[RolloutCheck, ...]


class _SpecTx(TemplateStore, MetricDefinitionStore, Protocol):
    """What choosing a plan reads: the project's templates and the metrics it may name."""


class _RolloutsTx(CarryOutTx, TemplateStore, MetricDefinitionStore, Protocol):
    """Carrying out a decision (``CarryOutTx``: the flag, the plan, the release, the
    outbox), and the templates and metrics a plan is chosen from."""


def read_plan(data: Any, known_metrics: set[str], watch: Watch | None = None) -> PlanSpec:
    try:
        return parse_plan(data, known_metrics, watch)
    except PlanInvalid as invalid:
        raise Invalid(str(invalid), field=invalid.field) from None


class RolloutService:
    def __init__(self, store: StoreOf[_RolloutsTx], news: RolloutNews) -> None:
        self._store = store
        self._news = news

    # -- templates ------------------------------------------------------------------------

    def save_template(
        self, principal: Principal, project_key: str, name: str, plan: Mapping[str, Any]
    ) -> PlanSpec:
        check_key(name, "name", TEMPLATE_NAME)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.ROLLOUT, project)
            spec = read_plan(plan, _metric_names(tx, project))
            tx.save_template(project.id, name, spec)
            audit(
                tx,
                principal,
                "rollout.template",
                "rollout-template",
                name,
                project=project_key,
                after=plan_to_dict(spec),
            )
        return spec

    def templates(self, principal: Principal, project_key: str) -> dict[str, PlanSpec]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return {DEFAULT_TEMPLATE: DEFAULT_PLAN, **tx.list_templates(project.id)}

    def delete_template(self, principal: Principal, project_key: str, name: str) -> None:
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.ROLLOUT, project)
            if not tx.delete_template(project.id, name):
                raise NotFound(f"no rollout template {name!r} in project {project_key!r}")
            audit(
                tx,
                principal,
                "rollout.template.delete",
                "rollout-template",
                name,
                project=project_key,
            )

    # -- plans ------------------------------------------------------------------------------

    def start(
        self,
        principal: Principal,
        project_key: str,
        flag_key: str,
        environment_key: str,
        *,
        plan: Mapping[str, Any] | None = None,
        template: str | None = None,
        release: str | None = None,
    ) -> RolloutPlanRecord:
        """Start a plan (given, or a template's, or the default) and apply its first step."""
        if plan is not None and template is not None:
            raise Invalid("give a plan or a template, not both", field="template")
        with self._store.transaction() as tx:
            now = tx.now()
            project = project_or_404(tx, project_key)
            principal.require(Action.ROLLOUT, project)
            environment = environment_or_404(tx, project, environment_key)
            flag = flag_or_404(tx, project, flag_key)
            policy = project_policy(tx, project)
            spec = self._spec(tx, project, plan, template, policy.watch)
            for index, step in enumerate(spec.steps):
                segment_ids(tx, project.id, step.audiences, f"steps[{index}]")
            found = None
            if release is not None:
                found = tx.get_release(project.id, release)
                if found is None:
                    raise NotFound(f"no release {release!r} in project {project_key!r}")
                if flag_key not in found.flags:
                    raise Invalid(
                        f"release {release} does not name flag {flag_key!r} "
                        f"(it names: {', '.join(found.flags) or 'none'})",
                        field="release",
                    )
            running = tx.list_plans(
                project.id, flag_id=flag.id, environment_id=environment.id, active_only=True
            )
            if running:
                raise Conflict(
                    f"flag {flag_key!r} already has rollout plan #{running[0].id} "
                    f"{running[0].state.status} in {environment_key!r}: pause or abort it first",
                    field="flag",
                )
            # The plans in the way first: they are named, whatever else is missing.
            require_room(tx, project, flag, environment, found, policy)
            require_release_there(tx, project, flag, environment_key, found, policy)
            release_id = None if found is None else found.id
            state = rollout.start(spec, now)
            record = tx.add_plan(
                project.id,
                flag.id,
                environment.id,
                release_id,
                spec,
                state,
                rollout.next_check(spec, state, now),
                principal.actor,
            )
            first = spec.steps[0]
            kind = DecisionKind.BAKE if first.percentage == 100 else DecisionKind.ADVANCE
            decision = Decision(kind, f"plan started: {rollout.step_label(first)}", 0)
            return carry_out(
                tx,
                self._news,
                principal,
                record,
                state,
                decision,
                now=now,
                next_check_at=record.next_check_at,
                project_id=project.id,
                action="rollout.start",
            )

    def _spec(
        self,
        tx: _SpecTx,
        project: Project,
        plan: Mapping[str, Any] | None,
        template: str | None,
        watch: Watch,
    ) -> PlanSpec:
        """The plan to start; its watch is the policy's ``[watch]`` unless it says its own
        (the keys a given plan writes win; a template that chose its own keeps it)."""
        if plan is not None:
            return read_plan(plan, _metric_names(tx, project), watch)
        if template is None or template == DEFAULT_TEMPLATE:
            saved = tx.get_template(project.id, DEFAULT_TEMPLATE)
            return plan_watch(saved or DEFAULT_PLAN, watch)
        saved = tx.get_template(project.id, template)
        if saved is None:
            names = ", ".join([DEFAULT_TEMPLATE, *tx.list_templates(project.id)])
            raise NotFound(f"no rollout template {template!r} (there are: {names})")
        return plan_watch(saved, watch)

    def get(self, principal: Principal, project_key: str, plan_id: int) -> RolloutPlanRecord:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return _plan_or_404(tx, project, plan_id)

    def get_at(
        self, principal: Principal, project_key: str, plan_id: int
    ) -> tuple[RolloutPlanRecord, datetime]:
        """The plan and the store's time it was read at (where its watch window is)."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return _plan_or_404(tx, project, plan_id), tx.now()

    def view(
        self, principal: Principal, project_key: str, plan_id: int, limit: int = 500
    ) -> PlanView:
        """The plan, its timeline and the time, read together (the dashboard's page)."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            plan = _plan_or_404(tx, project, plan_id)
            return PlanView(
                plan,
                tuple(tx.list_checks(plan_id, limit)),
                tx.now(),
                tuple(tx.list_checks(plan_id, limit, samples=True)),
            )

    def timeline(
        self, principal: Principal, project_key: str, plan_id: int, limit: int = 500
    ) -> list[RolloutCheck]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            _plan_or_404(tx, project, plan_id)
            return tx.list_checks(plan_id, limit)

    def all(
        self,
        principal: Principal,
        project_key: str,
        *,
        flag: str | None = None,
        environment: str | None = None,
        release: str | None = None,
        active_only: bool = False,
    ) -> list[RolloutPlanRecord]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            flag_id = flag_or_404(tx, project, flag).id if flag else None
            environment_id = (
                environment_or_404(tx, project, environment).id if environment else None
            )
            release_id = None
            if release is not None:
                found = tx.get_release(project.id, release)
                if found is None:
                    raise NotFound(f"no release {release!r} in project {project_key!r}")
                release_id = found.id
            return tx.list_plans(
                project.id,
                flag_id=flag_id,
                environment_id=environment_id,
                release_id=release_id,
                active_only=active_only,
            )

    # -- what people do to a running plan -------------------------------------------------

    def pause(
        self, principal: Principal, project_key: str, plan_id: int, reason: str
    ) -> RolloutPlanRecord:
        _need_reason(reason)
        return self._act(
            principal,
            project_key,
            plan_id,
            Action.ROLLOUT,
            lambda plan, now: (
                rollout.pause(plan.state, reason),
                Decision(DecisionKind.PAUSE, f"paused by {principal.person}: {reason}"),
            ),
        )

    def resume(self, principal: Principal, project_key: str, plan_id: int) -> RolloutPlanRecord:
        return self._act(
            principal,
            project_key,
            plan_id,
            Action.ROLLOUT,
            lambda plan, now: (
                rollout.resume(plan.spec, plan.state, now),
                Decision(DecisionKind.HOLD, f"resumed by {principal.person}"),
            ),
            action="rollout.resume",
            guard=still_shipping,
        )

    def approve(self, principal: Principal, project_key: str, plan_id: int) -> RolloutPlanRecord:
        """Approve going on from the current step; the runner moves on at its next check."""

        def approved(plan: RolloutPlanRecord, _now: Any) -> tuple[PlanState, Decision]:
            state = rollout.approve(plan.state)
            return state, Decision(DecisionKind.HOLD, f"step approved by {principal.person}")

        return self._act(
            principal,
            project_key,
            plan_id,
            Action.OVERRIDE_ROLLOUT,
            approved,
            action="rollout.approve",
            due_now=True,
        )

    def skip(
        self, principal: Principal, project_key: str, plan_id: int, reason: str
    ) -> RolloutPlanRecord:
        _need_reason(reason)
        return self._act(
            principal,
            project_key,
            plan_id,
            Action.OVERRIDE_ROLLOUT,
            lambda plan, now: rollout.skip(plan.spec, plan.state, now),
            action="rollout.skip",
            guard=still_shipping,
        )

    def abort(
        self, principal: Principal, project_key: str, plan_id: int, reason: str
    ) -> RolloutPlanRecord:
        _need_reason(reason)
        return self._act(
            principal,
            project_key,
            plan_id,
            Action.ROLLOUT,
            lambda plan, now: (
                rollout.abort(plan.state, now, reason),
                Decision(DecisionKind.HOLD, f"aborted by {principal.person}: {reason}"),
            ),
            action="rollout.abort",
        )

    def _act(
        self,
        principal: Principal,
        project_key: str,
        plan_id: int,
        needs: Action,
        change: Callable[[RolloutPlanRecord, Any], tuple[PlanState, Decision]],
        *,
        action: str | None = None,
        due_now: bool = False,
        guard: Callable[[PlanChecksTx, Project, RolloutPlanRecord], None] | None = None,
    ) -> RolloutPlanRecord:
        with self._store.transaction() as tx:
            now = tx.now()
            project = project_or_404(tx, project_key)
            principal.require(needs, project)
            plan = _plan_or_404(tx, project, plan_id, for_update=True)
            if guard is not None:
                guard(tx, project, plan)
            try:
                state, decision = change(plan, now)
            except PlanActionRefused as refused:
                raise Conflict(f"rollout plan #{plan_id}: {refused}", field="status") from None
            next_check = now if due_now else rollout.next_check(plan.spec, state, now)
            return carry_out(
                tx,
                self._news,
                principal,
                plan,
                state,
                decision,
                now=now,
                next_check_at=next_check,
                project_id=project.id,
                action=action,
            )


def _plan_or_404(
    tx: RolloutPlanStore, project: Project, plan_id: int, *, for_update: bool = False
) -> RolloutPlanRecord:
    plan = tx.get_plan(plan_id, for_update=for_update)
    if plan is None or plan.project != project.key:
        raise NotFound(f"no rollout plan #{plan_id} in project {project.key!r}")
    return plan


def _metric_names(tx: MetricDefinitionStore, project: Project) -> set[str]:
    return {m.name for m in tx.list_metrics(project.id)}


def _need_reason(reason: str) -> None:
    if not reason.strip():
        raise Invalid("say why (it goes in the audit log and the notification)", field="reason")
