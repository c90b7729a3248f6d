"""One GitHub delivery being applied to a project (``github_intake``): its transaction,
what it knows of the project, and the summary it is writing. Every change it saves is
audited with the actor ``github:<login>`` and the delivery named as the reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.github import PullRequestInfo
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import Release
from shipwise.server.ports import AuditEntry, Environment, Project
from shipwise.server.services.evidence import EvidenceTx, Witness

__all__ = ["Delivery", "DeliveryTx"]


class DeliveryTx(EvidenceTx, Protocol):
    """What applying a delivery's fact touches: the releases, their evidence (CI results
    and deploys among it) and the audit log."""


@dataclass
class Delivery:
    """One delivery being applied: its transaction, and the summary it is writing."""

    tx: DeliveryTx
    project: Project
    policy: Policy
    environments: list[Environment]
    now: datetime
    actor: str
    why: str  # the audit records' reason: which delivery
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # approvals recorded, as (release, stage, reviewer): told once the fact is applied
    approved: list[tuple[Release, str, str]] = field(default_factory=list)

    def audit(
        self,
        action: str,
        target_type: str,
        target_key: str,
        *,
        environment: str | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self.tx.append_audit(
            AuditEntry(
                actor=self.actor,
                action=action,
                target_type=target_type,
                target_key=target_key,
                project=self.project.key,
                environment=environment,
                before=before,
                after=after,
                reason=self.why,
            )
        )

    def witness(self, person: str | None = None) -> Witness:
        """Who records evidence from this delivery: GitHub's sender in the audit log
        (the delivery as the reason), ``person`` in the evidence (a reviewer)."""
        return Witness(self.actor, person or self.actor, self.why)

    def environment_fed_by(self, branch: str) -> Environment | None:
        return next((e for e in self.environments if e.branch == branch), None)

    def is_work(self, pull: PullRequestInfo) -> bool:
        return self.environment_fed_by(pull.head_branch) is None

    def save(self, before: Release, after: Release, what: str) -> Release:
        saved = self.tx.save_release(after)
        self.audit(
            "release.update", "release", before.key, before=_view(before), after=_view(saved)
        )
        self.applied.append(f"{before.key}: {what}")
        return saved


def _view(release: Release) -> dict[str, Any]:
    return {
        "commit": release.commit,
        "pull_requests": [p.number for p in release.pull_requests],
        "merged": [p.number for p in release.pull_requests if p.merged],
        "authors": list(release.authors),
        "content_version": release.content_version,
    }
