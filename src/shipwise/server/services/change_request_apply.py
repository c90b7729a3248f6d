"""Applying an approved change request to its target, inside the caller's transaction:
the target's version now (its row locked until the transaction ends), then the change,
made through the same path as a hand edit (``flag_changes``, ``segments.save_in``,
``policies.save_policy_in``) with the request as its authority."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shipwise.domain.change_requests import ChangeRequest, RequestKind
from shipwise.server.ports import Project, SnapshotStore
from shipwise.server.services._common import environment_or_404, flag_or_404
from shipwise.server.services.flag_changes import (
    ConfigChange,
    FlagChangeTx,
    Target,
    apply_change_in,
)
from shipwise.server.services.policies import save_policy_in
from shipwise.server.services.principal import Principal
from shipwise.server.services.segments import save_in as save_segment_in

__all__ = ["ApplyTx", "make_change", "version_now"]


class ApplyTx(FlagChangeTx, SnapshotStore, Protocol):
    """What applying reads and writes: a flag's rules (``FlagChangeTx``), a segment
    (``segments.SegmentTx``, which also reads the snapshots of the environments that use
    it) or the policy (``policies.PolicyTx``, whose stores ``FlagChangeTx`` holds)."""


def version_now(tx: ApplyTx, project: Project, request: ChangeRequest) -> int:
    """The target's version now, its row locked until the transaction ends."""
    if request.kind is RequestKind.FLAG:
        flag = flag_or_404(tx, project, request.target)
        environment = environment_or_404(tx, project, request.environment or "")
        config = tx.get_config(flag.id, environment.id, for_update=True)
        return 0 if config is None else config.version
    if request.kind is RequestKind.SEGMENT:
        segment = tx.get_segment(project.id, request.target, for_update=True)
        return 0 if segment is None else segment.version
    stored = tx.get_policy_source(project.id)
    return 0 if stored is None else stored[1]


def make_change(
    tx: ApplyTx,
    principal: Principal,
    project: Project,
    request: ChangeRequest,
    *,
    diff: Sequence[str],
    now: datetime,
) -> int:
    """Make the request's change; the target's new version. ``diff``: what reviewers saw
    (a policy's audit record carries it); ``now`` stamps a policy's new version."""
    authority = request.label
    if request.kind is RequestKind.FLAG:
        rules = dict(request.change)
        updated = apply_change_in(
            tx,
            principal,
            Target(project.key, request.target, request.environment or ""),
            ConfigChange(
                "flag.configure",
                lambda _current: rules,
                expected_version=request.base_version,
                reason=request.reason,
                authority=authority,
            ),
        )
        return updated.version
    if request.kind is RequestKind.SEGMENT:
        saved = save_segment_in(
            tx,
            principal,
            project.key,
            request.target,
            list(request.change.get("constraints") or []),
            request.change.get("description"),
            expected_version=request.base_version,
            must_exist=True,
            authority=authority,
        )
        return saved.version
    return save_policy_in(
        tx,
        principal,
        project,
        str(request.change.get("source") or ""),
        request.base_version,
        diff=diff,
        authority=authority,
        now=now,
    )
