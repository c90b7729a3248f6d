"""Checking a flag's rules and a segment's constraints before they are stored.

The engine's parser rejects what it cannot read at all. What it can read but what would
never work as meant (an unknown strategy or operator, a regex it cannot run, a rollout of
"150") loads fine there, because the Unleash specification says such rules simply never
match and an SDK must keep serving whatever a server sends. A person writing rules wants
to hear about the typo instead, so the server refuses them, naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shipwise.domain.flags import parse_configuration
from shipwise.engine import Constraint, SnapshotError, Strategy, load_segment
from shipwise.engine.operators import MATCHERS_BY_OPERATOR, compile_constraint
from shipwise.engine.strategies import STRATEGIES
from shipwise.server.ports import Project, Transaction
from shipwise.server.services.errors import Invalid

# The parameter each built-in rollout strategy reads its percentage from.
_PERCENTAGE_PARAMETER = {
    "flexibleRollout": "rollout",
    "gradualRolloutUserId": "percentage",
    "gradualRolloutSessionId": "percentage",
    "gradualRolloutRandom": "percentage",
}

Problem = tuple[str, str]  # (field, what is wrong with it)

# The fields the engine reads, per object. Anything else is a typo the engine would
# silently ignore ("caseinsensitive"), so it is refused here.
_SHAPES: dict[str, tuple[frozenset[str], dict[str, str]]] = {
    # shape: (its fields, {field holding a list of objects: their shape})
    "strategy": (
        frozenset(
            {"name", "title", "disabled", "parameters", "constraints", "segments", "variants"}
        ),
        {"constraints": "constraint", "variants": "variant"},
    ),
    "constraint": (
        frozenset({"contextName", "operator", "values", "value", "inverted", "caseInsensitive"}),
        {},
    ),
    "variant": (
        frozenset({"name", "weight", "payload", "stickiness", "overrides"}),
        {"overrides": "override"},
    ),
    "override": (frozenset({"contextName", "values"}), {}),
    "dependency": (frozenset({"feature", "enabled", "variants"}), {}),
}


def _now() -> datetime:
    return datetime.now(UTC)


def constraint_problems(constraints: Sequence[Constraint], prefix: str) -> list[Problem]:
    problems = []
    for index, constraint in enumerate(constraints):
        field = f"{prefix}constraints[{index}]"
        if constraint.operator not in MATCHERS_BY_OPERATOR:
            known = ", ".join(MATCHERS_BY_OPERATOR)
            unknown = f"unknown operator {constraint.operator!r}; use one of {known}"
            problems.append((f"{field}.operator", unknown))
            continue
        _check, problem = compile_constraint(constraint, _now)
        if problem is not None:
            operand = "value" if constraint.value is not None else "values"
            problems.append((f"{field}.{operand}", problem))
    return problems


def _percentage_problem(value: object) -> str | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"expected a percentage 0-100, got {value!r}"
    if not math.isfinite(number) or not 0 <= number <= 100:
        return f"expected a percentage 0-100, got {value!r}"
    return None


def strategy_problems(strategies: Sequence[Strategy]) -> list[Problem]:
    problems = []
    for index, strategy in enumerate(strategies):
        field = f"strategies[{index}]"
        if strategy.name not in STRATEGIES:
            known = ", ".join(STRATEGIES)
            unknown = f"unknown strategy {strategy.name!r}; use one of {known}"
            problems.append((f"{field}.name", unknown))
        parameter = _PERCENTAGE_PARAMETER.get(strategy.name)
        if parameter is not None and parameter in strategy.parameters:
            problem = _percentage_problem(strategy.parameters[parameter])
            if problem is not None:
                problems.append((f"{field}.parameters.{parameter}", problem))
        problems += constraint_problems(strategy.constraints, f"{field}.")
    return problems


def unknown_field_problems(items: Sequence[Any], shape: str, prefix: str) -> list[Problem]:
    """Fields the engine would ignore, in a list of ``shape`` objects (already parsed,
    so every item is an object and every nested list a list)."""
    fields, nested = _SHAPES[shape]
    problems = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]"
        for name in sorted(set(item) - fields):
            problems.append((f"{where}.{name}", f"unknown field; use {', '.join(sorted(fields))}"))
        payload = item.get("payload") if shape == "variant" else None
        if isinstance(payload, Mapping):
            for name in sorted(set(payload) - {"type", "value"}):
                problems.append((f"{where}.payload.{name}", "unknown field; use type, value"))
        for name, inner in nested.items():
            problems += unknown_field_problems(item.get(name) or [], inner, f"{where}.{name}")
    return problems


def raise_first(problems: Sequence[Problem]) -> None:
    """Invalid naming the first field at fault, and saying what is wrong with each."""
    if problems:
        message = "; ".join(f"{field}: {problem}" for field, problem in problems[:5])
        raise Invalid(message, field=problems[0][0])


def check_constraints(constraints: Sequence[Any]) -> None:
    """Raise Invalid naming the field if a segment's constraints cannot work as written."""
    try:
        segment = load_segment({"id": 0, "constraints": list(constraints)})
    except SnapshotError as error:
        raise Invalid(f"{error.field}: {error.problem}", field=error.field) from None
    problems = unknown_field_problems(constraints, "constraint", "constraints")
    raise_first(problems + constraint_problems(segment.constraints, ""))


def rule_problems(
    tx: Transaction, project: Project, flag_key: str, kind: str, rules: Mapping[str, Any]
) -> list[Problem]:
    """Every reason ``rules`` cannot be evaluated as written, each naming its field."""
    try:
        parsed = parse_configuration(flag_key, kind, rules)
    except SnapshotError as error:
        return [(error.field, error.problem)]
    problems = [
        *unknown_field_problems(rules.get("strategies") or [], "strategy", "strategies"),
        *unknown_field_problems(rules.get("variants") or [], "variant", "variants"),
        *unknown_field_problems(rules.get("dependencies") or [], "dependency", "dependencies"),
        *strategy_problems(parsed.strategies),
    ]
    segment_ids = {s.id for s in tx.list_segments(project.id)}
    for index, strategy in enumerate(parsed.strategies):
        for position, segment_id in enumerate(strategy.segments):
            if segment_id not in segment_ids:
                field = f"strategies[{index}].segments[{position}]"
                problems.append((field, f"no segment {segment_id} in project {project.key!r}"))
    for index, dependency in enumerate(parsed.dependencies):
        if dependency.feature == flag_key or tx.get_flag(project.id, dependency.feature) is None:
            field = f"dependencies[{index}].feature"
            problem = f"no other flag {dependency.feature!r} in project {project.key!r}"
            problems.append((field, problem))
    return problems
