"""Flags: create, configure per environment, switch, roll out, and kill.

Each change is checked by the engine's own parser and ``rules`` (so the server stores only
what every SDK can evaluate as meant), carries the version it was based on (a stale one
gets 409), and is audited with before and after in the same transaction that bumps the
environment's revision, which then reaches every SDK stream (``flag_changes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.flags import FlagKind
from shipwise.domain.keys import FLAG_KEY
from shipwise.domain.protected_paths import unarchive_refusal
from shipwise.server.ports import FlagConfig, FlagRecord, FlagStore, Project, StoreOf
from shipwise.server.ports.flags import FlagFacets, FlagQuery
from shipwise.server.services._common import (
    audit,
    check_key,
    creating,
    environment_or_404,
    flag_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.errors import Conflict, Invalid, Refused
from shipwise.server.services.flag_changes import (
    ConfigChange,
    FlagChangeTx,
    Target,
    apply_change,
    with_rollout,
)
from shipwise.server.services.flag_news import tell_sentry
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import PolicyReader, project_policy
from shipwise.server.services.rules import RulesTx, raise_first, rule_problems


@dataclass(frozen=True, slots=True)
class FlagView:
    flag: FlagRecord
    configs: dict[str, FlagConfig]  # by environment key, in pipeline order


@dataclass(frozen=True, slots=True)
class FlagListing:
    views: list[FlagView]  # one page, in key order
    total: int  # every flag the query matches
    environments: list[str]  # the project's, in pipeline order
    facets: FlagFacets  # every tag and owner of the project's flags


_EDITABLE = frozenset({"kind", "owner", "description", "tags", "archived"})


def _kind(kind: str) -> FlagKind:
    try:
        return FlagKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in FlagKind)
        raise Invalid(f"unknown kind {kind!r}; choose one of {choices}", field="kind") from None


def _flag_dict(flag: FlagRecord) -> dict[str, Any]:
    return {
        "kind": flag.kind,
        "owner": flag.owner,
        "description": flag.description,
        "tags": list(flag.tags),
        "archived": flag.archived,
    }


def validate_rules(
    tx: RulesTx, project: Project, flag: FlagRecord, rules: Mapping[str, Any]
) -> None:
    """Raise Invalid naming the field if ``rules`` cannot be evaluated as written."""
    raise_first(rule_problems(tx, project, flag.key, flag.kind, rules))


def _in_pipeline_order(
    configs: Sequence[FlagConfig], environments: dict[int, str]
) -> dict[str, FlagConfig]:
    """One flag's configurations by environment key, in pipeline order."""
    by_environment = {c.environment_id: c for c in configs}
    return {key: by_environment[eid] for eid, key in environments.items() if eid in by_environment}


class _UnarchiveTx(FlagStore, PolicyReader, Protocol):
    """What unarchiving checks: the flag's configurations and the project's policy."""


def _hold_back_unarchive(tx: _UnarchiveTx, project: Project, flag: FlagRecord) -> None:
    """An archived flag is in no snapshot; unarchiving one left on in a protected
    environment would show it to everyone its rules include there, with no authority."""
    environments = {e.id: e.key for e in tx.list_environments(project.id)}
    on = [environments[c.environment_id] for c in tx.configs_for_flag(flag.id) if c.enabled]
    if not on:
        return
    policy = project_policy(tx, project)
    protected = [key for key in on if policy.is_protected(key)]
    if protected:
        message = unarchive_refusal(project=project.key, flag=flag.key, environments=protected)
        raise Refused(message, field="archived")


