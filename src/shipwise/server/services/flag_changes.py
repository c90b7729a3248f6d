"""One change to a flag's configuration in one environment, applied safely.

Load under a row lock, check the version the caller read, validate, save, bump the
environment's revision and audit, all in one transaction: nothing is half-applied, and of
two writers carrying the same version exactly one wins (the other waits for the lock,
then sees the new version and gets 409).

In a protected environment a change that could show the flag to more users
(``domain.exposure``) needs an authority: a rollout plan's step, an approved change
request, a release promotion. A hand edit that widens is refused (409, nothing changed,
the way that gets there named); one that reduces exposure always goes through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.exposure import rules_widening
from shipwise.domain.protected_paths import flag_refusal, shipping_releases
from shipwise.server.ports import (
    AuditStore,
    ChangeRequestStore,
    Clocked,
    FlagConfig,
    FlagRecord,
    FlagStore,
    Project,
    ProjectStore,
    ReleaseStore,
    SegmentStore,
    StoreOf,
)
from shipwise.server.services._common import (
    audit,
    environment_or_404,
    flag_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.change_request_sweep import flag_changed
from shipwise.server.services.errors import Conflict, Invalid, PreconditionRequired, Refused
from shipwise.server.services.flag_news import FlagNewsTx, tell_sentry
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import project_policy
from shipwise.server.services.rules import raise_first, rule_problems

NewRules = Callable[[FlagConfig], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Target:
    project: str
    flag: str
    environment: str


@dataclass(frozen=True, slots=True)
class ConfigChange:
    action: str  # what the audit log calls it: "flag.configure", "flag.kill", ...
    new_rules: NewRules
    expected_version: int | None = None  # from If-Match; None: whatever is current
    reason: str | None = None
    needs: Action = Action.WRITE_FLAGS
    # What allows this change to show the flag to more users in a protected environment:
    # "rollout plan #3", "change request #5". None: a hand edit, which may only reduce.
    authority: str | None = None


def _only_switches_off(current: FlagConfig, rules: Mapping[str, Any]) -> bool:
    """Whether ``rules`` are ``current`` switched off, which needs no validation: turning
    a flag off must work even when its stored rules would no longer pass today's checks."""
    return rules.get("enabled") is False and dict(rules) == {**current.rules(), "enabled": False}


class FlagChangeTx(
    FlagNewsTx,  # first: its stores in the order ``AnnounceTx`` has them
    ProjectStore,
    FlagStore,
    SegmentStore,
    AuditStore,
    ChangeRequestStore,
    ReleaseStore,
    Clocked,
    Protocol,
):
    """What a change to a flag's rules touches: the flag and its project, the segments its
    rules name, the releases shipping it (protected environments), the policy, the
    requests it outdates and the audit log."""


def apply_change(
    store: StoreOf[FlagChangeTx], principal: Principal, target: Target, change: ConfigChange
) -> FlagConfig:
    with store.transaction() as tx:
        return apply_change_in(tx, principal, target, change)


def apply_change_in(
    tx: FlagChangeTx, principal: Principal, target: Target, change: ConfigChange
) -> FlagConfig:
    """``apply_change`` inside a transaction the caller owns (a rollout step commits the
    flag change together with the plan's new state)."""
    project = project_or_404(tx, target.project)
    principal.require(change.needs, project)
    environment = environment_or_404(tx, project, target.environment)
    flag = flag_or_404(tx, project, target.flag)
    current = tx.get_config(flag.id, environment.id, for_update=True) or off_config(
        tx, flag.id, environment.id
    )
    expected = change.expected_version
    if expected is not None and expected != current.version:
        raise Conflict(
            f"flag {target.flag!r} in {target.environment!r} is at version "
            f"{current.version}, not {expected}: someone changed it; read it again and retry",
            field="If-Match",
        )
    rules = change.new_rules(current)
    if not _only_switches_off(current, rules):
        raise_first(rule_problems(tx, project, flag.key, flag.kind, rules))
    if change.authority is None:
        _hold_back_widening(tx, project, flag, target, change, current.rules(), rules)
    updated = tx.save_config(
        replace(
            current,
            enabled=bool(rules.get("enabled", False)),
            strategies=list(rules.get("strategies") or []),
            variants=list(rules.get("variants") or []),
            dependencies=list(rules.get("dependencies") or []),
        )
    )
    tx.touch([environment.id])
    audit(
        tx,
        principal,
        change.action,
        "flag",
        target.flag,
        project=target.project,
        environment=target.environment,
        before={**current.rules(), "version": current.version},
        after=_with_authority({**updated.rules(), "version": updated.version}, change.authority),
        reason=change.reason,
    )
    flag_changed(tx, principal, project, flag.key, environment.key, updated.version)
    tell_sentry(
        tx,
        project,
        flag.key,
        change.action,
        principal.actor,
        environment=environment.key,
        change=updated.version,
    )
    return updated


