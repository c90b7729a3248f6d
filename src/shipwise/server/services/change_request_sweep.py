"""Pending change requests go stale when their target changes under them: a request
says "make version N into this", and its reviewers approved it against version N.

Called by every write of a flag's rules (``flag_changes.apply_change_in``), of a
segment and of the policy, in the writer's transaction: the requests it marks are
audited with the change that outdated them, and a request being applied is already
marked applied, so it is not among them.
"""

from __future__ import annotations

from typing import Protocol

from shipwise.domain.change_requests import PENDING, RequestKind, go_stale, readable_diff
from shipwise.server.ports import AuditStore, ChangeRequestStore, Clocked, Project
from shipwise.server.services._common import audit
from shipwise.server.services.principal import Principal


class SweepTx(ChangeRequestStore, AuditStore, Clocked, Protocol):
    """What marking requests stale touches: the requests, and the audit log."""


def withdraw_stale(
    tx: SweepTx,
    principal: Principal,
    project: Project,
    kind: RequestKind,
    target: str,
    environment: str | None,
    version: int,
) -> list[int]:
    """Mark the pending requests on ``target`` that were based on another version than
    ``version`` (its version now) stale; their ids."""
    pending = tx.list_change_requests(
        project.id,
        states=PENDING,
        kind=kind,
        target=target,
        environment=environment,
        for_update=True,
    )
    now = tx.now()  # the injected clock: a simulated clock stamps stale requests too
    marked: list[int] = []
    for request in pending:
        if request.base_version == version:
            continue
        reason = f"{kind} changed under it: version {version}"
        stale = tx.save_change_request(go_stale(request, now, reason))
        audit(
            tx,
            principal,
            "change-request.withdraw",
            "change-request",
            str(request.id),
            project=project.key,
            environment=environment,
            before={"state": request.state.value, "base_version": request.base_version},
            after={
                "state": stale.state.value,
                "what": request.what,
                "diff": readable_diff(request.before, request.change),
            },
            reason=reason,
        )
        marked.append(request.id)
    return marked


def flag_changed(
    tx: SweepTx,
    principal: Principal,
    project: Project,
    flag: str,
    environment: str,
    version: int,
) -> list[int]:
    """``withdraw_stale`` for a flag's rules in one environment, now at ``version``."""
    return withdraw_stale(tx, principal, project, RequestKind.FLAG, flag, environment, version)
