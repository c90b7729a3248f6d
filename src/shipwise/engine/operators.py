"""Constraint operators: one matcher factory per operator, in one dispatch table.

Each factory turns a ``Constraint`` into a predicate over contexts, doing all parsing
(numbers, dates, versions, regexes, networks) once, here, so evaluation only compares.
Semantics follow the Unleash client specification: a missing field fails every
operator except ``NOT_IN``; ``inverted`` negates the result; an unknown operator, or an
operand that does not parse, never matches.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime

from shipwise.engine.context import Context, FieldReader, field_reader
from shipwise.engine.model import Constraint
from shipwise.engine.re2_syntax import RegexNotSupported, compile_re2
from shipwise.engine.semver import parse_semver

Predicate = Callable[[Context], bool]
Clock = Callable[[], datetime]


def never(_context: Context) -> bool:
    return False


def always(_context: Context) -> bool:
    return True


class ConstraintProblem(ValueError):
    """A constraint that can never match as written (its reason shows in explanations)."""


def _in(constraint: Constraint, read: FieldReader, _clock: Clock) -> Predicate:
    values = frozenset(constraint.values)

    def is_in(context: Context) -> bool:
        return read(context) in values

    return is_in


def _not_in(constraint: Constraint, read: FieldReader, _clock: Clock) -> Predicate:
    values = frozenset(constraint.values)

    def is_not_in(context: Context) -> bool:
        return read(context) not in values

    return is_not_in


def _string_operator(test: Callable[[str, tuple[str, ...]], bool]) -> Callable[..., Predicate]:
    def factory(constraint: Constraint, read: FieldReader, _clock: Clock) -> Predicate:
        fold = constraint.case_insensitive
        values = tuple(v.lower() for v in constraint.values) if fold else constraint.values

        def matches(context: Context) -> bool:
            text = read(context)
            if text is None:
                return False
            return test(text.lower() if fold else text, values)

        return matches

    return factory


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _operand(constraint: Constraint) -> str:
    if constraint.value is not None:
        return constraint.value
    if constraint.values:
        return constraint.values[0]
    raise ConstraintProblem(f"{constraint.operator} needs a value")


def _ordered(
    parse: Callable[[str | None], object | None],
    compare: Callable[[object, object], bool],
    what: str,
) -> Callable[..., Predicate]:
    def factory(constraint: Constraint, read: FieldReader, _clock: Clock) -> Predicate:
        operand = parse(_operand(constraint))
        if operand is None:
            raise ConstraintProblem(f"{_operand(constraint)!r} is not a {what}")

        def matches(context: Context) -> bool:
            value = parse(read(context))
            return value is not None and compare(value, operand)

        return matches

    return factory


def _date(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date_operator(after: bool) -> Callable[..., Predicate]:
    def factory(constraint: Constraint, read: FieldReader, clock: Clock) -> Predicate:
        operand = _date(_operand(constraint))
        if operand is None:
            raise ConstraintProblem(f"{_operand(constraint)!r} is not an ISO 8601 date")

        def matches(context: Context) -> bool:
            text = read(context)
            moment = clock() if text is None else _date(text)
            if moment is None:
                return False
            return moment > operand if after else moment < operand

        return matches

    return factory


def _semver(text: str | None) -> object | None:
    return None if text is None else parse_semver(text)


def _regex(constraint: Constraint, read: FieldReader, _clock: Clock) -> Predicate:
    try:
        pattern = compile_re2(_operand(constraint), case_insensitive=constraint.case_insensitive)
    except RegexNotSupported as error:
        raise ConstraintProblem(str(error)) from None
    search = pattern.search

    def matches(context: Context) -> bool:
        text = read(context)
        return text is not None and search(text) is not None

    return matches


def _in_cidr(constraint: Constraint, read: FieldReader, _clock: Clock) -> Predicate:
    networks = []
    for value in constraint.values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            continue  # the specification skips invalid entries and keeps the rest
    if not networks:
        raise ConstraintProblem(f"none of {list(constraint.values)!r} is an IP address or range")

    def matches(context: Context) -> bool:
        text = read(context)
        if text is None:
            return False
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return False
        return any(address in network for network in networks)

    return matches


_OperatorFactory = Callable[[Constraint, FieldReader, Clock], Predicate]

MATCHERS_BY_OPERATOR: dict[str, _OperatorFactory] = {
    "IN": _in,
    "NOT_IN": _not_in,
    "STR_CONTAINS": _string_operator(lambda text, values: any(v in text for v in values)),
    "STR_STARTS_WITH": _string_operator(lambda text, values: text.startswith(values)),
    "STR_ENDS_WITH": _string_operator(lambda text, values: text.endswith(values)),
    "NUM_EQ": _ordered(_number, lambda a, b: a == b, "number"),
    "NUM_GT": _ordered(_number, lambda a, b: a > b, "number"),  # type: ignore[operator]
    "NUM_GTE": _ordered(_number, lambda a, b: a >= b, "number"),  # type: ignore[operator]
    "NUM_LT": _ordered(_number, lambda a, b: a < b, "number"),  # type: ignore[operator]
    "NUM_LTE": _ordered(_number, lambda a, b: a <= b, "number"),  # type: ignore[operator]
    "DATE_AFTER": _date_operator(after=True),
    "DATE_BEFORE": _date_operator(after=False),
    "SEMVER_EQ": _ordered(_semver, lambda a, b: a == b, "semantic version"),
    "SEMVER_GT": _ordered(_semver, lambda a, b: a > b, "semantic version"),  # type: ignore[operator]
    "SEMVER_LT": _ordered(_semver, lambda a, b: a < b, "semantic version"),  # type: ignore[operator]
    "SEMVER_GTE": _ordered(_semver, lambda a, b: a >= b, "semantic version"),  # type: ignore[operator]
    "SEMVER_LTE": _ordered(_semver, lambda a, b: a <= b, "semantic version"),  # type: ignore[operator]
    "REGEX": _regex,
    "IN_CIDR": _in_cidr,
}


def compile_constraint(constraint: Constraint, clock: Clock) -> tuple[Predicate, str | None]:
    """The constraint's predicate, and the problem that makes it never match, if any."""
    factory = MATCHERS_BY_OPERATOR.get(constraint.operator)
    if factory is None:
        return never, f"unknown operator {constraint.operator!r}"
    try:
        predicate = factory(constraint, field_reader(constraint.context_name), clock)
    except ConstraintProblem as problem:
        # An operand that cannot parse never matches, inverted or not.
        return never, str(problem)
    if constraint.inverted:
        positive = predicate

        def inverted(context: Context) -> bool:
            return not positive(context)

        return inverted, None
    return predicate, None
