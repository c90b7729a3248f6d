"""Segments: named constraint sets shared by a project's flags (e.g. "beta-testers").

Flags refer to a segment by its id, so a change to its constraints changes every flag
that uses it, in every environment of the project: each save bumps them all. New
constraints that could match more people are refused (409) while a flag that is on in a
protected environment uses the segment, unless an approved change request applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.change_requests import RequestKind
from shipwise.domain.exposure import segment_widening
from shipwise.domain.keys import SEGMENT_NAME
from shipwise.domain.protected_paths import segment_refusal
from shipwise.server.ports import (
    FlagStore,
    Project,
    RolloutPlanStore,
    SegmentRecord,
    SegmentStore,
    SnapshotStore,
    StoreOf,
)
from shipwise.server.services._common import audit, check_key, creating, project_or_404
from shipwise.server.services.change_request_sweep import SweepTx, withdraw_stale
from shipwise.server.services.errors import Conflict, NotFound, Refused
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import PolicyReader, project_policy
from shipwise.server.services.rules import check_constraints


class _WideningTx(PolicyReader, SnapshotStore, Protocol):
    """What refusing a widening reads: the policy and each environment's flags."""


class SegmentTx(SegmentStore, FlagStore, SweepTx, _WideningTx, Protocol):
    """What saving a segment touches: the segment, every environment's revision (through
    ``FlagStore.touch``), the flags that use it, the requests it outdates, the audit log."""


class _UsersTx(FlagStore, RolloutPlanStore, PolicyReader, Protocol):
    """What finding a segment's users reads: flags, running plans, the policy's testers."""


class _SegmentServiceTx(SegmentTx, RolloutPlanStore, Protocol):
    """Saving (``SegmentTx``), and deleting, which first finds the users (``_UsersTx``)."""


def _segment_dict(segment: SegmentRecord) -> dict[str, Any]:
    return {
        "id": segment.id,
        "description": segment.description,
        "constraints": segment.constraints,
        "version": segment.version,
    }


class SegmentService:
    def __init__(self, store: StoreOf[_SegmentServiceTx]) -> None:
        self._store = store

    def create(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None = None,
    ) -> SegmentRecord:
        return self.save(principal, project_key, name, constraints, description, create_only=True)

    def update(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None,
        expected_version: int,
        authority: str | None = None,
    ) -> SegmentRecord:
        """Replace an existing segment; ``expected_version`` (If-Match) must be current."""
        return self.save(
            principal,
            project_key,
            name,
            constraints,
            description,
            expected_version=expected_version,
            must_exist=True,
            authority=authority,
        )

    def save(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None = None,
        expected_version: int | None = None,
        create_only: bool = False,
        must_exist: bool = False,
        authority: str | None = None,
    ) -> SegmentRecord:
        with creating(self._store, "name") as tx:
            return save_in(
                tx,
                principal,
                project_key,
                name,
                constraints,
                description,
                expected_version=expected_version,
                create_only=create_only,
                must_exist=must_exist,
                authority=authority,
            )

    def all(self, principal: Principal, project_key: str) -> list[SegmentRecord]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.list_segments(project.id)

    def get(self, principal: Principal, project_key: str, name: str) -> SegmentRecord:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            segment = tx.get_segment(project.id, name)
            if segment is None:
                raise NotFound(f"no segment {name!r} in project {project_key!r}")
            return segment

    def delete(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        expected_version: int | None = None,
    ) -> SegmentRecord:
        """Delete a segment nothing uses. One that a flag's strategy (in any environment)
        or an active rollout plan refers to is refused (409) naming them: deleting it
        would change who gets those flags, or stop the plan at its next step."""
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            current = tx.get_segment(project.id, name, for_update=True)
            if current is None:
                raise NotFound(f"no segment {name!r} in project {project_key!r}")
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"segment {name!r} is at version {current.version}, not "
                    f"{expected_version}: someone changed it; read it again and retry",
                    field="If-Match",
                )
            users = _users(tx, project, current)
            if users:
                raise Conflict(
                    f"segment {name!r} is in use by {', '.join(users)}: take it out of "
                    "those first (`shipwise flag show KEY` lists a flag's rules)",
                    field="name",
                )
            tx.delete_segment(project.id, name)
            # Snapshots list the project's segments: each environment's loses this one.
            tx.touch([e.id for e in tx.list_environments(project.id)])
            audit(
                tx,
                principal,
                "segment.delete",
                "segment",
                name,
                project=project_key,
                before=_segment_dict(current),
            )
        return current


