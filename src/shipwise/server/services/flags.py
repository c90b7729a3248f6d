"""Flags: create, configure per environment, switch, roll out, and kill.

Each change is checked by the engine's own parser (so the server stores only what every
SDK can evaluate), carries the version it was based on (a stale one gets 409), and is
audited with before and after in the same transaction that bumps the environment's
revision, which then reaches every SDK stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shipwise.domain.access import Action
from shipwise.domain.flags import FlagKind, parse_configuration
from shipwise.engine import SnapshotError
from shipwise.server.ports import FlagConfig, FlagRecord, Project, Store, Transaction
from shipwise.server.services._common import (
    audit,
    check_key,
    environment_or_404,
    flag_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.errors import Conflict, Invalid, PreconditionRequired
from shipwise.server.services.principal import Principal


@dataclass(frozen=True, slots=True)
class FlagView:
    flag: FlagRecord
    configs: dict[str, FlagConfig]  # by environment key, in pipeline order


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
    tx: Transaction, project: Project, flag: FlagRecord, rules: Mapping[str, Any]
) -> None:
    """Raise Invalid naming the field if ``rules`` cannot be evaluated as written."""
    try:
        parsed = parse_configuration(flag.key, flag.kind, rules)
    except SnapshotError as error:
        raise Invalid(f"{error.field}: {error.problem}", field=error.field) from None
    segment_ids = {s.id for s in tx.list_segments(project.id)}
    for index, strategy in enumerate(parsed.strategies):
        for position, segment_id in enumerate(strategy.segments):
            if segment_id not in segment_ids:
                field = f"strategies[{index}].segments[{position}]"
                raise Invalid(f"{field}: no segment {segment_id} in {project.key!r}", field=field)
    for index, dependency in enumerate(parsed.dependencies):
        if dependency.feature == flag.key or tx.get_flag(project.id, dependency.feature) is None:
            field = f"dependencies[{index}].feature"
            problem = f"no other flag {dependency.feature!r} in project {project.key!r}"
            raise Invalid(f"{field}: {problem}", field=field)


class FlagService:
    def __init__(self, store: Store) -> None:
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
        check_key(key)
        _kind(kind)
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            if tx.get_flag(project.id, key) is not None:
                raise Conflict(f"flag {key!r} already exists in project {project_key!r}")
            flag = tx.add_flag(project.id, key, kind, owner, description, tags)
            environments = tx.list_environments(project.id)
            configs = {e.key: tx.save_config(off_config(flag.id, e.id)) for e in environments}
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
        return FlagView(flag, configs)

    def all(self, principal: Principal, project_key: str) -> list[FlagView]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            environments = {e.id: e.key for e in tx.list_environments(project.id)}
            return [
                FlagView(flag, self._configs(tx, flag, environments))
                for flag in tx.list_flags(project.id)
            ]

    def get(self, principal: Principal, project_key: str, key: str) -> FlagView:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            flag = flag_or_404(tx, project, key)
            environments = {e.id: e.key for e in tx.list_environments(project.id)}
            return FlagView(flag, self._configs(tx, flag, environments))

    @staticmethod
    def _configs(
        tx: Transaction, flag: FlagRecord, environments: dict[int, str]
    ) -> dict[str, FlagConfig]:
        by_environment = {c.environment_id: c for c in tx.configs_for_flag(flag.id)}
        return {
            key: by_environment[eid] for eid, key in environments.items() if eid in by_environment
        }

    def update_rules(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        rules: Mapping[str, Any],
        *,
        expected_version: int | None,
    ) -> FlagConfig:
        """Replace a flag's rules in one environment. ``expected_version`` is the version
        the caller last read (If-Match); a different current version is a 409."""
        target = (project_key, key, environment_key)
        return self._change(principal, target, lambda _current: rules, expected_version)

    def set_enabled(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        enabled: bool,
        expected_version: int | None = None,
    ) -> FlagConfig:
        action = "flag.enable" if enabled else "flag.disable"
        return self._change(
            principal,
            (project_key, key, environment_key),
            lambda current: {**current.rules(), "enabled": enabled},
            expected_version,
            action=action,
        )

    def set_rollout(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        environment_key: str,
        percentage: int,
        stickiness: str = "default",
    ) -> FlagConfig:
        """Set the flag's gradual rollout to ``percentage`` and switch it on. The group id
        stays the flag key, so raising the percentage keeps everyone who had it."""
        if not 0 <= percentage <= 100:
            raise Invalid(f"percentage must be 0-100, got {percentage}", field="percentage")

        def with_rollout(current: FlagConfig) -> dict[str, Any]:
            strategies = [dict(s) for s in current.strategies]
            rollouts = [s for s in strategies if s.get("name") == "flexibleRollout"]
            if rollouts:
                parameters = dict(rollouts[0].get("parameters") or {})
                parameters["rollout"] = str(percentage)
                rollouts[0]["parameters"] = parameters
            else:
                parameters = {"rollout": str(percentage), "stickiness": stickiness, "groupId": key}
                strategies.append({"name": "flexibleRollout", "parameters": parameters})
            return {**current.rules(), "enabled": True, "strategies": strategies}

        target = (project_key, key, environment_key)
        return self._change(principal, target, with_rollout, None, action="flag.rollout")

    def kill(
        self, principal: Principal, project_key: str, key: str, environment_key: str, reason: str
    ) -> FlagConfig:
        """Off for everyone in one environment, now, whatever rollout is running."""
        if not reason.strip():
            raise Invalid("say why the flag is killed (it goes in the audit log)", field="reason")
        return self._change(
            principal,
            (project_key, key, environment_key),
            lambda current: {**current.rules(), "enabled": False},
            None,
            action="flag.kill",
            reason=reason,
            needs=Action.KILL,
        )

    def _change(
        self,
        principal: Principal,
        target: tuple[str, str, str],
        new_rules: Callable[[FlagConfig], Mapping[str, Any]],
        expected_version: int | None,
        *,
        action: str = "flag.configure",
        reason: str | None = None,
        needs: Action = Action.WRITE_FLAGS,
    ) -> FlagConfig:
        """Load, check the version, validate, save, bump the revision, audit: one
        transaction, so nothing is half-applied and nothing concurrent is lost."""
        project_key, key, environment_key = target
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(needs, project)
            environment = environment_or_404(tx, project, environment_key)
            flag = flag_or_404(tx, project, key)
            current = tx.get_config(flag.id, environment.id) or off_config(flag.id, environment.id)
            if expected_version is not None and expected_version != current.version:
                raise Conflict(
                    f"flag {key!r} in {environment_key!r} is at version {current.version}, "
                    f"not {expected_version}: someone changed it; read it again and retry"
                )
            rules = new_rules(current)
            validate_rules(tx, project, flag, rules)
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
                action,
                "flag",
                key,
                project=project_key,
                environment=environment_key,
                before=current.rules(),
                after=updated.rules(),
                reason=reason,
            )
        return updated

    def update_metadata(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        changes: Mapping[str, Any],
    ) -> FlagRecord:
        if "kind" in changes:
            _kind(changes["kind"])
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            flag = flag_or_404(tx, project, key)
            updated = tx.update_flag(replace(flag, **dict(changes)))
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
        return updated


def require_if_match(if_match: str | None) -> int:
    """The version an If-Match header names, e.g. ``"3"`` or ``W/"3"``."""
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the version you last read (the ETag of the GET), "
            "so a concurrent change is not overwritten",
            field="If-Match",
        )
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Invalid(
            f"If-Match must be a version number in quotes, got {if_match!r}", field="If-Match"
        )
    return int(text)
