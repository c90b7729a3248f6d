"""Releases and the evidence gathered about them: the vocabulary of the release process.

A release is one change (a feature, a bug fix or a hotfix) moving through a project's
environments in pipeline order. Gates (``domain.gates``) judge a promotion from these values
and a ``Policy`` (``policy.py``); services load them, ask, and persist the answer. Pure
values only: no I/O, time comes in as ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class ChangeKind(StrEnum):
    FEATURE = "feature"
    BUGFIX = "bugfix"
    HOTFIX = "hotfix"


class Severity(StrEnum):
    CRITICAL = "critical"  # security, data loss, crashes: fix now
    HIGH = "high"  # feature broken, performance: within 24 h
    MEDIUM = "medium"  # UI, minor: within a week
    LOW = "low"  # cosmetic: when convenient


# PRODUCT.md's fix-by times; None means "when convenient". A policy may override them.
DEFAULT_FIX_WITHIN: dict[Severity, timedelta | None] = {
    Severity.CRITICAL: timedelta(0),
    Severity.HIGH: timedelta(hours=24),
    Severity.MEDIUM: timedelta(days=7),
    Severity.LOW: None,
}


class ReleaseStatus(StrEnum):
    IN_PROGRESS = "in-progress"
    RELEASED = "released"
    ROLLED_BACK = "rolled-back"
    ABANDONED = "abandoned"


class ApproverRole(StrEnum):
    CODE_OWNER = "code-owner"
    QA = "qa"
    RELEASE_MANAGER = "release-manager"


# A release created without a key is "rel-<n>": one more than the highest such number in
# its project, keys given by hand included, so an automatic key never collides with one.
# At most 18 digits count as a number (larger ones are just keys): it fits a 64-bit integer.
AUTOMATIC_KEY_PREFIX = "rel-"
AUTOMATIC_KEY_DIGITS = 18


def automatic_key_number(key: str) -> int | None:
    """The number of a key of the automatic form ("rel-12" → 12), else None."""
    digits = key.removeprefix(AUTOMATIC_KEY_PREFIX)
    if digits == key or not 0 < len(digits) <= AUTOMATIC_KEY_DIGITS:
        return None
    return int(digits) if digits.isascii() and digits.isdigit() else None


class EvidenceKind(StrEnum):
    """What a person records about a release for the gates (CI results and deploys are
    about a commit, not a release, and have their own records). The value names the
    stored row's kind and the audit action, ``release.<kind>``."""

    APPROVAL = "approval"
    CHECK = "check"
    SIGNOFF = "signoff"
    DRILL = "drill"


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    title: str = ""
    url: str | None = None
    head_branch: str | None = None
    base_branch: str | None = None
    merged: bool = False
    merge_commit: str | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """One change and where it stands. ``stage`` is the environment it was last promoted
    into (None: not yet in any). ``content_version`` goes up whenever what is being
    released changes (commit, flags, pull requests, rollback or communication plan);
    approvals, sign-offs and drills count only for the content they saw."""

    id: int
    project: str
    key: str
    title: str
    kind: ChangeKind
    owner: str
    created_at: datetime
    content_changed_at: datetime
    severity: Severity | None = None
    flags: tuple[str, ...] = ()
    commit: str | None = None
    branch: str | None = None
    pull_requests: tuple[PullRequest, ...] = ()
    rollback_plan: str | None = None
    communication_plan: str | None = None
    justification: str | None = None  # required for the hotfix path
    stage: str | None = None
    status: ReleaseStatus = ReleaseStatus.IN_PROGRESS
    content_version: int = 1
    labels: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # who wrote the change; the owner is one of them
    # The help-docs page updated for it (a URL): a record about the release, not its
    # content, so recording it withdraws no approval.
    help_docs: str | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    approver: str
    roles: frozenset[ApproverRole]  # what the approver holds when approving
    stage: str  # the environment the approval is for (the promotion target)
    at: datetime
    content_version: int


@dataclass(frozen=True, slots=True)
class ChecklistCheck:
    item: str
    stage: str
    by: str
    at: datetime
    note: str | None = None
    content_version: int = 1


@dataclass(frozen=True, slots=True)
class SignOff:
    kind: str  # "qa"
    stage: str  # the environment that was tested (QA signs off on staging)
    by: str
    at: datetime
    content_version: int


@dataclass(frozen=True, slots=True)
class CiResult:
    commit: str
    context: str  # the CI check's name
    state: str  # "success", "failure", "pending", "error"
    at: datetime


@dataclass(frozen=True, slots=True)
class Deploy:
    environment: str
    commit: str
    at: datetime
    succeeded: bool = True


@dataclass(frozen=True, slots=True)
class Drill:
    """A rehearsed rollback: the plan run in ``environment`` and verified."""

    environment: str
    at: datetime
    succeeded: bool
    content_version: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything recorded about one release that gates may ask about."""

    approvals: tuple[Approval, ...] = ()
    checks: tuple[ChecklistCheck, ...] = ()
    signoffs: tuple[SignOff, ...] = ()
    ci: tuple[CiResult, ...] = ()
    deploys: tuple[Deploy, ...] = ()
    drills: tuple[Drill, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherRelease:
    """Another release of the project, for the "one feature rolling out at a time" gate."""

    key: str
    kind: ChangeKind
    status: ReleaseStatus
    rolling_out_in: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str  # a stable id: "approvals", "signoff:qa", "business-hours", …
    passed: bool
    detail: str  # what was found, in words
    remedy: str | None = None  # what would satisfy it, when it did not pass
    # Passed only because the hotfix path skips it (business hours, a freeze): judged
    # normally it refuses now. The detail still says what was found, for the audit record.
    bypassed: bool = False
    hotfix_path: bool = False  # judged on the hotfix path (a critical fix straight on)


@dataclass(frozen=True, slots=True)
class PromotionDecision:
    release: str
    target: str
    gates: tuple[GateResult, ...]

    @property
    def allowed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def unmet(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if not g.passed)

    @property
    def hotfix_path(self) -> bool:
        """Taken on the hotfix path: its gates are the hotfix path's."""
        return any(g.hotfix_path for g in self.gates)

    @property
    def bypassed(self) -> tuple[str, ...]:
        """The gates the hotfix path let through that would refuse now."""
        return tuple(g.gate for g in self.gates if g.bypassed)


MAX_LABELS = 20
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def people_labels(
    given: Sequence[str], *, reserved: str, kept: Sequence[str] = ()
) -> tuple[str, ...]:
    """The labels a person gives a release (``major``, ``beta``), checked: each 1 to 40
    letters, digits, ``.``, ``_`` or ``-``; each once (case aside); at most MAX_LABELS.
    ``reserved`` (the hotfix path's label) only Shipwise sets: a person can neither add
    it nor take it away, so a release that has it (in ``kept``) keeps it. ValueError
    names the label at fault."""
    found: dict[str, str] = {}
    for label in given:
        if not _LABEL.fullmatch(label):
            raise ValueError(
                f"label {label!r}: 1 to 40 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if label.casefold() == reserved.casefold():
            raise ValueError(
                f"label {label!r} is the hotfix path's: Shipwise sets it when a hotfix is promoted"
            )
        found.setdefault(label.casefold(), label)
    if len(found) > MAX_LABELS:
        raise ValueError(f"{len(found)} labels; at most {MAX_LABELS}")
    ours = [label for label in kept if label.casefold() == reserved.casefold()]
    return (*ours, *found.values())
