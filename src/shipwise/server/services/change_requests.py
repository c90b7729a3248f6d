"""Change requests: a change to a flag's rules in one environment, to a segment or to the
policy, proposed by one person, reviewed by others, applied once (``domain.change_requests``
decides who may do what; this module loads, persists, applies, audits and notifies).

Every transition is audited in its own transaction with the diff the reviewers saw.
Applying is one transaction: the target must still be at the version the request was
based on (else the request goes stale and the answer is 409), then the change is made
through the same path as a hand edit, with the request as its authority
(``change_request_apply``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain import change_requests as flow
from shipwise.domain.access import Action
from shipwise.domain.change_requests import (
    ChangeRequest,
    RequestKind,
    RequestRefused,
    RequestState,
    Reviewer,
)
from shipwise.domain.policy_model import ApprovalRule, Policy
from shipwise.server.ports import (
    AuditStore,
    ChangeRequestStore,
    Clocked,
    Notification,
    Project,
    StoreOf,
)
from shipwise.server.services._common import (
    audit,
    environment_or_404,
    flag_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.change_request_apply import ApplyTx, make_change, version_now
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.notifications import AnnounceTx, Notifications
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import PolicyReader
from shipwise.server.services.releases import ReleaseService
from shipwise.server.services.rules import check_constraints, raise_first, rule_problems

MAX_LISTED = 200  # a list shows the newest this many


class _ReviewTx(ChangeRequestStore, PolicyReader, Protocol):
    """What loading a request for review reads: the request, and the policy that says
    who must approve it."""


class RequestTx(_ReviewTx, AuditStore, AnnounceTx, Protocol):
    """What a request's transition touches: the request, the policy, the audit log and
    the outbox (its notification)."""


class _ChangeRequestsTx(ApplyTx, AnnounceTx, Clocked, Protocol):
    """Every transition (``RequestTx``) and applying (``ApplyTx``): all but the tokens,
    exposures, rollouts and GitHub deliveries; each transition stamped once by the store's
    clock."""


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request, what the policy in force asks of it, and the diff reviewers see."""

    request: ChangeRequest
    needs: ApprovalRule
    diff: list[str]

    @property
    def waiting_for(self) -> str:
        return flow.waiting_for(self.request, self.needs)


def reviewer(principal: Principal) -> Reviewer:
    return Reviewer(principal.person, principal.role, principal.global_admin)


def request_diff(request: ChangeRequest) -> list[str]:
    """What the request changes: the policy's TOML diff, or the rules' JSON diff."""
    if request.kind is RequestKind.POLICY:
        return [str(line) for line in request.change.get("diff") or ()]
    return flow.readable_diff(request.before, request.change)


def _rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "enabled": bool(rules.get("enabled", False)),
        "strategies": list(rules.get("strategies") or []),
        "variants": list(rules.get("variants") or []),
        "dependencies": list(rules.get("dependencies") or []),
    }


