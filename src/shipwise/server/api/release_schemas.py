"""The API's answers about releases: a release as the API shows it, its next promotion's
decision gate by gate, a list, and a promotion's outcome. Shared by the release routes
(``admin_releases``) and any route that answers with a release.

``help_docs`` is the help-docs page recorded for the release (``PUT …/help-docs``), which
the help-docs gate asks of major features; null when none is recorded.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shipwise.domain.releases import PromotionDecision, Release
from shipwise.server.api.schemas import GateOut
from shipwise.server.services.promotion import gate_dict

__all__ = ["DecisionOut", "PromotionOut", "ReleaseDetail", "ReleaseList", "ReleaseOut"]


class ReleaseOut(BaseModel):
    key: str
    title: str
    kind: str
    severity: str | None
    owner: str
    authors: list[str]
    flags: list[str]
    commit: str | None
    branch: str | None
    pull_requests: list[dict[str, Any]]
    rollback_plan: str | None
    communication_plan: str | None
    justification: str | None
    stage: str | None
    status: str
    content_version: int
    labels: list[str]
    help_docs: str | None = Field(
        description="The help-docs page recorded for it (major features need one)"
    )

    @classmethod
    def of(cls, release: Release) -> ReleaseOut:
        return cls(
            key=release.key,
            title=release.title,
            kind=release.kind.value,
            severity=None if release.severity is None else release.severity.value,
            owner=release.owner,
            authors=list(release.authors),
            flags=list(release.flags),
            commit=release.commit,
            branch=release.branch,
            pull_requests=[
                {"number": p.number, "title": p.title, "url": p.url, "merged": p.merged}
                for p in release.pull_requests
            ],
            rollback_plan=release.rollback_plan,
            communication_plan=release.communication_plan,
            justification=release.justification,
            stage=release.stage,
            status=release.status.value,
            content_version=release.content_version,
            labels=list(release.labels),
            help_docs=release.help_docs,
        )


class DecisionOut(BaseModel):
    target: str
    allowed: bool
    gates: list[GateOut]

    @classmethod
    def of(cls, decision: PromotionDecision) -> DecisionOut:
        return cls(
            target=decision.target,
            allowed=decision.allowed,
            gates=[GateOut(**gate_dict(g)) for g in decision.gates],  # type: ignore[arg-type]
        )


class ReleaseDetail(BaseModel):
    release: ReleaseOut
    next_stage: str | None
    allowed: bool | None = Field(description="Whether the next promotion may proceed now")
    gates: list[GateOut]


class ReleaseList(BaseModel):
    releases: list[ReleaseOut]


class PromotionOut(BaseModel):
    release: ReleaseOut
    target: str
    allowed: bool
    gates: list[GateOut]
    switched_on: list[str] = Field(
        default_factory=list,
        description="The release's flags switched on in the target for its stage's testers",
    )