# How a refusal names a hand edit, and the change request that would make it instead.
_DOING: dict[str, tuple[str, str]] = {
    "flag.enable": ("enabling {flag}", "--enable"),
    "flag.rollout": ("this rollout of {flag}", "--rollout PCT"),
    "flag.configure": ("these rules for {flag}", "--rules FILE"),
}


def _hold_back_widening(
    tx: FlagChangeTx,
    project: Project,
    flag: FlagRecord,
    target: Target,
    change: ConfigChange,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    """Refuse a hand edit that would show the flag to more users in a protected
    environment. The pure comparison comes first, so a change that only reduces exposure
    (off, kill, a lower percentage) costs no query, and the policy is read only for one
    that widens."""
    widening = rules_widening(before, after)
    if not widening.widens:
        return
    policy = project_policy(tx, project)
    if not policy.is_protected(target.environment):
        return
    doing, option = _DOING.get(change.action, ("this change to {flag}", "--rules FILE"))
    message = flag_refusal(
        project=project.key,
        flag=flag.key,
        kind=flag.kind,
        environment=target.environment,
        doing=doing.format(flag=repr(flag.key)),
        widening=widening,
        releases=shipping_releases(flag.key, tx.list_releases(project.id)),
        policy=policy,
        request_option=option,
    )
    raise Refused(message, field="environment")


def _with_authority(after: dict[str, Any], authority: str | None) -> dict[str, Any]:
    """The audit record says what allowed a change (a plan's step, a change request)."""
    return after if authority is None else {**after, "authority": authority}


def with_rollout(percentage: int, stickiness: str | None, group_id: str) -> NewRules:
    """Rules with the flag's gradual rollout at ``percentage``, switched on. An existing
    rollout keeps its group id, so raising the percentage keeps everyone who had it."""
    if not 0 <= percentage <= 100:
        raise Invalid(f"percentage must be 0-100, got {percentage}", field="percentage")

    def new_rules(current: FlagConfig) -> dict[str, Any]:
        strategies = [dict(s) for s in current.strategies]
        rollouts = [s for s in strategies if s.get("name") == "flexibleRollout"]
        if rollouts:
            parameters = dict(rollouts[0].get("parameters") or {})
            parameters["rollout"] = str(percentage)
            if stickiness is not None:
                parameters["stickiness"] = stickiness
            rollouts[0]["parameters"] = parameters
        else:
            parameters = {
                "rollout": str(percentage),
                "stickiness": stickiness or "default",
                "groupId": group_id,
            }
            strategies.append({"name": "flexibleRollout", "parameters": parameters})
        return {**current.rules(), "enabled": True, "strategies": strategies}

    return new_rules


def require_if_match(if_match: str | None) -> int:
    """The version an If-Match header names, e.g. ``"3"`` or ``W/"3"``."""
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the version you last read (the ETag of the GET), "
            "so a concurrent change is not overwritten",
            field="If-Match",
        )
    return parse_if_match(if_match)


def parse_if_match(if_match: str) -> int:
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise Invalid(
            f"If-Match must be a version number in quotes, e.g. '\"3\"', got {if_match!r}",
            field="If-Match",
        )
    return int(text)
