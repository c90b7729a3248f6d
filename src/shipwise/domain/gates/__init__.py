"""Gates: may this release go into that environment now, and if not, what would let it.

``evaluate_promotion`` judges one promotion against the target stage's ``StageGates`` and
answers with a ``PromotionDecision``: one ``GateResult`` per gate, saying what was found
and, when it did not pass, exactly what would satisfy it. Nothing changes here;
``release_flow.promote`` applies an allowed decision.

Each gate is one ``Gate`` definition (``gate.py``): its id, label, when it applies, what
it asks for beforehand and how it judges. ``registry.GATES`` lists them in report order;
evaluation, ``describe_gates`` and ``gate_label`` all walk that one list. The gates
live by subject: ``release`` (status, order, one feature), ``hotfix`` (the path's own),
``people`` (approvals, sign-offs, checklist), ``commit`` (CI, previous deploy),
``rollback`` (plan, drill) and ``calendar`` (business hours, freezes).

Evidence counts only for what it saw: approvals, sign-offs and rollback drills recorded
for an earlier ``content_version`` were withdrawn by the change. Authors never approve or
sign off their own release. Times are judged in the policy's time zone.

Every remedy that a command can satisfy names that command, runnable as written
(``shipwise release approve rel-3 --env production -p shop``, from ``commands``); the
words before it say what the command stands for.

The hotfix path (a critical bug fixed from ``main`` goes straight to production with two
approvals and a written justification) has its own, shorter list: eligibility, the
justification, the hotfix approvals and CI. It skips the environments in between and
bypasses business hours and freezes, because an outage does not wait for Monday; the
decision still lists those two gates, passed, and a gate that would have refused is
marked ``bypassed`` with "bypassed by the hotfix path" before its detail, so the audit
record shows what was skipped. Every gate judged on that path has ``hotfix_path`` set.

Where a release goes next (``release_route``) and when a fix is due (``release_timing``)
are not gates; their names are re-exported here for the modules that import them so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok, stage_setting
from shipwise.domain.gates.hotfix import HOTFIX_PATH
from shipwise.domain.gates.registry import BYPASSED, GATES, REGISTRY, GateRegistry
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_route import (
    hotfix_environment,
    is_hotfix_eligible,
    next_environment,
)
from shipwise.domain.release_timing import fix_by, is_overdue
from shipwise.domain.releases import (
    Evidence,
    GateResult,
    OtherRelease,
    PromotionDecision,
    Release,
    ReleaseStatus,
)

__all__ = [
    "BYPASSED",
    "GATES",
    "HOTFIX_PATH",
    "REGISTRY",
    "Gate",
    "GateRegistry",
    "Item",
    "Judged",
    "Judging",
    "Where",
    "describe_gates",
    "evaluate_promotion",
    "first_unmet_gate",
    "fix_by",
    "gate_label",
    "hotfix_environment",
    "hotfix_gates",
    "is_hotfix_eligible",
    "is_overdue",
    "next_environment",
    "no",
    "ok",
    "release_gates",
    "stage_setting",
]


def evaluate_promotion(
    release: Release,
    target: str,
    policy: Policy,
    evidence: Evidence,
    others: Sequence[OtherRelease],
    now: datetime,
) -> PromotionDecision:
    """Every gate of promoting ``release`` into ``target`` at ``now`` (timezone-aware).
    A release eligible for the hotfix path and aimed at its environment is judged by
    ``hotfix_gates`` instead."""
    return REGISTRY.evaluate(release, target, policy, evidence, others, now)


def first_unmet_gate(
    release: Release,
    target: str,
    policy: Policy,
    evidence: Evidence,
    others: Sequence[OtherRelease],
    now: datetime,
) -> GateResult | None:
    """The first gate ``evaluate_promotion`` would report unmet, judging none after it;
    None when the promotion may go ahead."""
    return REGISTRY.first_unmet(release, target, policy, evidence, others, now)


def hotfix_gates(
    release: Release, policy: Policy, evidence: Evidence, now: datetime
) -> PromotionDecision:
    """The hotfix path into ``hotfix_environment(policy)``: eligible, justified, approved
    by ``policy.hotfix.approvals`` and green in CI. Business hours and freezes are
    bypassed, and the decision says so."""
    return REGISTRY.hotfix(release, policy, evidence, now)


def describe_gates(release: Release, target: str, policy: Policy) -> tuple[tuple[str, str], ...]:
    """What promoting ``release`` into ``target`` will ask for, before any evidence:
    (gate id, requirement in words), in the order ``evaluate_promotion`` reports them."""
    return REGISTRY.describe(release, target, policy)


def gate_label(gate: str) -> str:
    """A gate id in words: "signoff:qa" → "QA sign-off", "checklist:Smoke test" → "Smoke test"."""
    return REGISTRY.label(gate)


def release_gates(
    release: Release,
    policy: Policy,
    evidence: Evidence,
    others: Sequence[OtherRelease],
    now: datetime,
) -> dict[str, PromotionDecision]:
    """The promotions open to the release next, by target: the next environment, and the
    hotfix path's environment when the release is eligible. Empty once the release is no
    longer in progress or sits in the last environment."""
    if release.status is not ReleaseStatus.IN_PROGRESS:
        return {}
    targets = [next_environment(policy, release.stage)]
    if is_hotfix_eligible(release, policy):
        targets.append(hotfix_environment(policy))
    return {
        target: evaluate_promotion(release, target, policy, evidence, others, now)
        for target in dict.fromkeys(targets)
        if target is not None and target != release.stage
    }
