"""When a bug fix is due: its fix-by time by severity, and whether it is overdue."""

from __future__ import annotations

from datetime import datetime

from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import Release, ReleaseStatus

__all__ = ["fix_by", "is_overdue"]


def fix_by(release: Release, policy: Policy) -> datetime | None:
    """When a bug fix is due by its severity (critical: at once; high: 24 h; medium: a
    week); None for no severity or "when convenient"."""
    if release.severity is None:
        return None
    within = policy.fix_within.get(release.severity)
    return None if within is None else release.created_at + within


def is_overdue(release: Release, policy: Policy, now: datetime) -> bool:
    """Still in progress after its fix-by time. A critical fix is due at once, so it is
    overdue from the moment it exists until it is released."""
    due = fix_by(release, policy)
    return due is not None and release.status is ReleaseStatus.IN_PROGRESS and now > due