def save_in(
    tx: SegmentTx,
    principal: Principal,
    project_key: str,
    name: str,
    constraints: Sequence[Any],
    description: str | None = None,
    *,
    expected_version: int | None = None,
    create_only: bool = False,
    must_exist: bool = False,
    authority: str | None = None,
) -> SegmentRecord:
    """``SegmentService.save`` inside a transaction the caller owns (an approved change
    request commits the segment together with its own new state). ``authority``: what
    allows a change that shows flags to more users ("change request #5"); None: a hand edit."""
    check_key(name, "name", SEGMENT_NAME)
    check_constraints(constraints)
    project = project_or_404(tx, project_key)
    principal.require(Action.WRITE_FLAGS, project)
    current = tx.get_segment(project.id, name, for_update=True)
    if current is not None and create_only:
        raise Conflict(f"segment {name!r} already exists in project {project_key!r}", field="name")
    if current is None and must_exist:
        raise NotFound(f"no segment {name!r} in project {project_key!r}")
    if expected_version is not None:
        found = 0 if current is None else current.version
        if found != expected_version:
            raise Conflict(
                f"segment {name!r} is at version {found}, not {expected_version}: "
                "someone changed it; read it again and retry",
                field="If-Match",
            )
    if current is not None and authority is None:
        _hold_back_widening(tx, project, current, constraints)
    saved = tx.save_segment(project.id, name, description, list(constraints))
    # A segment can change any flag's answer in any environment of the project.
    tx.touch([e.id for e in tx.list_environments(project.id)])
    after = _segment_dict(saved)
    if authority is not None:
        after["authority"] = authority
    audit(
        tx,
        principal,
        "segment.create" if current is None else "segment.update",
        "segment",
        name,
        project=project_key,
        before=None if current is None else _segment_dict(current),
        after=after,
    )
    withdraw_stale(tx, principal, project, RequestKind.SEGMENT, name, None, saved.version)
    return saved


def _hold_back_widening(
    tx: _WideningTx, project: Project, current: SegmentRecord, constraints: Sequence[Any]
) -> None:
    """Refuse new constraints that could match more people while a flag that is on in a
    protected environment uses the segment there (the same rule as a flag's own rules).
    The pure comparison comes first: adding constraints costs no query."""
    widening = segment_widening(current.constraints, list(constraints))
    if not widening.widens:
        return
    policy = project_policy(tx, project)
    exposed: list[tuple[str, str]] = []
    for environment in tx.list_environments(project.id):
        if not policy.is_protected(environment.key):
            continue
        state = tx.environment_state(environment.id)
        for flag, config in state.flags if state is not None else ():
            if config.enabled and _uses(config.strategies, current.id):
                exposed.append((flag.key, environment.key))
    if exposed:
        message = segment_refusal(
            project=project.key,
            segment=current.name,
            widening=widening,
            exposed=exposed,
            policy=policy,
        )
        raise Refused(message, field="constraints")


def _uses(strategies: Sequence[Any], segment_id: int) -> bool:
    """Whether a strategy the engine evaluates (not a disabled one) names the segment."""
    return any(
        isinstance(s, Mapping) and not s.get("disabled") and segment_id in (s.get("segments") or [])
        for s in strategies
    )


MAX_USERS_NAMED = 5  # a refusal names this many users of a segment, then counts the rest


def _users(tx: _UsersTx, project: Project, segment: SegmentRecord) -> list[str]:
    """What refers to ``segment``: "flag KEY in ENV" and "rollout plan N (FLAG in ENV)"."""
    environments = {e.id: e.key for e in tx.list_environments(project.id)}
    found = []
    for flag in tx.list_flags(project.id):
        for config in tx.configs_for_flag(flag.id):
            if any(
                isinstance(strategy, dict) and segment.id in (strategy.get("segments") or [])
                for strategy in config.strategies
            ):
                found.append(f"flag {flag.key!r} in {environments.get(config.environment_id)}")
    for plan in tx.list_plans(project.id, active_only=True):
        if any(segment.name in step.audiences for step in plan.spec.steps):
            found.append(f"rollout plan {plan.id} ({plan.flag} in {plan.environment})")
    for stage in project_policy(tx, project).stages:
        if stage.testers == segment.name:
            found.append(f"the policy's testers in {stage.environment}")
    if len(found) > MAX_USERS_NAMED:
        return [*found[:MAX_USERS_NAMED], f"{len(found) - MAX_USERS_NAMED} more"]
    return found
