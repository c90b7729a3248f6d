"""Fuzzing the evaluation engine: random rule sets (every operator and strategy of the
Unleash specification, unknown ones, bad operands, adversarial regular expressions,
segments, variants with overrides, dependencies) against random contexts (all of
Unicode with lone surrogates and NUL, huge strings, numbers, booleans, odd shapes).

What must hold, whatever the input:
- nothing crashes the process: the properties run in a child interpreter (see
  ``_in_child``), so a segfault inside a C extension is a failed test with the child's
  output, not the end of pytest;
- nothing raises: for a well-formed context (a dict, ``properties`` a dict, values text,
  numbers or booleans) the compiled flag itself answers, and ``explain`` never gives
  ``Reason.ERROR``; for any other context the public calls give the default and
  ``explain`` says why;
- nothing hangs: Hypothesis' deadline fails an example that takes seconds (a
  backtracking regex took 4.8 s for 27 characters and doubles with each one), and the
  child is given up on, as hung, after ``HANG_AFTER`` seconds;
- the answers agree: ``is_enabled``, ``variant`` and ``explain`` say the same.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipwise.engine import (
    Constraint,
    Dependency,
    Flag,
    FlagState,
    Override,
    Payload,
    Reason,
    Segment,
    Snapshot,
    Strategy,
    StrategyEnvironment,
    VariantDefinition,
)
from shipwise.engine.context import MAX_CONTEXT_VALUE_LENGTH, STANDARD_FIELDS
from shipwise.engine.operators import MATCHERS_BY_OPERATOR
from shipwise.engine.strategies import STRATEGIES

HANG_AFTER = 600  # seconds; the properties take a few seconds (a guard, not a benchmark)
FUZZ = settings(
    max_examples=80,
    deadline=timedelta(seconds=5),  # generous for a loaded machine, far below a hang
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIXED_ENV = StrategyEnvironment(random=lambda: 0.5, hostname="test-host")
NOW = datetime(2026, 3, 1, tzinfo=UTC)

# -- text -------------------------------------------------------------------------------

SPECIAL = "\x00\ud800\udfff\ud83d\ufffd\u202e\u2028\ufeffé😀 .:-,/*+?()[]{}|^$\\"
char = st.one_of(
    st.characters(),  # every code point but the surrogates
    st.characters(categories=["Cs"]),  # the lone surrogates
    st.sampled_from(SPECIAL),
)
short_text = st.text(char, max_size=24)
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.text(char, min_size=1, max_size=6),
    st.sampled_from([MAX_CONTEXT_VALUE_LENGTH // 2, MAX_CONTEXT_VALUE_LENGTH, 30_000]),
)
TYPICAL = [
    "beta", "pro", "42", "-1.5", "1e308", "NaN", "1.2.3", "1.2.3-rc.1", "2025-01-01T00:00:00Z",
    "2025-13-45", "10.0.0.1", "::1", "2001:db8::/32", "a" * 60 + "!", "x" * 2000,
]  # fmt: skip
text = st.one_of(short_text, huge_text, st.sampled_from(TYPICAL))

# Patterns that blow up backtracking engines or RE2's DFA, valid and not.
PATTERNS = [
    "(a+)+$", "(a|aa)+$", "(x+x+)+y", "^(\\w+\\s?)*$", "(a|b)*a(a|b){900}c",
    "(?s).{0,100}x{100}y", "[a-q][^u-z]{13}x", "\\pL+", "(?i)é", "x{1000}", "a{1001}",
    "(?=look)", "(a)\\1", "[[:alpha:]]+", "(unclosed", "\\ud800", "", "^$", ".*",
]  # fmt: skip
pattern = st.one_of(st.sampled_from(PATTERNS), short_text)

# -- rules ------------------------------------------------------------------------------

FIELDS = [*sorted(STANDARD_FIELDS), "plan", "country", "tenantId"]
field_name = st.one_of(st.sampled_from(FIELDS), short_text)
OPERATORS = [*sorted(MATCHERS_BY_OPERATOR), "STR_MATCHES"]


@st.composite
def constraints(draw: st.DrawFn) -> Constraint:
    operator = draw(st.sampled_from(OPERATORS))
    values = draw(st.lists(text, max_size=4))
    value = draw(st.one_of(st.none(), pattern if operator == "REGEX" else text))
    return Constraint(
        context_name=draw(field_name),
        operator=operator,
        values=tuple(values),
        value=value,
        inverted=draw(st.booleans()),
        case_insensitive=draw(st.booleans()),
    )


number_text = st.one_of(
    st.integers(1, 99).map(str),  # a percentage that hashes: the path most worth reaching
    st.sampled_from(["0", "100", "-5", "150", "abc", "1e999", "NaN", ""]),
    st.integers(-10, 110),
    st.floats(allow_nan=True, allow_infinity=True),
)
list_text = st.lists(text, max_size=4).map(",".join)


@st.composite
def strategies(draw: st.DrawFn) -> Strategy:
    name = draw(st.sampled_from([*sorted(STRATEGIES), "customStrategy"]))
    parameters = {
        "rollout": draw(number_text),
        "percentage": draw(number_text),
        "groupId": draw(st.one_of(st.just(""), short_text)),
        "stickiness": draw(st.one_of(st.sampled_from(["default", "random", ""]), field_name)),
        "userIds": draw(list_text),
        "IPs": draw(st.one_of(list_text, st.just("10.0.0.0/8, ::1, not-an-ip,::::"))),
        "hostNames": draw(st.one_of(list_text, st.just("test-host"))),
    }
    return Strategy(
        name=name,
        parameters={
            key: parameters[key] for key in draw(st.sets(st.sampled_from(sorted(parameters))))
        },
        constraints=tuple(draw(st.lists(constraints(), max_size=3))),
        segments=tuple(draw(st.lists(st.integers(1, 4), max_size=2))),  # 4 does not exist
        variants=tuple(draw(st.lists(variants(), max_size=3))),
        title=draw(st.one_of(st.none(), short_text)),
        disabled=draw(st.booleans()),
    )


@st.composite
def variants(draw: st.DrawFn) -> VariantDefinition:
    payload = draw(
        st.one_of(
            st.none(),
            st.builds(Payload, st.sampled_from(["string", "json", "csv", "number"]), text),
        )
    )
    overrides = draw(
        st.lists(st.builds(Override, field_name, st.lists(text, max_size=3).map(tuple)), max_size=2)
    )
    return VariantDefinition(
        name=draw(short_text),
        weight=draw(st.integers(0, 1000)),
        payload=payload,
        stickiness=draw(st.one_of(st.none(), st.sampled_from(["default", "random"]), field_name)),
        overrides=tuple(overrides),
    )


FLAG_NAMES = ["f0", "f1", "f2"]


@st.composite
def flag_states(draw: st.DrawFn) -> FlagState:
    flags = {}
    for name in FLAG_NAMES:
        dependencies = draw(
            st.lists(
                st.builds(
                    Dependency,
                    st.sampled_from([*FLAG_NAMES, "missing"]),
                    st.booleans(),
                    st.lists(short_text, max_size=2).map(tuple),
                ),
                max_size=2,
            )
        )
        flags[name] = Flag(
            name=name,
            enabled=draw(st.booleans()),
            strategies=tuple(draw(st.lists(strategies(), max_size=3))),
            variants=tuple(draw(st.lists(variants(), max_size=3))),
            dependencies=tuple(d for d in dependencies if d.feature != name),
        )
    segments = {
        segment_id: Segment(
            segment_id, draw(short_text), tuple(draw(st.lists(constraints(), max_size=2)))
        )
        for segment_id in (1, 2, 3)
    }
    return FlagState(flags=flags, segments=segments)


# -- contexts ---------------------------------------------------------------------------

plain_value = st.one_of(
    text,
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


@st.composite
def well_formed_contexts(draw: st.DrawFn) -> dict[str, Any]:
    # The identifiers rollouts and variants hash are there more often than not.
    identifiers = dict.fromkeys(("userId", "sessionId", "remoteAddress"), text)
    context: dict[str, Any] = draw(st.fixed_dictionaries({}, optional=identifiers))
    context.update(
        draw(
            st.dictionaries(st.one_of(st.sampled_from(FIELDS), short_text), plain_value, max_size=4)
        )
    )
    if draw(st.booleans()):
        context["properties"] = draw(st.dictionaries(field_name, plain_value, max_size=5))
    return context


odd_value = st.one_of(
    plain_value,
    st.lists(plain_value, max_size=3),
    st.dictionaries(short_text, plain_value, max_size=2),
    st.just(10**5000),  # str() refuses ints over 4,300 digits
    st.just(b"\xff\xfe"),
    st.just(object()),
)
odd_contexts = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), short_text), odd_value, max_size=6),
    st.fixed_dictionaries({"properties": st.one_of(odd_value, st.just("not a dict"))}),
    st.one_of(st.none(), short_text, st.lists(plain_value, max_size=2), st.integers()),
)


# -- properties -------------------------------------------------------------------------


def _snapshot(state: FlagState) -> Snapshot:
    return Snapshot(state, environment=FIXED_ENV, clock=lambda: NOW)


@FUZZ
@given(state=flag_states(), context=well_formed_contexts())
def check_well_formed_context__every_answer_agrees_and_none_is_an_error(
    state: FlagState, context: dict[str, Any]
) -> None:
    snapshot = _snapshot(state)
    for name in [*FLAG_NAMES, "missing"]:
        flag = snapshot.flags.get(name)
        if flag is not None:  # the compiled flag itself: no exception to swallow
            on, variant = flag.is_on(context), flag.variant(context)
            assert isinstance(on, bool)
            assert snapshot.is_enabled(name, context) is on
            assert snapshot.variant(name, context) == variant
        explanation = snapshot.explain(name, context)
        assert explanation.reason is not Reason.ERROR, explanation.message
        assert explanation.enabled is snapshot.is_enabled(name, context)
        assert explanation.variant == snapshot.variant(name, context)
        explanation.to_dict()


@settings(FUZZ, max_examples=50)
@given(state=flag_states(), context=odd_contexts)
def check_odd_context__gives_answers_never_exceptions(state: FlagState, context: Any) -> None:
    snapshot = _snapshot(state)
    for name in [*FLAG_NAMES, "missing"]:
        assert isinstance(snapshot.is_enabled(name, context, default=True), bool)
        snapshot.variant(name, context)
        explanation = snapshot.explain(name, context)
        if explanation.reason is Reason.ERROR:
            assert explanation.error, "an error explanation says what went wrong"


# Every way an identifier reaches the hash: rollouts on each stickiness, variants on
# each stickiness, overrides; the identifier is any text at all.
HASHING = FlagState(
    flags={
        f"{strategy}-{stickiness}": Flag(
            f"{strategy}-{stickiness}",
            enabled=True,
            strategies=(
                Strategy(
                    strategy,
                    {"rollout": "50", "percentage": "50", "stickiness": stickiness},
                    variants=(VariantDefinition("s", 1, stickiness=stickiness),),
                ),
            ),
            variants=(
                VariantDefinition("a", 1, stickiness=stickiness),
                VariantDefinition("b", 1, overrides=(Override("userId", ("x",)),)),
            ),
        )
        for strategy in ("flexibleRollout", "gradualRolloutUserId", "gradualRolloutSessionId")
        for stickiness in ("default", "userId", "sessionId", "tenantId", "random")
    }
)


@settings(FUZZ, max_examples=150)
@given(
    identifier=text,
    where=st.sampled_from(["userId", "sessionId", "remoteAddress", "tenantId"]),
    in_properties=st.booleans(),
)
def check_hashing__any_identifier_text__buckets_without_crashing(
    identifier: str, where: str, in_properties: bool
) -> None:
    context = {"properties": {where: identifier}} if in_properties else {where: identifier}
    snapshot = _snapshot(HASHING)
    for name, flag in snapshot.flags.items():
        assert isinstance(flag.is_on(context), bool)
        assert flag.variant(context).feature_enabled in (True, False)
        assert snapshot.explain(name, context).reason is not Reason.ERROR


@settings(FUZZ, max_examples=40)
@given(
    pattern=pattern,
    subject=st.one_of(text, st.builds(lambda n: "a" * n + "!", st.integers(0, 5_000))),
    flags=st.tuples(st.booleans(), st.booleans()),
)
def check_regex__any_pattern_and_text__answers_a_boolean(
    pattern: str, subject: str, flags: tuple[bool, bool]
) -> None:
    inverted, case_insensitive = flags
    constraint = Constraint("userId", "REGEX", value=pattern, inverted=inverted,
                            case_insensitive=case_insensitive)  # fmt: skip
    flag = Flag("r", enabled=True, strategies=(Strategy("default", constraints=(constraint,)),))
    snapshot = _snapshot(FlagState(flags={"r": flag}))
    on = snapshot.flags["r"].is_on({"userId": subject})
    assert isinstance(on, bool)
    if len(subject) > MAX_CONTEXT_VALUE_LENGTH:
        assert on is False


# -- running them in a child interpreter ------------------------------------------------


def _in_child(property_name: str) -> None:
    """Run ``property_name`` of this module in a fresh interpreter (warnings are errors,
    as in pytest) and fail with its output unless it ends cleanly."""
    program = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('fuzz_child', {str(Path(__file__))!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        f"module.{property_name}()\n"
    )
    try:
        child = subprocess.run(
            [sys.executable, "-W", "error", "-c", program],
            capture_output=True,
            text=True,
            timeout=HANG_AFTER,
            check=False,
        )
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"{property_name} hung for {HANG_AFTER} s: {hung.stderr!r}") from None
    assert child.returncode == 0, (
        f"{property_name} ended with {child.returncode}"
        f"{' (a crash: signal ' + str(-child.returncode) + ')' if child.returncode < 0 else ''}"
        f":\n{child.stdout}\n{child.stderr}"
    )


def test_fuzz__well_formed_contexts__agree_and_never_error() -> None:
    _in_child("check_well_formed_context__every_answer_agrees_and_none_is_an_error")


def test_fuzz__odd_contexts__give_answers_never_exceptions() -> None:
    _in_child("check_odd_context__gives_answers_never_exceptions")


def test_fuzz__any_identifier__is_hashed_without_crashing() -> None:
    _in_child("check_hashing__any_identifier_text__buckets_without_crashing")


def test_fuzz__regex_constraints__always_answer() -> None:
    _in_child("check_regex__any_pattern_and_text__answers_a_boolean")
