"""Constraint operators, one by one, with the Unleash semantics: inverted negates, a
missing field fails everything but NOT_IN, an unknown operator or an operand that does
not parse never matches, and DATE_* without a currentTime ask the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shipwise.engine import Constraint
from shipwise.engine.context import MAX_CONTEXT_VALUE_LENGTH
from shipwise.engine.operators import MATCHERS_BY_OPERATOR, compile_constraint

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _fixed_clock() -> datetime:
    return NOW


def _matches(constraint: Constraint, context: dict[str, Any]) -> bool:
    predicate, _problem = compile_constraint(constraint, _fixed_clock)
    return predicate(context)


def _with(field: str, value: object) -> dict[str, Any]:
    return {"userId": "u-1", "properties": {field: value}}


# operator, operand (values list or single value), a matching value, a non-matching value
CASES: list[tuple[str, tuple[str, ...] | str, str, str]] = [
    ("IN", ("a", "b"), "b", "c"),
    ("NOT_IN", ("a", "b"), "c", "a"),
    ("STR_CONTAINS", ("ell", "xyz"), "hello", "help"),
    ("STR_STARTS_WITH", ("he", "xyz"), "hello", "the"),
    ("STR_ENDS_WITH", ("lo", "xyz"), "hello", "low"),
    ("NUM_EQ", "5", "5.0", "5.1"),
    ("NUM_GT", "5", "6", "5"),
    ("NUM_GTE", "5", "5", "4.99"),
    ("NUM_LT", "5", "-1", "5"),
    ("NUM_LTE", "5", "5", "5.01"),
    ("DATE_AFTER", "2025-01-01T00:00:00Z", "2025-01-01T00:00:01Z", "2025-01-01T00:00:00Z"),
    ("DATE_BEFORE", "2025-01-01T00:00:00Z", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z"),
    ("SEMVER_EQ", "1.2.3", "1.2.3", "1.2.4"),
    ("SEMVER_GT", "1.2.3", "1.10.0", "1.2.3"),
    ("SEMVER_LT", "1.2.3", "1.2.3-rc.1", "1.2.3"),
    ("SEMVER_GTE", "1.2.3", "1.2.3", "1.2.3-rc.1"),
    ("SEMVER_LTE", "1.2.3", "1.2.3", "1.2.4"),
    ("REGEX", "^user-[0-9]+$", "user-42", "user-x"),
    ("IN_CIDR", ("10.0.0.0/8", "2001:db8::/32"), "10.1.2.3", "11.0.0.1"),
]
_CASE_IDS = [case[0] for case in CASES]


def _constraint(operator: str, operand: tuple[str, ...] | str, **options: Any) -> Constraint:
    if isinstance(operand, tuple):
        return Constraint("field", operator, values=operand, **options)
    return Constraint("field", operator, value=operand, **options)


def test_cases__cover_every_operator_in_the_dispatch_table() -> None:
    assert sorted(MATCHERS_BY_OPERATOR) == sorted(_CASE_IDS)


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), CASES, ids=_CASE_IDS)
def test_operator__matching_value__matches(
    operator: str, operand: tuple[str, ...] | str, hit: str, miss: str
) -> None:
    assert _matches(_constraint(operator, operand), _with("field", hit)) is True


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), CASES, ids=_CASE_IDS)
def test_operator__non_matching_value__does_not_match(
    operator: str, operand: tuple[str, ...] | str, hit: str, miss: str
) -> None:
    assert _matches(_constraint(operator, operand), _with("field", miss)) is False


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), CASES, ids=_CASE_IDS)
def test_operator__inverted__negates_both_answers(
    operator: str, operand: tuple[str, ...] | str, hit: str, miss: str
) -> None:
    constraint = _constraint(operator, operand, inverted=True)
    assert _matches(constraint, _with("field", hit)) is False
    assert _matches(constraint, _with("field", miss)) is True


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), CASES, ids=_CASE_IDS)
def test_operator__value_at_top_level_of_context__is_read_too(
    operator: str, operand: tuple[str, ...] | str, hit: str, miss: str
) -> None:
    # Applications put custom fields at the top level as often as in properties.
    assert _matches(_constraint(operator, operand), {"field": hit}) is True


_NOT_DATE = [case for case in CASES if not case[0].startswith("DATE_")]


@pytest.mark.parametrize(
    ("operator", "operand", "hit", "miss"), _NOT_DATE, ids=[c[0] for c in _NOT_DATE]
)
@pytest.mark.parametrize(
    "context",
    [
        pytest.param({}, id="empty context"),
        pytest.param({"userId": "u-1", "properties": {"other": "x"}}, id="field absent"),
        pytest.param({"properties": {"field": None}}, id="field is null"),
        pytest.param({"properties": {"field": ""}}, id="field is empty text"),
    ],
)
def test_operator__missing_field__fails_every_operator_but_not_in(
    operator: str,
    operand: tuple[str, ...] | str,
    hit: str,
    miss: str,
    context: dict[str, Any],
) -> None:
    assert _matches(_constraint(operator, operand), context) is (operator == "NOT_IN")
    inverted = _constraint(operator, operand, inverted=True)
    assert _matches(inverted, context) is (operator != "NOT_IN")


@pytest.mark.parametrize(
    ("operator", "operand", "value"),
    [
        ("STR_CONTAINS", ("ELL",), "hELlo"),
        ("STR_STARTS_WITH", ("HE",), "hello"),
        ("STR_ENDS_WITH", ("Lo",), "helLO"),
        ("REGEX", "^user-[a-z]+$", "USER-Bob"),
    ],
)
def test_operator__case_insensitive__ignores_case(
    operator: str, operand: tuple[str, ...] | str, value: str
) -> None:
    # Given a value that differs from the operand only in case
    context = _with("field", value)
    # Then it matches only when the constraint says caseInsensitive
    assert _matches(_constraint(operator, operand), context) is False
    assert _matches(_constraint(operator, operand, case_insensitive=True), context) is True
    both = _constraint(operator, operand, case_insensitive=True, inverted=True)
    assert _matches(both, context) is False


@pytest.mark.parametrize(
    ("constraint", "value"),
    [
        pytest.param(Constraint("field", "IN", ("42",)), 42, id="int in IN"),
        pytest.param(Constraint("field", "NUM_GT", value="41"), 42, id="int in NUM_GT"),
        pytest.param(Constraint("field", "STR_STARTS_WITH", ("4",)), 42, id="int in STR"),
        pytest.param(Constraint("field", "IN", ("true",)), True, id="True is 'true'"),
        pytest.param(Constraint("field", "IN", ("false",)), False, id="False is 'false'"),
        pytest.param(Constraint("field", "REGEX", value="^tr"), True, id="bool in REGEX"),
    ],
)
def test_operator__non_string_context_value__is_read_as_text(
    constraint: Constraint, value: object
) -> None:
    assert _matches(constraint, _with("field", value)) is True
    assert _matches(constraint, {"field": value}) is True


def test_operator__standard_field_given_as_int__is_read_as_text() -> None:
    constraint = Constraint("userId", "IN", ("7", "8"))
    assert _matches(constraint, {"userId": 7}) is True
    assert _matches(constraint, {"userId": 9}) is False


@pytest.mark.parametrize("inverted", [False, True], ids=["plain", "inverted"])
def test_compile_constraint__unknown_operator__never_matches_and_says_why(inverted: bool) -> None:
    constraint = Constraint("field", "STR_MATCHES", ("a",), inverted=inverted)
    predicate, problem = compile_constraint(constraint, _fixed_clock)
    assert problem == "unknown operator 'STR_MATCHES'"
    for context in ({}, _with("field", "a"), _with("field", "b")):
        assert predicate(context) is False


@pytest.mark.parametrize(
    ("operator", "operand", "named"),
    [
        ("NUM_EQ", "abc", "'abc'"),
        ("NUM_GT", "", "''"),
        ("DATE_AFTER", "yesterday", "'yesterday'"),
        ("DATE_BEFORE", "2025-13-01", "'2025-13-01'"),
        ("SEMVER_EQ", "v1", "'v1'"),
        ("SEMVER_GT", "1.2", "'1.2'"),
        ("REGEX", "(unclosed", "missing )"),
        ("REGEX", "(?=look)ahead", "invalid perl operator: (?="),
        ("REGEX", "x{1000}", "too large"),
        ("IN_CIDR", ("not-an-ip", "300.1.1.1/8"), "not-an-ip"),
    ],
)
@pytest.mark.parametrize("inverted", [False, True], ids=["plain", "inverted"])
def test_compile_constraint__unparseable_operand__never_matches_and_names_it(
    operator: str, operand: tuple[str, ...] | str, named: str, inverted: bool
) -> None:
    # Given an operand the operator cannot read
    constraint = _constraint(operator, operand, inverted=inverted)
    # When it is compiled
    predicate, problem = compile_constraint(constraint, _fixed_clock)
    # Then the problem is reported, and no context matches, not even when inverted
    assert problem is not None
    assert named in problem
    for value in ("abc", "5", "1.2.3", "2025-01-01T00:00:00Z", "10.0.0.1", "look"):
        assert predicate(_with("field", value)) is False
    assert predicate({}) is False


def test_compile_constraint__regex_re2_cannot_compile__never_matches_instead_of_raising() -> None:
    # Given a pattern whose repetition count is over RE2's limit of 1000
    constraint = Constraint("field", "REGEX", value="a{1001}")
    # When compiled (which happens for every flag when a snapshot loads)
    predicate, problem = compile_constraint(constraint, _fixed_clock)
    # Then it is a rule that never matches, with its problem named, not an exception
    assert problem is not None
    assert predicate(_with("field", "a")) is False


def test_compile_constraint__valid_constraint__reports_no_problem() -> None:
    _predicate, problem = compile_constraint(Constraint("plan", "IN", ("pro",)), _fixed_clock)
    assert problem is None


def test_in_cidr__invalid_entries__are_skipped_and_the_rest_kept() -> None:
    constraint = Constraint("remoteAddress", "IN_CIDR", ("garbage", "192.168.0.0/16"))
    predicate, problem = compile_constraint(constraint, _fixed_clock)
    assert problem is None
    assert predicate({"remoteAddress": "192.168.4.2"}) is True
    assert predicate({"remoteAddress": "garbage"}) is False


def test_num__context_value_that_is_not_a_number__does_not_match() -> None:
    assert _matches(Constraint("field", "NUM_LT", value="5"), _with("field", "four")) is False


# -- dates and the clock ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "operand", "expected"),
    [
        pytest.param("DATE_AFTER", "2025-06-01T11:59:59Z", True, id="after, a second before now"),
        pytest.param("DATE_AFTER", "2025-06-01T12:00:01Z", False, id="after, a second from now"),
        pytest.param("DATE_BEFORE", "2025-06-01T12:00:01Z", True, id="before, a second from now"),
        pytest.param("DATE_BEFORE", "2025-06-01T11:59:59Z", False, id="before, a second ago"),
    ],
)
def test_date_operator__no_current_time__uses_the_injected_clock(
    operator: str, operand: str, expected: bool
) -> None:
    # Given the clock says 2025-06-01 12:00 UTC and the context has no currentTime
    constraint = Constraint("currentTime", operator, value=operand)
    # Then the operator compares against the clock
    assert _matches(constraint, {"userId": "u-1"}) is expected


def test_date_operator__current_time_in_context__wins_over_the_clock() -> None:
    constraint = Constraint("currentTime", "DATE_AFTER", value="2030-01-01T00:00:00Z")
    assert _matches(constraint, {}) is False  # the clock says 2025
    assert _matches(constraint, {"currentTime": "2031-01-01T00:00:00Z"}) is True


def test_date_operator__clock_is_asked_at_evaluation_not_at_compilation() -> None:
    # Given a clock that moves after the constraint is compiled
    now = [datetime(2024, 1, 1, tzinfo=UTC)]
    constraint = Constraint("currentTime", "DATE_AFTER", value="2025-01-01T00:00:00Z")
    predicate, _ = compile_constraint(constraint, lambda: now[0])
    assert predicate({}) is False
    # When time passes the boundary
    now[0] = datetime(2025, 1, 2, tzinfo=UTC)
    # Then the same compiled constraint now matches
    assert predicate({}) is True


def test_date_operator__offsets__are_compared_as_instants() -> None:
    # 13:00 at +02:00 is 11:00 UTC, before the operand's 12:00 UTC
    constraint = Constraint("currentTime", "DATE_BEFORE", value="2025-06-01T12:00:00Z")
    assert _matches(constraint, {"currentTime": "2025-06-01T13:00:00+02:00"}) is True


# -- values over the length limit ---------------------------------------------------------

_OVERSIZED = "x" * (MAX_CONTEXT_VALUE_LENGTH + 1)


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), CASES, ids=_CASE_IDS)
@pytest.mark.parametrize("inverted", [False, True], ids=["plain", "inverted"])
def test_operator__value_over_the_length_limit__matches_nothing_inverted_or_not(
    operator: str, operand: tuple[str, ...] | str, hit: str, miss: str, inverted: bool
) -> None:
    # Given a context value one character over the limit
    context = _with("field", _OVERSIZED)
    # Then no constraint matches it: not NOT_IN, not an inverted one (a missing value would)
    assert _matches(_constraint(operator, operand, inverted=inverted), context) is False


@pytest.mark.parametrize(
    ("operator", "operand", "value"),
    [
        ("STR_CONTAINS", ("needle",), "needle"),
        ("STR_STARTS_WITH", ("needle",), "needle"),
        ("REGEX", "^needle", "needle"),
        ("REGEX", "x$", "x"),
    ],
)
def test_operator__value_at_the_limit_matches__one_character_more_does_not(
    operator: str, operand: tuple[str, ...] | str, value: str
) -> None:
    padded = value + "x" * (MAX_CONTEXT_VALUE_LENGTH - len(value))
    assert _matches(_constraint(operator, operand), _with("field", padded)) is True
    assert _matches(_constraint(operator, operand), _with("field", padded + "x")) is False


def test_regex__adversarial_pattern_and_value__answers_without_backtracking() -> None:
    # (a+)+$ against "aaa…a!" takes 2**n steps on a backtracking engine (26 "a"s took
    # 4.8 s before RE2); with 60 this test would never end there. No time is asserted.
    constraint = Constraint("field", "REGEX", value="(a+)+$")
    assert _matches(constraint, _with("field", "a" * 60 + "!")) is False
    assert _matches(constraint, _with("field", "a" * 60)) is True
