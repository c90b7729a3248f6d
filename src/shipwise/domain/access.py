"""Who may do what: roles per project, and the kinds of SDK key.

A closed vocabulary (enums) and one table; the API asks ``allows(role, action)``.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    DEVELOPER = "developer"
    QA = "qa"
    RELEASE_MANAGER = "release-manager"
    ADMIN = "admin"


class TokenKind(StrEnum):
    API = "api"  # a person or a script using the admin API, with a role
    SERVER = "server"  # a server-side SDK: reads one environment's full configuration
    FRONTEND = "frontend"  # a browser or app: evaluated results for one context only


class Action(StrEnum):
    READ = "read"  # see projects, flags, segments, audit
    WRITE_FLAGS = "write-flags"  # create and configure flags and segments
    KILL = "kill"  # the kill switch, and rolling a release back
    MANAGE_ENVIRONMENTS = "manage-environments"
    MANAGE_TOKENS = "manage-tokens"
    MANAGE_PROJECTS = "manage-projects"  # create projects (global admins only)
    MANAGE_RELEASES = "manage-releases"  # create and edit releases, check checklist items
    APPROVE = "approve"  # approve a release (which approvals count is the policy's business)
    SIGN_OFF = "sign-off"  # QA sign-off
    PROMOTE = "promote"  # move a release on (the gates decide whether it may)
    REPORT = "report"  # record deploys and CI results (a CI pipeline's token)
    MANAGE_POLICY = "manage-policy"  # apply shipwise.toml
    ROLLOUT = "rollout"  # start, pause, resume, abort rollout plans; define metrics
    OVERRIDE_ROLLOUT = "override-rollout"  # skip a plan ahead, approve a step
    MANAGE_CHANNELS = "manage-channels"  # notification channels (Slack, email, webhook)


_RELEASING = frozenset(
    {Action.MANAGE_RELEASES, Action.APPROVE, Action.PROMOTE, Action.REPORT, Action.ROLLOUT}
)
# Control, then speed of retreat: whatever shows a feature to fewer people (switch it off,
# kill it, roll its release back) is one step for anyone who may write flags. Whoever may
# turn a flag off may also kill it; the two verbs are never granted apart.
_FLAG_WRITING = frozenset({Action.WRITE_FLAGS, Action.KILL})

_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.DEVELOPER: frozenset({Action.READ}) | _FLAG_WRITING | _RELEASING,
    Role.QA: frozenset({Action.READ, Action.SIGN_OFF}) | _FLAG_WRITING | _RELEASING,
    # Release managers also manage the pipeline and its policy and override plans, not keys.
    Role.RELEASE_MANAGER: _FLAG_WRITING
    | frozenset(
        {
            Action.READ,
            Action.MANAGE_ENVIRONMENTS,
            Action.SIGN_OFF,
            Action.MANAGE_POLICY,
            Action.OVERRIDE_ROLLOUT,
            Action.MANAGE_CHANNELS,
        }
    )
    | _RELEASING,
    Role.ADMIN: frozenset(Action) - {Action.MANAGE_PROJECTS},
}


def allows(role: Role, action: Action, *, global_admin: bool = False) -> bool:
    """Whether ``role`` on a project may perform ``action`` there. A global admin token
    (the one created at first start) may do everything, everywhere."""
    return global_admin or action in _ALLOWED[role]
