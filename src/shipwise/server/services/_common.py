"""Helpers every service shares: finding things by key with a clear 404, auditing, and
creating things whose key a concurrent writer may take first."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from shipwise.domain.keys import KEY, KeyRule
from shipwise.server.ports import (
    AuditEntry,
    AuditStore,
    Clocked,
    Environment,
    FlagConfig,
    FlagRecord,
    FlagStore,
    KeyTaken,
    Project,
    ProjectStore,
    StoreOf,
)
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.principal import Principal

Work = TypeVar("Work")


@contextmanager
def creating(store: StoreOf[Work], field: str) -> Iterator[Work]:
    """A write transaction that creates something by key. Checking that the key is free
    first cannot stop a concurrent writer taking it in between; the database's unique
    constraint does, and its refusal is a 409 naming ``field``, like the check's."""
    try:
        with store.transaction() as tx:
            yield tx
    except KeyTaken as taken:
        raise Conflict(f"{taken} was just created by someone else", field=field) from None


def check_key(key: str, field: str = "key", rule: KeyRule = KEY) -> None:
    """A 422 naming ``field`` when ``key`` breaks ``rule`` (``domain.keys``: flag keys are
    Unleash's feature names, every other kind is lowercase), in words with a suggestion."""
    problem = rule.problem(key)
    if problem:
        raise Invalid(problem, field=field)


def project_or_404(tx: ProjectStore, key: str) -> Project:
    project = tx.get_project(key)
    if project is None:
        raise NotFound(f"no project {key!r}; `shipwise project list` shows the projects")
    return project


def environment_or_404(tx: ProjectStore, project: Project, key: str) -> Environment:
    environment = tx.get_environment(project.id, key)
    if environment is None:
        known = ", ".join(e.key for e in tx.list_environments(project.id))
        raise NotFound(f"no environment {key!r} in project {project.key!r} (it has: {known})")
    return environment


def flag_or_404(tx: FlagStore, project: Project, key: str) -> FlagRecord:
    flag = tx.get_flag(project.id, key)
    if flag is None:
        raise NotFound(f"no flag {key!r} in project {project.key!r}")
    return flag


def audit(
    tx: AuditStore,
    principal: Principal,
    action: str,
    target_type: str,
    target_key: str,
    *,
    project: str | None = None,
    environment: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    tx.append_audit(
        AuditEntry(
            actor=principal.actor,
            action=action,
            target_type=target_type,
            target_key=target_key,
            project=project,
            environment=environment,
            before=before,
            after=after,
            reason=reason,
        )
    )


def off_config(tx: Clocked, flag_id: int, environment_id: int) -> FlagConfig:
    """A new flag's configuration in an environment: off, with no rules (stamped by the
    injected clock, so a simulated clock's time, not the wall clock's)."""
    return FlagConfig(flag_id, environment_id, False, [], [], [], 0, tx.now())
