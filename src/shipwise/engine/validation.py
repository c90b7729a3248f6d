"""Whether rules can be evaluated as written: the one definition of "valid" for rules a
Shipwise server accepts (admin API, CLI, Unleash import and segments all ask here).

The parser (``_parse``) rejects only what it cannot read, and the compiler turns an
operand that does not parse into "never matches", because an SDK must keep serving
whatever a server sends. A server must not send such rules in the first place, so this
module compiles them with the engine's own compiler and reads payloads with the engine's
own ``payloads``, and holds them to ``limits``. Each problem names its field
(``strategies[0].constraints[1].values[3]``) and says what to do.

Nothing here raises; evaluation never calls it.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from shipwise.engine import limits
from shipwise.engine.context import as_text
from shipwise.engine.model import (
    Constraint,
    Dependency,
    Flag,
    ParameterValue,
    Payload,
    Segment,
    Strategy,
    VariantDefinition,
)
from shipwise.engine.operators import MATCHERS_BY_OPERATOR, compile_constraint
from shipwise.engine.payloads import (
    PAYLOAD_TYPES,
    PayloadError,
    number_problem,
    payload_value,
    short,
)
from shipwise.engine.strategies import (
    STRATEGIES,
    StrategyEnvironment,
    _list_parameter,
    compile_activation,
)

Problem = tuple[str, str]  # (field, what is wrong with it and what to do)

# The parameter each built-in rollout strategy reads its percentage from.
_PERCENTAGE_PARAMETER = {
    "flexibleRollout": "rollout",
    "gradualRolloutUserId": "percentage",
    "gradualRolloutSessionId": "percentage",
    "gradualRolloutRandom": "percentage",
}
# Strategies that include nobody without their list, and what the list holds.
_LIST_PARAMETER = {
    "userWithId": ("userIds", "user ids"),
    "remoteAddress": ("IPs", "IP addresses or ranges (10.0.0.0/8)"),
    "applicationHostname": ("hostNames", "host names"),
}
_NUMBER_OPERATORS = frozenset({"NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE"})
# Compiling reads neither the clock nor randomness; these only fill the arguments.
_COMPILE_CLOCK: Callable[[], datetime] = lambda: datetime(2000, 1, 1, tzinfo=UTC)  # noqa: E731
_COMPILE_ENV = StrategyEnvironment(random=lambda: 0.0, hostname="")


# -- text ------------------------------------------------------------------------------


def text_problem(text: str, limit: int) -> str | None:
    """Why ``text`` cannot be stored and served as a rule's value, if it cannot."""
    if len(text) > limit:
        return f"is {len(text):,} characters long; at most {limit:,} characters are allowed"
    if "\x00" in text:
        return (
            "contains a NUL character (U+0000), which not every SDK or database can hold; remove it"
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone UTF-16 surrogate, which cannot be stored; remove it"
    return None


def name_problem(name: str, what: str = "a context field such as userId or plan") -> str | None:
    """Why ``name`` cannot be a context field (or, with ``what``, a variant) name."""
    if not name.strip():
        return f"must not be empty; name {what}"
    problem = text_problem(name, limits.MAX_NAME_LENGTH)
    if problem is not None:
        return problem
    for char in name:
        if unicodedata.category(char) == "Cc":
            return f"contains the control character U+{ord(char):04X}; remove it"
    return None


def _count_problem(items: Sequence[object], limit: int, what: str, hint: str) -> str | None:
    if len(items) <= limit:
        return None
    return f"has {len(items):,} {what}; at most {limit:,} are allowed: {hint}"


def _texts(values: Sequence[str], field: str, what: str, hint: str) -> list[Problem]:
    """A list of values: within the count, and each within the length."""
    too_many = _count_problem(values, limits.MAX_VALUES, what, hint)
    if too_many is not None:
        return [(field, too_many)]
    problems = []
    for index, value in enumerate(values):
        problem = text_problem(value, limits.MAX_VALUE_LENGTH)
        if problem is not None:
            problems.append((f"{field}[{index}]", problem))
    return problems


# -- constraints -----------------------------------------------------------------------


def _operand_problems(constraint: Constraint, field: str) -> list[Problem]:
    """What the compiler lets pass but not every SDK reads alike: a number operand that
    is not a plain finite decimal ("1e99999", "inf", "1_000"), an entry of an address
    list that is not an address (the compiler skips it)."""
    operator = constraint.operator
    if operator in _NUMBER_OPERATORS:
        where, operand = (
            ("value", constraint.value)
            if constraint.value is not None
            else ("values[0]", (constraint.values or [None])[0])
        )
        problem = None if operand is None else number_problem(operand)
        if problem is not None:
            return [(f"{field}.{where}", problem)]
    if operator == "IN_CIDR":
        problems = []
        for index, value in enumerate(constraint.values):
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError:
                problem = f"{short(value)} is not an IP address or range (e.g. 10.0.0.0/8)"
                problems.append((f"{field}.values[{index}]", problem))
        return problems
    return []


def constraint_problems(constraints: Sequence[Constraint], prefix: str = "") -> list[Problem]:
    """Every reason ``constraints`` (at ``{prefix}constraints``) cannot work as written."""
    too_many = _count_problem(
        constraints, limits.MAX_CONSTRAINTS, "constraints", "move shared ones to a segment"
    )
    if too_many is not None:
        return [(f"{prefix}constraints", too_many)]
    problems: list[Problem] = []
    for index, constraint in enumerate(constraints):
        field = f"{prefix}constraints[{index}]"
        problems += _constraint_problems(constraint, field)
    return problems


def _constraint_problems(constraint: Constraint, field: str) -> list[Problem]:
    name = name_problem(constraint.context_name)
    if name is not None:
        return [(f"{field}.contextName", name)]
    if constraint.operator not in MATCHERS_BY_OPERATOR:
        known = ", ".join(MATCHERS_BY_OPERATOR)
        return [
            (f"{field}.operator", f"unknown operator {constraint.operator!r}; use one of {known}")
        ]
    hint = "split the list over several strategies, or match on a coarser context field"
    problems = _texts(constraint.values, f"{field}.values", "values", hint)
    if constraint.value is not None:
        problem = text_problem(constraint.value, limits.MAX_VALUE_LENGTH)
        if problem is not None:
            problems.append((f"{field}.value", problem))
    if problems:
        return problems
    problems = _operand_problems(constraint, field)
    if problems:
        return problems
    _check, problem = compile_constraint(constraint, _COMPILE_CLOCK)
    if problem is not None:
        operand = "value" if constraint.value is not None else "values"
        return [(f"{field}.{operand}", problem)]
    return []


def segment_problems(segment: Segment) -> list[Problem]:
    """Every reason a segment's constraints cannot work as written (fields from
    ``constraints``)."""
    return constraint_problems(segment.constraints)


# -- strategies ------------------------------------------------------------------------


def _percentage_problem(value: ParameterValue) -> str | None:
    """A percentage 0-100, written as every SDK reads it ("25", 25; not "1_0" or true)."""
    if isinstance(value, bool) or (isinstance(value, str) and number_problem(value)):
        return f"expected a percentage 0-100, got {value!r}"
    if not 0 <= float(value) <= 100:
        return f"expected a percentage 0-100, got {value!r}"
    return None


def _parameter_problems(strategy: Strategy, field: str) -> list[Problem]:
    parameters = strategy.parameters
    too_many = _count_problem(
        list(parameters), limits.MAX_PARAMETERS, "parameters", "remove the unused ones"
    )
    if too_many is not None:
        return [(f"{field}.parameters", too_many)]
    problems: list[Problem] = []
    for key, value in parameters.items():
        where = f"{field}.parameters.{key}"
        problem = text_problem(key, limits.MAX_NAME_LENGTH)
        if problem is None and isinstance(value, bool):
            problem = f"expected text or a number, got {str(value).lower()}"
        if problem is None and isinstance(value, str):
            problem = text_problem(value, limits.MAX_PARAMETER_LENGTH)
        if problem is not None:
            problems.append((where, problem))
    if problems:
        return problems
    stickiness = parameters.get("stickiness")
    if stickiness is not None:
        problem = name_problem(as_text(stickiness) or "")
        if problem is not None:
            problems.append((f"{field}.parameters.stickiness", problem))
    percentage = _PERCENTAGE_PARAMETER.get(strategy.name)
    if percentage is not None and percentage in parameters:
        problem = _percentage_problem(parameters[percentage])
        if problem is not None:
            problems.append((f"{field}.parameters.{percentage}", problem))
    if strategy.name in _LIST_PARAMETER:
        problems += _list_parameter_problems(strategy, field)
    return problems


def _list_parameter_problems(strategy: Strategy, field: str) -> list[Problem]:
    key, what = _LIST_PARAMETER[strategy.name]
    where = f"{field}.parameters.{key}"
    items = _list_parameter(strategy.parameters, key)
    if not items:
        return [(where, f"{strategy.name} needs {key}: {what}, comma-separated")]
    too_many = _count_problem(items, limits.MAX_VALUES, what, "split them over strategies")
    if too_many is not None:
        return [(where, too_many)]
    for item in items:
        problem = text_problem(item, limits.MAX_VALUE_LENGTH)
        if problem is not None:
            return [(where, f"{short(item)} {problem}")]
        if strategy.name == "remoteAddress":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                problem = f"{item!r} is not an IP address or range (e.g. 10.0.0.0/8); fix it"
                return [(where, problem)]
    return []


def _strategy_problems(strategy: Strategy, field: str, flag: str) -> list[Problem]:
    if strategy.name not in STRATEGIES:
        known = ", ".join(STRATEGIES)
        return [(f"{field}.name", f"unknown strategy {strategy.name!r}; use one of {known}")]
    problems = []
    if strategy.title is not None:
        problem = text_problem(strategy.title, limits.MAX_TITLE_LENGTH)
        if problem is not None:
            problems.append((f"{field}.title", problem))
    problems += _parameter_problems(strategy, field)
    if not problems:
        activation = compile_activation(strategy, flag, _COMPILE_ENV)
        if activation.problem is not None:
            problems.append((f"{field}.parameters", activation.problem))
    too_many = _count_problem(
        strategy.segments, limits.MAX_SEGMENTS_PER_STRATEGY, "segments", "combine them"
    )
    if too_many is not None:
        problems.append((f"{field}.segments", too_many))
    problems += constraint_problems(strategy.constraints, f"{field}.")
    problems += variant_problems(strategy.variants, f"{field}.variants")
    return problems


# -- variants and dependencies ---------------------------------------------------------


def _payload_problems(payload: Payload, field: str) -> list[Problem]:
    if payload.type not in PAYLOAD_TYPES:
        known = ", ".join(PAYLOAD_TYPES)
        return [(f"{field}.type", f"unknown payload type {payload.type!r}; use one of {known}")]
    problem = text_problem(payload.value, limits.MAX_PAYLOAD_LENGTH)
    if problem is None:
        try:
            payload_value(payload)
        except PayloadError as error:
            problem = str(error)
    return [] if problem is None else [(f"{field}.value", problem)]


def _variant_problems(variant: VariantDefinition, field: str) -> list[Problem]:
    problems = []
    name = name_problem(variant.name, "the variant")
    if name is not None:
        problems.append((f"{field}.name", name))
    if variant.payload is not None:
        problems += _payload_problems(variant.payload, f"{field}.payload")
    if variant.stickiness is not None:
        problem = name_problem(variant.stickiness)
        if problem is not None:
            problems.append((f"{field}.stickiness", problem))
    too_many = _count_problem(
        variant.overrides, limits.MAX_OVERRIDES, "overrides", "use a constraint instead"
    )
    if too_many is not None:
        return [*problems, (f"{field}.overrides", too_many)]
    for index, override in enumerate(variant.overrides):
        where = f"{field}.overrides[{index}]"
        problem = name_problem(override.context_name)
        if problem is not None:
            problems.append((f"{where}.contextName", problem))
        problems += _texts(override.values, f"{where}.values", "values", "use a constraint")
    return problems


def variant_problems(variants: Sequence[VariantDefinition], field: str) -> list[Problem]:
    """Every reason ``variants`` (at ``field``) cannot be served as written."""
    too_many = _count_problem(variants, limits.MAX_VARIANTS, "variants", "remove some")
    if too_many is not None:
        return [(field, too_many)]
    problems: list[Problem] = []
    for index, variant in enumerate(variants):
        problems += _variant_problems(variant, f"{field}[{index}]")
    return problems


def _dependency_problems(dependencies: Sequence[Dependency]) -> list[Problem]:
    problems = []
    for index, dependency in enumerate(dependencies):
        field = f"dependencies[{index}].variants"
        too_many = _count_problem(
            dependency.variants, limits.MAX_DEPENDENCY_VARIANTS, "variants", "remove some"
        )
        if too_many is not None:
            problems.append((field, too_many))
            continue
        for position, name in enumerate(dependency.variants):
            problem = text_problem(name, limits.MAX_NAME_LENGTH)
            if problem is not None:
                problems.append((f"{field}[{position}]", problem))
    return problems


def flag_problems(flag: Flag) -> list[Problem]:
    """Every reason ``flag``'s rules cannot be evaluated as written, in document order,
    each naming its field from the rules' root (``strategies[0].parameters.IPs``).
    Segments and parent flags are looked up by the caller, who knows which exist."""
    too_many = _count_problem(
        flag.strategies, limits.MAX_STRATEGIES_PER_FLAG, "strategies", "merge some"
    )
    if too_many is not None:
        problems = [("strategies", too_many)]
    else:
        problems = []
        for index, strategy in enumerate(flag.strategies):
            problems += _strategy_problems(strategy, f"strategies[{index}]", flag.name)
    problems += variant_problems(flag.variants, "variants")
    problems += _dependency_problems(flag.dependencies)
    return problems


__all__ = [
    "Problem",
    "constraint_problems",
    "flag_problems",
    "name_problem",
    "segment_problems",
    "text_problem",
    "variant_problems",
]
