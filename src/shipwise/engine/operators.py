"""Constraint operators: one matcher factory per operator, in one dispatch table.

Each factory turns a ``Constraint`` into a test of the field's text, doing all parsing
(numbers, dates, versions, regexes, networks) once, here, so evaluation only compares;
``compile_constraint`` wraps it into a predicate over contexts. Semantics follow the
Unleash client specification: a missing field fails every operator except ``NOT_IN``;
``inverted`` negates the result; an unknown operator, or an operand that does not
parse, never matches. Beyond it, a value longer than ``MAX_CONTEXT_VALUE_LENGTH``
characters matches no constraint, inverted or not (``context`` says why).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime

from shipwise.engine.context import MAX_CONTEXT_VALUE_LENGTH, Context, field_reader
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


# What an operator factory returns: a test of the field's text (None when the context
# lacks the field). ``compile_constraint`` reads the field, applies the length limit
# and the inversion around it, in one place for every operator.
Test = Callable[[str | None], bool]


def _in(constraint: Constraint, _clock: Clock) -> Test:
    return frozenset(constraint.values).__contains__  # a C call: no Python frame


def _not_in(constraint: Constraint, _clock: Clock) -> Test:
    values = frozenset(constraint.values)

    def is_not_in(text: str | None) -> bool:
        return text not in values

    return is_not_in


def _string_operator(test: Callable[[str, tuple[str, ...]], bool]) -> Callable[..., Test]:
    def factory(constraint: Constraint, _clock: Clock) -> Test:
        fold = constraint.case_insensitive
        values = tuple(v.lower() for v in constraint.values) if fold else constraint.values

        def matches(text: str | None) -> bool:
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
) -> Callable[..., Test]:
    def factory(constraint: Constraint, _clock: Clock) -> Test:
        operand = parse(_operand(constraint))
        if operand is None:
            raise ConstraintProblem(f"{_operand(constraint)!r} is not a {what}")

        def matches(text: str | None) -> bool:
            value = parse(text)
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


def _date_operator(after: bool) -> Callable[..., Test]:
    def factory(constraint: Constraint, clock: Clock) -> Test:
        operand = _date(_operand(constraint))
        if operand is None:
            raise ConstraintProblem(f"{_operand(constraint)!r} is not an ISO 8601 date")

        def matches(text: str | None) -> bool:
            moment = clock() if text is None else _date(text)
            if moment is None:
                return False
            return moment > operand if after else moment < operand

        return matches

    return factory


def _semver(text: str | None) -> object | None:
    return None if text is None else parse_semver(text)


def _regex(constraint: Constraint, _clock: Clock) -> Test:
    try:
        pattern = compile_re2(_operand(constraint), case_insensitive=constraint.case_insensitive)
    except RegexNotSupported as error:
        raise ConstraintProblem(str(error)) from None
    search = pattern.matches

    def matches(text: str | None) -> bool:
        return text is not None and search(text)

    return matches


def _in_cidr(constraint: Constraint, _clock: Clock) -> Test:
    networks = []
    for value in constraint.values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            continue  # the specification skips invalid entries and keeps the rest
    if not networks:
        raise ConstraintProblem(f"none of {list(constraint.values)!r} is an IP address or range")

    def matches(text: str | None) -> bool:
        if text is None:
            return False
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return False
        return any(address in network for network in networks)

    return matches


_OperatorFactory = Callable[[Constraint, Clock], Test]

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
        test = factory(constraint, clock)
    except ConstraintProblem as problem:
        # An operand that cannot parse never matches, inverted or not.
        return never, str(problem)
    read = field_reader(constraint.context_name)
    limit = MAX_CONTEXT_VALUE_LENGTH
    if constraint.operator == "IN" and not constraint.inverted:
        # The hot case needs no length check: without the listed values over the limit,
        # an oversized value is in none of them. One frame, as fast as before the limit.
        values = frozenset(v for v in constraint.values if len(v) <= limit)

        def is_in(context: Context) -> bool:
            return read(context) in values

        return is_in, None
    # An oversized value matches nothing, inverted or not (see ``context``).
    if constraint.inverted:

        def inverted(context: Context) -> bool:
            text = read(context)
            if text is not None and len(text) > limit:
                return False
            return not test(text)

        return inverted, None

    def check(context: Context) -> bool:
        text = read(context)
        if text is not None and len(text) > limit:
            return False
        return test(text)

    return check, None
