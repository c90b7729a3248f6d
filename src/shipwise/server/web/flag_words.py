"""A flag's state in each environment, for people: on or off, the rollout percentage,
whether a kill switch holds it off, and its rules in words.

A kill leaves no mark on the rules (it only switches the flag off); the audit log says
it happened. A flag is *kill-switched* in an environment while the kill is its latest
change there: the kill's record names the version it produced, and the configuration is
still at that version. Any later change (switching it on again, a new rollout) moves
the version on, and the kill is history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shipwise.server.ports import AuditRecord, FlagConfig

KILL = "flag.kill"


class State(StrEnum):
    ON = "on"
    OFF = "off"
    KILLED = "killed"


@dataclass(frozen=True, slots=True)
class Kill:
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class Cell:
    """One flag in one environment."""

    environment: str
    enabled: bool
    rollout: int | None  # the gradual rollout's percentage, None without one
    rules: int  # how many strategies
    version: int
    kill: Kill | None

    @property
    def state(self) -> State:
        if self.kill is not None:
            return State.KILLED
        return State.ON if self.enabled else State.OFF

    @property
    def words(self) -> str:
        """``killed``, ``off``, ``on``, ``on 25%`` or ``on (3 rules)``."""
        if not self.enabled:
            return str(self.state)
        if self.rollout is not None and self.rules == 1:
            return f"on {self.rollout}%"
        if self.rules:
            return f"on ({self.rules} rules)"
        return "on"


def rollout_percentage(strategies: Iterable[Any]) -> int | None:
    """The first gradual rollout's percentage (the one the quick switch sets)."""
    for strategy in strategies:
        if isinstance(strategy, Mapping) and strategy.get("name") == "flexibleRollout":
            value = (strategy.get("parameters") or {}).get("rollout", "100")
            try:
                return int(str(value))
            except ValueError:
                return None
    return None


def kills_in_force(records: Iterable[AuditRecord]) -> dict[tuple[str, str], tuple[int, Kill]]:
    """(flag, environment) → (the version the kill produced, the kill), newest kill first
    wins; ``records`` are ``flag.kill`` records, newest first."""
    found: dict[tuple[str, str], tuple[int, Kill]] = {}
    for record in records:
        entry = record.entry
        version = (entry.after or {}).get("version")
        if entry.action != KILL or entry.environment is None or not isinstance(version, int):
            continue
        kill = Kill(entry.reason or "", entry.actor)
        found.setdefault((entry.target_key, entry.environment), (version, kill))
    return found


def cell(
    flag: str,
    environment: str,
    config: FlagConfig,
    kills: Mapping[tuple[str, str], tuple[int, Kill]],
) -> Cell:
    killed = kills.get((flag, environment))
    in_force = killed is not None and killed[0] == config.version and not config.enabled
    return Cell(
        environment=environment,
        enabled=config.enabled,
        rollout=rollout_percentage(config.strategies),
        rules=len(config.strategies),
        version=config.version,
        kill=killed[1] if in_force and killed is not None else None,
    )


def constraint_words(constraint: Any) -> str:
    """``plan IN pro, team``; ``NOT email STR_ENDS_WITH @example.com (any case)``."""
    if not isinstance(constraint, Mapping):
        return str(constraint)
    value = constraint.get("value")
    values = ", ".join(str(v) for v in constraint.get("values") or [])
    text = f"{constraint.get('contextName')} {constraint.get('operator')} {value or values}"
    if constraint.get("caseInsensitive"):
        text += " (any case)"
    return f"NOT {text}" if constraint.get("inverted") else text


def strategy_words(strategy: Any, segment_names: Mapping[int, str]) -> list[str]:
    """A strategy as lines: what it does, then each constraint and segment it needs."""
    if not isinstance(strategy, Mapping):
        return [str(strategy)]
    name = str(strategy.get("name"))
    parameters = strategy.get("parameters") or {}
    title = strategy.get("title")
    if name == "flexibleRollout":
        stickiness = parameters.get("stickiness") or "default"
        head = f"{parameters.get('rollout', '100')}% of users by {stickiness}"
    elif name == "default":
        head = "everyone"
    elif parameters:
        head = f"{name}: " + ", ".join(f"{k} = {v}" for k, v in parameters.items())
    else:
        head = name
    if title:
        head = f"{title}: {head}"
    if strategy.get("disabled"):
        head += " (disabled)"
    lines = [head]
    lines += [f"if {constraint_words(c)}" for c in strategy.get("constraints") or []]
    lines += [f"in segment {segment_names.get(s, f'#{s}')}" for s in strategy.get("segments") or []]
    return lines


def variant_words(variant: Any) -> str:
    if not isinstance(variant, Mapping):
        return str(variant)
    weight = variant.get("weight")
    share = f" ({int(weight) / 10:g}%)" if isinstance(weight, int) else ""
    return f"{variant.get('name')}{share}"


def dependency_words(dependency: Any) -> str:
    if not isinstance(dependency, Mapping):
        return str(dependency)
    feature = dependency.get("feature")
    if dependency.get("enabled", True) is False:
        return f"{feature} is off"
    variants = dependency.get("variants") or []
    return f"{feature} is on" + (f" with {', '.join(map(str, variants))}" if variants else "")
