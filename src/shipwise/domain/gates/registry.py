"""The registry: every gate in the one order decisions report them. Evaluating a
promotion, describing it beforehand and labelling a gate id all walk this list, so a
gate added here is judged, described and labelled everywhere at once.

The hotfix path is the same list seen from a critical fix going straight to its
environment: gates that only a normal promotion asks for do not apply there, its own
(eligibility, justification) only apply there, and the bypassable ones (business hours,
freezes) are judged as usual and then reported passed, marked ``bypassed``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from shipwise.domain.gates.calendar import BUSINESS_HOURS, FREEZE
from shipwise.domain.gates.commit import CI, PREVIOUS_DEPLOY
from shipwise.domain.gates.gate import Gate, Judging, Where, local_time, policy_zone
from shipwise.domain.gates.help_docs import HELP_DOCS
from shipwise.domain.gates.hotfix import JUSTIFICATION, QUALIFIES
from shipwise.domain.gates.people import APPROVALS, CHECKLIST, SIGNOFFS
from shipwise.domain.gates.release import FEATURE_ROLLOUTS, ONE_FEATURE, ORDER, STATUS
from shipwise.domain.gates.rollback import ROLLBACK_DRILL, ROLLBACK_PLAN
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_route import hotfix_environment, is_hotfix_eligible
from shipwise.domain.releases import Evidence, GateResult, OtherRelease, PromotionDecision, Release

__all__ = ["BYPASSED", "GATES", "REGISTRY", "GateRegistry"]

BYPASSED = "bypassed by the hotfix path"  # how a bypassed gate's detail begins

GATES: tuple[Gate, ...] = (
    STATUS,
    QUALIFIES,
    ORDER,
    JUSTIFICATION,
    ONE_FEATURE,
    APPROVALS,
    SIGNOFFS,
    CHECKLIST,
    CI,
    PREVIOUS_DEPLOY,
    ROLLBACK_PLAN,
    ROLLBACK_DRILL,
    HELP_DOCS,
    BUSINESS_HOURS,
    FREEZE,
    FEATURE_ROLLOUTS,
)


@dataclass(frozen=True, slots=True)
class GateRegistry:
    """Gates in report order; ids unique."""

    gates: tuple[Gate, ...]

    def __post_init__(self) -> None:
        ids = [gate.id for gate in self.gates]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"gate ids must be unique; listed twice: {', '.join(twice)}")

    def evaluate(
        self,
        release: Release,
        target: str,
        policy: Policy,
        evidence: Evidence,
        others: Sequence[OtherRelease],
        now: datetime,
    ) -> PromotionDecision:
        """Every gate of promoting ``release`` into ``target`` at ``now`` (timezone-aware).
        A release eligible for the hotfix path and aimed at its environment is judged on
        that path (``hotfix``)."""
        judging = self._judging(release, target, policy, evidence, others, now)
        return PromotionDecision(release.key, target, tuple(self._judge(judging)))

    def first_unmet(
        self,
        release: Release,
        target: str,
        policy: Policy,
        evidence: Evidence,
        others: Sequence[OtherRelease],
        now: datetime,
    ) -> GateResult | None:
        """``evaluate(...).unmet[0]`` without judging the gates after it (a board shows
        only what holds each card back); None when every gate passes."""
        judging = self._judging(release, target, policy, evidence, others, now)
        return next((result for result in self._judge(judging) if not result.passed), None)

    def _judging(
        self,
        release: Release,
        target: str,
        policy: Policy,
        evidence: Evidence,
        others: Sequence[OtherRelease],
        now: datetime,
    ) -> Judging:
        zone = policy_zone(policy)
        local = local_time(now, zone)  # refuses a naive `now`
        if is_hotfix_eligible(release, policy) and target == hotfix_environment(policy):
            return Judging(
                release, target, policy, True, policy.stage(target), evidence, (), zone, local
            )
        return Judging(
            release,
            target,
            policy,
            False,
            policy.stage(target),
            evidence,
            tuple(others),
            zone,
            local,
        )

    def hotfix(
        self, release: Release, policy: Policy, evidence: Evidence, now: datetime
    ) -> PromotionDecision:
        """The hotfix path into ``hotfix_environment(policy)``: eligible, justified,
        approved by ``policy.hotfix.approvals`` and green in CI. Business hours and
        freezes are bypassed, and the decision says so."""
        zone = policy_zone(policy)
        local = local_time(now, zone)  # refuses a naive `now`
        target = hotfix_environment(policy)
        if target is None:
            raise ValueError("the policy has no environments: there is nowhere to hotfix into")
        judging = Judging(
            release, target, policy, True, policy.stage(target), evidence, (), zone, local
        )
        return PromotionDecision(release.key, target, tuple(self._judge(judging)))

    def describe(
        self, release: Release, target: str, policy: Policy
    ) -> tuple[tuple[str, str], ...]:
        """What promoting ``release`` into ``target`` will ask for, before any evidence:
        (gate id, requirement in words), in the order ``evaluate`` reports them."""
        hotfix = is_hotfix_eligible(release, policy) and target == hotfix_environment(policy)
        where = Where(release, target, policy, hotfix, policy.stage(target))
        wanted = []
        for gate in self._applying(where):
            for item in gate.items(where):
                text = gate.describe(where, item)
                if text is not None:
                    wanted.append((gate.instance_id(item), text))
        return tuple(wanted)

    def label(self, gate_id: str) -> str:
        """A gate id in words: "signoff:qa" → "QA sign-off", "checklist:Smoke test" →
        "Smoke test"; an id no gate has, as it is."""
        family, _, item = gate_id.partition(":")
        for gate in self.gates:
            if item and gate.id == family and gate.item_label is not None:
                return gate.item_label(item)
            if gate.id == gate_id:
                return gate.label
        return gate_id

    def _applying(self, where: Where) -> Iterator[Gate]:
        for gate in self.gates:
            if gate.needs_stage and where.settings is None:
                continue
            if gate.applies(where):
                yield gate

    def _judge(self, judging: Judging) -> Iterator[GateResult]:
        for gate in self._applying(judging):
            for item in gate.items(judging):
                found = gate.judge(judging, item)
                gate_id, on_path = gate.instance_id(item), judging.hotfix
                if on_path and gate.bypassable:
                    bypassed = not found.passed
                    detail = f"{BYPASSED}: {found.detail}" if bypassed else found.detail
                    yield GateResult(gate_id, True, detail, None, bypassed, on_path)
                else:
                    yield GateResult(
                        gate_id, found.passed, found.detail, found.remedy, False, on_path
                    )


REGISTRY = GateRegistry(GATES)
