"""Checking a flag's rules and a segment's constraints before they are stored.

The engine's parser rejects what it cannot read at all. What it can read but what would
never work as meant (an unknown strategy or operator, a regex it cannot run, a rollout of
"150", a payload that is not JSON, a list past the engine's limits) loads fine there,
because the Unleash specification says such rules simply never match and an SDK must
keep serving whatever a server sends. A person writing rules wants to hear about the
typo instead, so the server refuses them, naming the field: the engine's own
``validation`` says what is valid, and this module adds what only the server knows (the
fields the engine would ignore, which segments and parent flags exist).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shipwise.domain.flags import parse_configuration
from shipwise.engine import SnapshotError, load_segment
from shipwise.engine.validation import Problem, flag_problems, segment_problems
from shipwise.server.ports import FlagStore, Project, SegmentStore
from shipwise.server.services.errors import Invalid

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


class RulesTx(FlagStore, SegmentStore, Protocol):
    """What checking a flag's rules reads: the project's flags (dependencies) and segments."""


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
    raise_first(problems + segment_problems(segment))


def rule_problems(
    tx: RulesTx, project: Project, flag_key: str, kind: str, rules: Mapping[str, Any]
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
        *flag_problems(parsed),
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