class ChangeRequestService:
    def __init__(
        self,
        store: StoreOf[_ChangeRequestsTx],
        releases: ReleaseService,
        notifications: Notifications | None = None,
    ) -> None:
        self._store = store
        self._releases = releases
        self._notifications = notifications

    # -- asking -------------------------------------------------------------------------

    def request_flag(
        self,
        principal: Principal,
        project_key: str,
        flag_key: str,
        environment_key: str,
        rules: Mapping[str, Any],
        reason: str | None = None,
    ) -> RequestView:
        """Propose ``rules`` for a flag in one environment (checked now, so reviewers
        never approve rules that cannot be stored)."""
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            environment = environment_or_404(tx, project, environment_key)
            flag = flag_or_404(tx, project, flag_key)
            proposed = _rules(rules)
            raise_first(rule_problems(tx, project, flag.key, flag.kind, proposed))
            current = tx.get_config(flag.id, environment.id) or off_config(
                tx, flag.id, environment.id
            )
            request = self._new(
                principal, project, RequestKind.FLAG, flag.key, environment.key, tx.now()
            )
            request = replace(
                request, base_version=current.version, change=proposed, before=current.rules()
            )
            return self._open(tx, principal, project, replace(request, reason=reason))

    def request_segment(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        constraints: Sequence[Any],
        description: str | None = None,
        reason: str | None = None,
    ) -> RequestView:
        check_constraints(constraints)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            segment = tx.get_segment(project.id, name)
            if segment is None:
                raise NotFound(f"no segment {name!r} in project {project_key!r}")
            request = replace(
                self._new(principal, project, RequestKind.SEGMENT, name, None, tx.now()),
                base_version=segment.version,
                change={
                    "constraints": list(constraints),
                    "description": segment.description if description is None else description,
                },
                before={"constraints": segment.constraints, "description": segment.description},
                reason=reason,
            )
            return self._open(tx, principal, project, request)

    def request_policy_in(
        self,
        tx: RequestTx,
        principal: Principal,
        project: Project,
        change: Mapping[str, Any],
        before: Mapping[str, Any],
        base_version: int,
        now: datetime,
    ) -> RequestView:
        """Open a policy change request in the caller's transaction at the caller's
        ``now`` (``PolicyService``: a policy that weakens a rule waits for a second
        release manager or admin)."""
        request = replace(
            self._new(principal, project, RequestKind.POLICY, project.key, None, now),
            base_version=base_version,
            change=dict(change),
            before=dict(before),
        )
        return self._open(tx, principal, project, request)

    def _new(
        self,
        principal: Principal,
        project: Project,
        kind: RequestKind,
        target: str,
        environment: str | None,
        now: datetime,
    ) -> ChangeRequest:
        return ChangeRequest(
            id=0,
            project=project.key,
            kind=kind,
            target=target,
            environment=environment,
            base_version=0,
            change={},
            before={},
            requested_by=principal.person,
            created_at=now,
            updated_at=now,
        )

    def _open(
        self, tx: RequestTx, principal: Principal, project: Project, request: ChangeRequest
    ) -> RequestView:
        stored = tx.add_change_request(project.id, request)
        self._audit(tx, principal, "change-request.open", None, stored, stored.reason)
        view = self._view(tx, project, stored)
        self._announce(
            tx,
            "change-request.opened",
            stored,
            f"{stored.label}: {stored.requested_by} asks to change {stored.what}",
            f"It needs {view.needs.count} approval{'s' if view.needs.count != 1 else ''}, "
            f"never the requester's. Review it: `shipwise change show {stored.id}`, then "
            f"`shipwise change approve {stored.id}` or `shipwise change reject {stored.id} "
            "--reason ...`.",
            stored.created_at,  # the moment it was opened
        )
        return view

    # -- reading ------------------------------------------------------------------------

    def list(
        self,
        principal: Principal,
        project_key: str,
        *,
        state: str | None = None,
        kind: str | None = None,
        flag: str | None = None,
        environment: str | None = None,
    ) -> list[RequestView]:
        states = () if state is None else (_choice(RequestState, state, "state"),)
        chosen = None if kind is None else _choice(RequestKind, kind, "kind")
        if flag is not None and chosen is None:
            chosen = RequestKind.FLAG
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            found = tx.list_change_requests(
                project.id,
                states=states,
                kind=chosen,
                target=flag,
                environment=environment,
                limit=MAX_LISTED,
            )
            policy = self._releases.policy_for(tx, project)
            return [
                RequestView(r, flow.approvals_needed(r.kind, policy), request_diff(r))
                for r in found
            ]

    def show(self, principal: Principal, project_key: str, request_id: int) -> RequestView:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return self._view(tx, project, self._get(tx, project, request_id))

    # -- reviewing ----------------------------------------------------------------------

    def approve(
        self, principal: Principal, project_key: str, request_id: int, comment: str | None = None
    ) -> RequestView:
        with self._store.transaction() as tx:
            now = tx.now()
            _project, request, policy = self._load(tx, principal, project_key, request_id)
            rule = flow.approvals_needed(request.kind, policy)
            approved = _refusing(
                lambda: flow.approve(
                    request, reviewer(principal), rule, policy.code_owners, now, comment
                )
            )
            saved = tx.save_change_request(approved)
            self._audit(tx, principal, "change-request.approve", request, saved, comment)
            if saved.state is RequestState.APPROVED and request.state is RequestState.OPEN:
                self._announce(
                    tx,
                    "change-request.approved",
                    saved,
                    f"{saved.label} approved: {saved.what}",
                    f"Approved by {', '.join(saved.approvers)}. It takes effect when applied: "
                    f"`shipwise change apply {saved.id}`.",
                    now,
                )
            return RequestView(saved, rule, request_diff(saved))

    def reject(
        self, principal: Principal, project_key: str, request_id: int, reason: str
    ) -> RequestView:
        if not reason.strip():
            raise Invalid("say why the change is rejected", field="reason")
        with self._store.transaction() as tx:
            now = tx.now()
            _project, request, policy = self._load(tx, principal, project_key, request_id)
            rule = flow.approvals_needed(request.kind, policy)
            rejected = _refusing(
                lambda: flow.reject(
                    request, reviewer(principal), rule, policy.code_owners, now, reason
                )
            )
            saved = tx.save_change_request(rejected)
            self._audit(tx, principal, "change-request.reject", request, saved, reason)
            return RequestView(saved, rule, request_diff(saved))

    def withdraw(
        self, principal: Principal, project_key: str, request_id: int, reason: str | None = None
    ) -> RequestView:
        with self._store.transaction() as tx:
            now = tx.now()
            _project, request, policy = self._load(tx, principal, project_key, request_id)
            why = reason or f"withdrawn by {principal.person}"
            withdrawn = _refusing(lambda: flow.withdraw(request, principal.person, now, why))
            saved = tx.save_change_request(withdrawn)
            self._audit(tx, principal, "change-request.withdraw", request, saved, why)
            return RequestView(saved, flow.approvals_needed(saved.kind, policy), [])

    # -- applying -----------------------------------------------------------------------

    def apply(self, principal: Principal, project_key: str, request_id: int) -> RequestView:
        """Make the approved change, once. A target that changed since the request was
        made turns the request stale (committed) and answers 409: request again."""
        stale: Conflict | None = None
        with self._store.transaction() as tx:
            now = tx.now()  # one time for the transition, the change and its audit
            project, request, policy = self._load(tx, principal, project_key, request_id)
            is_policy = request.kind is RequestKind.POLICY
            principal.require(Action.MANAGE_POLICY if is_policy else Action.WRITE_FLAGS, project)
            rule = flow.approvals_needed(request.kind, policy)
            applied = _refusing(lambda: flow.apply(request, rule, now))
            version = version_now(tx, project, request)
            if version != request.base_version:
                reason = f"{request.kind} changed under it: version {version}"
                gone = tx.save_change_request(flow.go_stale(request, now, reason))
                self._audit(tx, principal, "change-request.withdraw", request, gone, reason)
                stale = Conflict(
                    f"the {request.kind} changed under {request.label} (version {version}, "
                    f"request based on {request.base_version}): request again"
                )
            else:
                # Marked applied first: the change below sweeps pending requests on the
                # same target stale, and this one must not be among them.
                tx.save_change_request(applied)
                diff = request_diff(request)
                new_version = make_change(tx, principal, project, request, diff=diff, now=now)
                saved = tx.save_change_request(replace(applied, applied_version=new_version))
                self._audit(tx, principal, "change-request.apply", request, saved, None)
                view = RequestView(saved, rule, request_diff(saved))
        if stale is not None:
            raise stale
        return view

    # -- shared -------------------------------------------------------------------------

    def _get(self, tx: ChangeRequestStore, project: Project, request_id: int) -> ChangeRequest:
        found = tx.get_change_request(project.id, request_id)
        if found is None:
            raise NotFound(
                f"no change request #{request_id} in project {project.key!r}; "
                "`shipwise change list` shows them"
            )
        return found

    def _load(
        self, tx: _ReviewTx, principal: Principal, project_key: str, request_id: int
    ) -> tuple[Project, ChangeRequest, Policy]:
        project = project_or_404(tx, project_key)
        principal.require(Action.WRITE_FLAGS, project)
        request = tx.get_change_request(project.id, request_id, for_update=True)
        if request is None:
            self._get(tx, project, request_id)  # raises NotFound
            raise AssertionError("unreachable")
        return project, request, self._releases.policy_for(tx, project)

    def _view(self, tx: PolicyReader, project: Project, request: ChangeRequest) -> RequestView:
        policy = self._releases.policy_for(tx, project)
        return RequestView(
            request, flow.approvals_needed(request.kind, policy), request_diff(request)
        )

    def _audit(
        self,
        tx: AuditStore,
        principal: Principal,
        action: str,
        old: ChangeRequest | None,
        new: ChangeRequest,
        reason: str | None,
    ) -> None:
        audit(
            tx,
            principal,
            action,
            "change-request",
            str(new.id),
            project=new.project,
            environment=new.environment,
            before={
                "state": None if old is None else old.state.value,
                "target": dict(new.before),
            },
            after={
                "state": new.state.value,
                "kind": new.kind.value,
                "what": new.what,
                "requested_by": new.requested_by,
                "base_version": new.base_version,
                "approvals": list(new.approvers),
                "applied_version": new.applied_version,
                "change": dict(new.change),
                "diff": request_diff(new),
            },
            reason=reason,
        )

    def _announce(
        self,
        tx: AnnounceTx,
        kind: str,
        request: ChangeRequest,
        title: str,
        text: str,
        at: datetime,
    ) -> None:
        """Tell of ``request``'s transition that happened ``at``."""
        if self._notifications is None:
            return
        self._notifications.announce(
            tx,
            Notification(
                kind=kind,
                project=request.project,
                title=title,
                text=text,
                at=at,
                flag=request.target if request.kind is RequestKind.FLAG else None,
                environment=request.environment,
                data={"change_request": request.id, "kind": request.kind.value},
            ),
        )


def _refusing(transition: Callable[[], ChangeRequest]) -> ChangeRequest:
    """Run a domain transition; its refusal is a 409 saying why."""
    try:
        return transition()
    except RequestRefused as refused:
        raise Conflict(str(refused)) from None


def _choice(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise Invalid(f"unknown {field} {value!r}; choose one of {choices}", field=field) from None
