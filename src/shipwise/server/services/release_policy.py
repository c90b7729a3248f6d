"""The questions about a project's release policy that every release service asks: the
policy in force, where a release goes next, what an approver holds, and where a release
is tested. GitHub intake needs only this; evidence and promotion ask it too, so each
question has one answer."""

from __future__ import annotations

from shipwise.domain import release_route
from shipwise.domain.change_requests import Reviewer, approver_roles
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import ApproverRole, Release, ReleaseStatus
from shipwise.server.ports import Project
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import PolicyReader, project_policy

__all__ = ["ReleasePolicy", "next_stage"]


def next_stage(release: Release, policy: Policy) -> str | None:
    """Where the release goes next: the next environment of the pipeline, or straight to
    production for a hotfix that qualifies for the hotfix path."""
    if release.status is not ReleaseStatus.IN_PROGRESS:
        return None
    if release.stage is None and release_route.is_hotfix_eligible(release, policy):
        return release_route.hotfix_environment(policy)
    return release_route.next_environment(policy, release.stage)


class ReleasePolicy:
    """The project's release policy, read inside the caller's transaction."""

    def policy_for(self, tx: PolicyReader, project: Project, source: str | None = None) -> Policy:
        """The project's policy: ``source`` (or the applied shipwise.toml) over the
        defaults for its pipeline and time zone."""
        return project_policy(tx, project, source)

    @staticmethod
    def next_stage(release: Release, policy: Policy) -> str | None:
        return next_stage(release, policy)

    @staticmethod
    def roles_of(principal: Principal, policy: Policy) -> frozenset[ApproverRole]:
        """What an approver holds (the one rule change requests use too)."""
        reviewer = Reviewer(principal.person, principal.role, principal.global_admin)
        return approver_roles(reviewer, policy.code_owners)

    @staticmethod
    def testing_stage(policy: Policy) -> str | None:
        """Where a release is tested before production: the default stage of a sign-off
        and of a rollback drill (``staging`` in the default pipeline, ``qa`` in
        dev → qa → prod)."""
        return release_route.pre_production(policy)