class FlagService:
    # A flag's changes (``FlagChangeTx``) cover what creating, reading and unarchiving read.
    def __init__(self, store: StoreOf[FlagChangeTx]) -> None:
        self._store = store

    def create(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        kind: str = "release",
        owner: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
    ) -> FlagView:
        check_key(key, rule=FLAG_KEY)
        _kind(kind)
        with creating(self._store, "key") as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            if tx.get_flag(project.id, key) is not None:
                raise Conflict(
                    f"flag {key!r} already exists in project {project_key!r}", field="key"
                )
            flag = tx.add_flag(project.id, key, kind, owner, description, tags)
            environments = tx.list_environments(project.id)
            configs = {e.key: tx.save_config(off_config(tx, flag.id, e.id)) for e in environments}
            tx.touch([e.id for e in environments])
            audit(
                tx,
                principal,
                "flag.create",
                "flag",
                key,
                project=project_key,
                after=_flag_dict(flag),
            )
            tell_sentry(tx, project, key, "flag.create", principal.actor, change="created")
        return FlagView(flag, configs)

    def all(self, principal: Principal, project_key: str) -> list[FlagView]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            environments = {e.id: e.key for e in tx.list_environments(project.id)}
            # One read for every flag's configurations, not one per flag.
            by_flag: dict[int, list[FlagConfig]] = {}
            for config in tx.configs_for_project(project.id):
                by_flag.setdefault(config.flag_id, []).append(config)
            return [
                FlagView(flag, _in_pipeline_order(by_flag.get(flag.id, []), environments))
                for flag in tx.list_flags(project.id)
            ]

    def page(
        self,
        principal: Principal,
        project_key: str,
        query: FlagQuery,
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> FlagListing:
        """The flags ``query`` matches, ``limit`` of them from ``offset`` in key order, with
        their configurations: the store filters, so a page reads its own rows only."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            environments = {e.id: e.key for e in tx.list_environments(project.id)}
            found = tx.find_flags(project.id, query, offset=offset, limit=limit)
            by_flag: dict[int, list[FlagConfig]] = {}
            for config in tx.configs_for_flags([f.id for f in found.flags]):
                by_flag.setdefault(config.flag_id, []).append(config)
            views = [
                FlagView(flag, _in_pipeline_order(by_flag.get(flag.id, []), environments))
                for flag in found.flags
            ]
            return FlagListing(
                views, found.total, list(environments.values()), tx.flag_facets(project.id)
            )

    def get(self, principal: Principal, project_key: str, key: str) -> FlagView:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            flag = flag_or_404(tx, project, key)
            environments = {e.id: e.key for e in tx.list_environments(project.id)}
            return FlagView(flag, _in_pipeline_order(tx.configs_for_flag(flag.id), environments))

    def config(
        self, principal: Principal, project_key: str, key: str, environment_key: str
    ) -> FlagConfig:
        """The flag's rules in one environment, with the version a write must name."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            environment = environment_or_404(tx, project, environment_key)
            flag = flag_or_404(tx, project, key)
            return tx.get_config(flag.id, environment.id) or off_config(tx, flag.id, environment.id)

    def update_rules(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        rules: Mapping[str, Any],
        *,
        expected_version: int | None,
        authority: str | None = None,
    ) -> FlagConfig:
        """Replace a flag's rules in one environment. ``expected_version`` is the version
        the caller last read (If-Match); a different current version is a 409.
        ``authority``: set-up code in the process (a demo, a simulation) that may show the
        flag to more users of a protected environment; the API never passes one."""
        change = ConfigChange(
            "flag.configure", lambda _current: rules, expected_version, authority=authority
        )
        return self._apply(principal, project_key, key, environment_key, change)

    def set_enabled(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        enabled: bool,
        expected_version: int | None = None,
        *,
        authority: str | None = None,
    ) -> FlagConfig:
        change = ConfigChange(
            "flag.enable" if enabled else "flag.disable",
            lambda current: {**current.rules(), "enabled": enabled},
            expected_version,
            authority=authority,
        )
        return self._apply(principal, project_key, key, environment_key, change)

    def set_rollout(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        percentage: int,
        stickiness: str | None = None,
        expected_version: int | None = None,
        *,
        authority: str | None = None,
    ) -> FlagConfig:
        """Set the flag's gradual rollout to ``percentage`` and switch it on."""
        change = ConfigChange(
            "flag.rollout",
            with_rollout(percentage, stickiness, key),
            expected_version,
            authority=authority,
        )
        return self._apply(principal, project_key, key, environment_key, change)

    def kill(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        reason: str,
        expected_version: int | None = None,
    ) -> FlagConfig:
        """Off for everyone in one environment, now, whatever rollout is running."""
        if not reason.strip():
            raise Invalid("say why the flag is killed (it goes in the audit log)", field="reason")
        change = ConfigChange(
            "flag.kill",
            lambda current: {**current.rules(), "enabled": False},
            expected_version,
            reason=reason,
            needs=Action.KILL,
        )
        return self._apply(principal, project_key, key, environment_key, change)

    def _apply(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        change: ConfigChange,
    ) -> FlagConfig:
        target = Target(project_key, key, environment_key)
        return apply_change(self._store, principal, target, change)

    def update_metadata(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        changes: Mapping[str, Any],
    ) -> FlagRecord:
        """Change what a flag is (kind, owner, description, tags, archived), not its rules."""
        unknown = sorted(set(changes) - _EDITABLE)
        if unknown:
            raise Invalid(f"cannot change {unknown[0]!r} here", field=unknown[0])
        if not changes:
            choices = ", ".join(sorted(_EDITABLE))
            raise Invalid(f"nothing to change: send one of {choices}", field="body")
        if "kind" in changes:
            _kind(changes["kind"])
        values = dict(changes)
        if "tags" in values:
            values["tags"] = tuple(values["tags"])
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            flag = flag_or_404(tx, project, key)
            if flag.archived and changes.get("archived") is False:
                _hold_back_unarchive(tx, project, flag)
            updated = tx.update_flag(replace(flag, **values))
            if "archived" in changes or "kind" in changes:
                tx.touch([e.id for e in tx.list_environments(project.id)])
            audit(
                tx,
                principal,
                "flag.update",
                "flag",
                key,
                project=project_key,
                before=_flag_dict(flag),
                after=_flag_dict(updated),
            )
            archiving = updated.archived and not flag.archived  # Sentry: "deleted"
            tell_sentry(tx, project, key, "flag.update", principal.actor, archived=archiving)
        return updated
