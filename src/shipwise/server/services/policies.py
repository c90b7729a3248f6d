"""The release policy as code: showing the one in force and applying a new one, which
guards itself. A policy that loosens nothing takes effect at once; one that weakens a
rule (fewer approvals, a wider window, a gate off, an environment unprotected, see
``domain.policy_diff``) becomes a change request that a second release manager or admin
approves and applies. Either way the audit record carries the diff of the two files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from shipwise.domain.access import Action
from shipwise.domain.change_requests import RequestKind
from shipwise.domain.policy import PolicyError, dump_policy
from shipwise.domain.policy_diff import diff, weakenings
from shipwise.domain.policy_model import Policy
from shipwise.server.ports import (
    ChannelStore,
    Clocked,
    OutboxStore,
    PolicySourceStore,
    Project,
    ProjectStore,
    ReleaseStore,
    StoreOf,
    SubscriptionStore,
)
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.change_request_sweep import SweepTx, withdraw_stale
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.services.releases import ReleaseService

if TYPE_CHECKING:
    from shipwise.server.services.change_requests import ChangeRequestService, RequestView


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """What applying a policy did: took effect (``version``), or opened ``request``
    because of ``weakenings``."""

    policy: Policy
    version: int | None
    weakenings: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    request: RequestView | None = None

    @property
    def applied(self) -> bool:
        return self.request is None


class PolicyInvalid(Invalid):
    """A policy file with mistakes (422): the message is ``PolicyError``'s, as the API and
    the CLI show it; ``problems`` keeps every one with its line and key, so the dashboard
    lists them one by one."""

    def __init__(self, error: PolicyError) -> None:
        super().__init__(str(error), field=error.key)
        self.problems = error.problems


class PolicyTx(PolicySourceStore, SweepTx, Protocol):
    """What applying a policy touches: its source, the requests it outdates, the audit."""


class _PolicyServiceTx(
    PolicyTx,
    ProjectStore,
    OutboxStore,
    ChannelStore,
    ReleaseStore,
    SubscriptionStore,
    Clocked,
    Protocol,
):
    """Applying a policy (``PolicyTx``) or, when it weakens a rule, opening a change
    request instead (``RequestTx``: the project, the request, its notification); either
    stamped by the store's clock."""


def save_policy_in(
    tx: PolicyTx,
    principal: Principal,
    project: Project,
    source: str,
    base_version: int,
    *,
    diff: Sequence[str],
    authority: str | None,
    now: datetime,
) -> int:
    """Store ``source`` as the project's policy, checked against ``base_version`` (the
    version its diff was made against), audited with the diff; the new version."""
    version = tx.save_policy_source(project.id, source, now)
    if version != base_version + 1:  # someone applied another policy meanwhile
        raise Conflict(
            f"the policy of {project.key!r} changed while this one was being applied (now "
            f"version {version - 1}, this was based on {base_version}): apply it again"
        )
    after: dict[str, object] = {"version": version, "source": source, "diff": list(diff)}
    if authority is not None:
        after["authority"] = authority
    audit(
        tx,
        principal,
        "policy.apply",
        "policy",
        project.key,
        project=project.key,
        before={"version": base_version or None},
        after=after,
    )
    withdraw_stale(tx, principal, project, RequestKind.POLICY, project.key, None, version)
    return version


class PolicyService:
    def __init__(
        self,
        store: StoreOf[_PolicyServiceTx],
        releases: ReleaseService,
        change_requests: ChangeRequestService,
    ) -> None:
        self._store = store
        self._releases = releases
        self._change_requests = change_requests

    def apply(self, principal: Principal, project_key: str, text: str) -> PolicyOutcome:
        with self._store.transaction() as tx:
            now = tx.now()  # the policy's version, or the request opened instead
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_POLICY, project)
            try:
                new = self._releases.policy_for(tx, project, text)
            except PolicyError as error:
                raise PolicyInvalid(error) from None
            old = self._releases.policy_for(tx, project)
            stored = tx.get_policy_source(project.id)
            old_source, base = stored if stored is not None else (None, 0)
            found, lines = weakenings(old, new), diff(old, new)
            if found:
                request = self._change_requests.request_policy_in(
                    tx,
                    principal,
                    project,
                    change={"source": text, "weakenings": found, "diff": lines},
                    before={"source": old_source, "version": base or None},
                    base_version=base,
                    now=now,
                )
                return PolicyOutcome(old, base or None, found, lines, request)
            version = save_policy_in(
                tx, principal, project, text, base, diff=lines, authority=None, now=now
            )
            return PolicyOutcome(new, version, [], lines)

    def effective(
        self, principal: Principal, project_key: str
    ) -> tuple[str, str | None, int | None]:
        """The policy in force as TOML, and the applied file and its version (None, None
        while the defaults rule)."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            stored = tx.get_policy_source(project.id)
            source, version = stored if stored is not None else (None, None)
            return dump_policy(self._releases.policy_for(tx, project)), source, version
