"""The release policy as values: what ``shipwise.toml`` says, or the defaults that
reproduce PRODUCT.md. ``policy.py`` reads and writes it; ``domain.gates`` applies it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from shipwise.domain.releases import DEFAULT_FIX_WITHIN, ApproverRole, Severity
from shipwise.domain.rollout import Watch


@dataclass(frozen=True, slots=True)
class Window:
    """When promotions may happen, in the project's time zone."""

    weekdays: frozenset[int] = frozenset(range(5))  # 0 = Monday … 6 = Sunday
    start: time = time(9, 0)
    end: time = time(17, 0)  # exclusive; start < end


@dataclass(frozen=True, slots=True)
class Freeze:
    """No promotions from ``start`` to ``end`` (both days included)."""

    name: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    count: int  # distinct approvers needed, none of them an author of the release
    roles: frozenset[ApproverRole]  # each approver must hold at least one of these


@dataclass(frozen=True, slots=True)
class StageGates:
    """The gates of promoting a release INTO ``environment``."""

    environment: str
    branch: str
    approvals: ApprovalRule | None = None
    signoffs: tuple[tuple[str, str], ...] = ()  # (kind, tested environment): ("qa", "staging")
    checklist: tuple[str, ...] = ()
    require_ci: bool = True  # the release's commit green in CI
    require_previous_deploy: bool = False  # the commit deployed to the previous environment
    require_rollback_plan: bool = False
    rollback_drill_in: str | None = None  # a successful drill there since the last change
    business_hours: bool = False
    respect_freezes: bool = False
    one_feature_rolling_out: bool = False  # at most `max_feature_rollouts` features at once
    # A feature labelled "major" needs its help-docs page recorded (``gates.help_docs``).
    require_help_docs: bool = False
    # Protected: nothing shows a feature to more users here except its release (gates, then
    # its rollout plan) or an approved change request. Reducing exposure is never held up.
    protected: bool = False
    # Who sees a release's flags once it is promoted here (unprotected stages only):
    # "everyone", or the name of a segment (e.g. the QA testers). None: leave flags alone.
    testers: str | None = "everyone"


@dataclass(frozen=True, slots=True)
class HotfixPolicy:
    severities: frozenset[Severity] = frozenset({Severity.CRITICAL})
    branch: str = "main"
    approvals: ApprovalRule = ApprovalRule(
        2, frozenset({ApproverRole.CODE_OWNER, ApproverRole.RELEASE_MANAGER})
    )
    require_justification: bool = True
    label: str = "HOTFIX"


@dataclass(frozen=True, slots=True)
class Policy:
    timezone: str = "UTC"
    stages: tuple[StageGates, ...] = ()  # pipeline order
    window: Window = Window()
    freezes: tuple[Freeze, ...] = ()
    one_feature_per_release: bool = True
    max_feature_rollouts: int = 1  # per environment, for stages with one_feature_rolling_out
    hotfix: HotfixPolicy = HotfixPolicy()
    fix_within: dict[Severity, timedelta | None] = field(
        default_factory=lambda: dict(DEFAULT_FIX_WITHIN)
    )
    code_owners: tuple[str, ...] = ()  # people whose approval counts as code-owner review
    # A change request in a protected environment needs this many people, never its
    # requester; roles left empty means anyone who may change flags there.
    change_approvals: ApprovalRule = ApprovalRule(2, frozenset())
    # ``[notes] exclude``: what release notes leave out (``domain.policy_notes``).
    notes_exclude: tuple[str, ...] = ()
    # ``[watch]``: how often rollout plans read their guardrails (``domain.policy_watch``).
    watch: Watch = field(default_factory=Watch)

    def is_protected(self, environment: str) -> bool:
        found = self.stage(environment)
        return found is not None and found.protected

    def stage(self, environment: str) -> StageGates | None:
        return next((s for s in self.stages if s.environment == environment), None)
