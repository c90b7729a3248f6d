"""The rollout runner's work: check every plan that is due, and act on the answer.

One check reads the metrics (outside any transaction: sources may be slow), asks the
domain for a decision, then, in one transaction under the plan's row lock, carries it
out only if the plan is still at the version it read. So a step is never applied twice:
not by a runner that crashed half-way (the transaction did not commit, the plan is still
due and is checked again), nor by a second runner that raced this one (it finds a newer
version and leaves it). Which process runs the runner is ``worker.py``'s business.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shipwise.domain import rollout, rollout_samples
from shipwise.domain.access import TokenKind
from shipwise.domain.guardrails import Judgement
from shipwise.domain.rollout import Assessment, Decision, DecisionKind
from shipwise.domain.rollout_samples import SAMPLE
from shipwise.server.ports import RolloutCheck, RolloutPlanRecord, RolloutPlanStore, StoreOf
from shipwise.server.services.errors import ServiceError
from shipwise.server.services.observations import Observer
from shipwise.server.services.principal import Principal
from shipwise.server.services.rollout_apply import CarryOutTx, carry_out, judgements_dict
from shipwise.server.services.rollout_news import RolloutNews

log = logging.getLogger(__name__)

RUNNER = Principal(
    actor="rollout-runner", kind=TokenKind.API, global_admin=True, person="rollout-runner"
)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    plan_id: int
    decision: Decision
    judgements: dict[str, Judgement]
    applied: bool  # False: another runner or a person got there first


class RolloutRunner:
    def __init__(
        self,
        store: StoreOf[CarryOutTx],  # due plans, and what carrying out a decision touches
        observer: Observer,
        news: RolloutNews,  # how a decision is told, with links to the dashboard
        batch: int = 100,
    ) -> None:
        self._store = store
        self._observer = observer
        self._news = news
        self._batch = batch

    def tick(self) -> list[CheckOutcome]:
        """Check every due plan once. (Its notifications are delivered by the delivery
        loop, ``worker.py``: a channel that hangs never holds up a round.)"""
        with self._store.read() as tx:
            due = tx.due_plans(tx.now(), self._batch)
        return [outcome for plan_id in due if (outcome := self.check(plan_id)) is not None]

    def check(self, plan_id: int) -> CheckOutcome | None:
        with self._store.read() as tx:
            # The check's one time: the metrics' window ends then, and the decision
            # (applied in a later transaction) is stamped with it.
            now = tx.now()
            plan = tx.get_plan(plan_id)
        if plan is None or not plan.state.active or plan.next_check_at is None:
            return None
        if plan.next_check_at > now:
            return None
        observed = self._observer.observe(plan, now)
        judgements = rollout.judge_all(plan.spec, plan.state, observed.metrics, observed.split)
        assessment = rollout.assess(
            plan.spec, plan.state, judgements, now, treated=observed.exposures[0]
        )
        try:
            applied = self._record(plan, assessment, now)
        except ServiceError as refused:
            # The step could not be applied (a segment was deleted, the flag's rules no
            # longer pass): hold the plan for a person instead of retrying every minute.
            applied = self._pause_for(plan, f"could not apply the decision: {refused.message}")
        return CheckOutcome(plan_id, assessment.decision, assessment.judgements, applied)

    def _record(self, plan: RolloutPlanRecord, assessment: Assessment, now: datetime) -> bool:
        decision = assessment.decision
        as_dicts = judgements_dict(assessment.judgements)
        with self._store.transaction() as tx:
            current = tx.get_plan(plan.id, for_update=True)
            if current is None or current.version != plan.version:
                return False
            project = tx.get_project(plan.project)
            assert project is not None  # the plan's project cascades with it
            if decision.kind is DecisionKind.HOLD:
                # Most checks decide nothing: the timeline's lines are what changed, and
                # the rest are sampled as the charts' points.
                check = RolloutCheck(
                    plan.id, now, plan.state.step, "hold", decision.reason, as_dicts
                )
                if _verdicts(as_dicts) != _verdicts(plan.judgements):
                    tx.add_check(check)
                else:
                    _sample(tx, current, replace(check, decision=SAMPLE), now)
                tx.save_plan(current, assessment.state, assessment.next_check_at, as_dicts)
                return True
            carry_out(
                tx,
                self._news,
                RUNNER,
                current,
                assessment.state,
                decision,
                now=now,
                next_check_at=assessment.next_check_at,
                judgements=assessment.judgements,
                project_id=project.id,
            )
        log.info(
            "rollout #%d %s/%s: %s: %s",
            plan.id,
            plan.flag,
            plan.environment,
            decision.kind.value,
            decision.reason,
        )
        return True

    def _pause_for(self, plan: RolloutPlanRecord, reason: str) -> bool:
        with self._store.transaction() as tx:
            now = tx.now()
            current = tx.get_plan(plan.id, for_update=True)
            project = tx.get_project(plan.project)
            if current is None or project is None or current.version != plan.version:
                return False
            if not current.state.active:
                return False
            state = rollout.pause(current.state, reason)
            carry_out(
                tx,
                self._news,
                RUNNER,
                current,
                state,
                Decision(DecisionKind.PAUSE, reason),
                now=now,
                next_check_at=None,
                project_id=project.id,
            )
        return True


def _sample(
    tx: RolloutPlanStore, plan: RolloutPlanRecord, check: RolloutCheck, now: datetime
) -> None:
    """Keep ``check`` as a chart point: a new one, or in place of the newest sample
    when that one came too soon after its predecessor (``domain.rollout_samples``)."""
    recent = tx.list_checks(plan.id, 2, samples=True)
    points = [rollout_samples.Point(c.at, c.step, c.decision == SAMPLE) for c in recent]
    keeps = rollout_samples.keeps_newest(plan.spec, plan.state, now, points)
    if keeps or not tx.replace_last_sample(check):
        tx.add_check(check)


def _verdicts(judgements: Mapping[str, Any]) -> dict[str, Any]:
    return {name: j.get("verdict") for name, j in judgements.items()}
