"""Where a release goes next: the next environment of the pipeline, or, for a critical
fix from the hotfix branch, straight to the environment that branch feeds.

These are questions about the pipeline, not gates: the gates (``domain.gates``) judge
whether the release may go there now.
"""

from __future__ import annotations

from shipwise.domain.pipeline import stage_before_production
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import ChangeKind, Release

__all__ = [
    "between",
    "environments",
    "hotfix_environment",
    "is_hotfix_eligible",
    "next_environment",
    "pre_production",
    "previous_environment",
]


def environments(policy: Policy) -> list[str]:
    """The pipeline's environments in promotion order."""
    return [s.environment for s in policy.stages]


def next_environment(policy: Policy, stage: str | None) -> str | None:
    """The environment after ``stage`` (the first when None); None at the end or when
    ``stage`` is not in the pipeline."""
    names = environments(policy)
    if stage is None:
        return names[0] if names else None
    if stage not in names:
        return None
    position = names.index(stage) + 1
    return names[position] if position < len(names) else None


def previous_environment(policy: Policy, target: str) -> str | None:
    """The environment before ``target``; None for the first or one outside the pipeline."""
    names = environments(policy)
    position = names.index(target) if target in names else 0
    return names[position - 1] if position > 0 else None


def between(policy: Policy, stage: str | None, target: str) -> list[str]:
    """The environments a release in ``stage`` skips on its way to ``target``."""
    names = environments(policy)
    start = names.index(stage) + 1 if stage in names else 0
    end = names.index(target) if target in names else len(names)
    return names[start:end]


def pre_production(policy: Policy) -> str | None:
    """Where a release is tried before production, the default place for sign-offs and
    rollback drills: the stage before the first protected one (the last when none is),
    or the only stage of a one-stage pipeline."""
    protected = next((s.environment for s in policy.stages if s.protected), None)
    return stage_before_production(environments(policy), protected)


def hotfix_environment(policy: Policy) -> str | None:
    """Where the hotfix path goes: the environment fed by the hotfix branch (production,
    fed by ``main``), else the last one."""
    for stage in policy.stages:
        if stage.branch == policy.hotfix.branch:
            return stage.environment
    return policy.stages[-1].environment if policy.stages else None


def is_hotfix_eligible(release: Release, policy: Policy) -> bool:
    """A bug fix or hotfix of a severity the policy rushes (critical), based on the
    hotfix branch (``main``): PRODUCT.md's "hotfix branch from main"."""
    return (
        release.kind in {ChangeKind.HOTFIX, ChangeKind.BUGFIX}
        and release.severity in policy.hotfix.severities
        and release.branch == policy.hotfix.branch
    )
