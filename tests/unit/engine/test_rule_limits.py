"""The engine's one definition of rules that can be evaluated (``engine.validation``).

What the server accepts, every evaluator can use: payloads that parse as their type,
operands that are finite numbers and real addresses, lists and texts within ``limits``,
each problem naming its field. And the other side: rules that arrive from outside (a
snapshot file, an Unleash state) are not validated, and evaluating them never raises.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipwise.engine import Payload, Reason, Snapshot, load_flag
from shipwise.engine.limits import (
    MAX_CONSTRAINTS,
    MAX_NAME_LENGTH,
    MAX_OVERRIDES,
    MAX_PARAMETERS,
    MAX_PAYLOAD_DEPTH,
    MAX_SEGMENTS_PER_STRATEGY,
    MAX_STRATEGIES_PER_FLAG,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    MAX_VARIANTS,
)
from shipwise.engine.payloads import PayloadError, payload_value
from shipwise.engine.validation import constraint_problems, flag_problems


def _flag(**rules: Any) -> Any:
    return load_flag({"key": "checkout", "enabled": True, **rules})


def _constraint(**fields: Any) -> dict[str, Any]:
    return {"contextName": "plan", "operator": "IN", "values": ["pro"], **fields}


def _strategy(name: str = "default", **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


def _variant(kind: str, value: str, **fields: Any) -> dict[str, Any]:
    return {"name": "v", "weight": 1, "payload": {"type": kind, "value": value}, **fields}


def _fields(**rules: Any) -> list[str]:
    return [field for field, _problem in flag_problems(_flag(**rules))]


OVERRIDE = {"contextName": "userId", "values": ["a"]}

# (rules, the first field at fault)
BROKEN = [
    pytest.param({"variants": [_variant("json", "{x")]}, "variants[0].payload.value", id="json"),
    pytest.param(
        {"variants": [_variant("json", "")]}, "variants[0].payload.value", id="empty-json"
    ),
    pytest.param(
        {"variants": [_variant("json", "Infinity")]}, "variants[0].payload.value", id="infinity"
    ),
    pytest.param(
        {"variants": [_variant("json", "[" * 5000 + "]" * 5000)]},
        "variants[0].payload.value",
        id="json-5000-deep",
    ),
    pytest.param({"variants": [_variant("number", "abc")]}, "variants[0].payload.value", id="abc"),
    pytest.param({"variants": [_variant("number", "")]}, "variants[0].payload.value", id="empty"),
    pytest.param({"variants": [_variant("number", "0x10")]}, "variants[0].payload.value", id="hex"),
    pytest.param(
        {"variants": [_variant("number", "1e99999")]}, "variants[0].payload.value", id="inf"
    ),
    pytest.param(
        {"variants": [_variant("number", "١٢")]}, "variants[0].payload.value", id="arabic"
    ),
    pytest.param({"variants": [_variant("xml", "<a/>")]}, "variants[0].payload.type", id="xml"),
    pytest.param(
        {"variants": [{"name": "", "weight": 1}]}, "variants[0].name", id="empty-variant-name"
    ),
    pytest.param(
        {"variants": [{"name": "v", "weight": 1, "stickiness": "a\x01b"}]},
        "variants[0].stickiness",
        id="control-character-in-stickiness",
    ),
    pytest.param(
        {"variants": [{"name": "v", "weight": 1, "overrides": [OVERRIDE] * (MAX_OVERRIDES + 1)}]},
        "variants[0].overrides",
        id="too-many-overrides",
    ),
    pytest.param(
        {"variants": [{"name": "v", "weight": 1}] * (MAX_VARIANTS + 1)},
        "variants",
        id="too-many-variants",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(operator="NUM_GTE", value="-1e400")])]},
        "strategies[0].constraints[0].value",
        id="num-minus-infinity",
    ),
    pytest.param(
        {
            "strategies": [
                _strategy(constraints=[_constraint(operator="NUM_EQ", values=["1e99999"])])
            ]
        },
        "strategies[0].constraints[0].values[0]",
        id="num-operand-in-values",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(operator="NUM_LT", value="inf")])]},
        "strategies[0].constraints[0].value",
        id="num-inf-which-javascript-reads-as-nan",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(operator="NUM_LT", value="1_000")])]},
        "strategies[0].constraints[0].value",
        id="num-1_000-which-javascript-reads-as-1",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(operator="DATE_AFTER", value="soon")])]},
        "strategies[0].constraints[0].value",
        id="date-that-is-not-a-date",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(operator="REGEX", value="(a")])]},
        "strategies[0].constraints[0].value",
        id="regex-that-does-not-compile",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(contextName=" ")])]},
        "strategies[0].constraints[0].contextName",
        id="blank-context-name",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(contextName="a\nb")])]},
        "strategies[0].constraints[0].contextName",
        id="newline-in-context-name",
    ),
    pytest.param(
        {"strategies": [_strategy(constraints=[_constraint(values=["\ud800"])])]},
        "strategies[0].constraints[0].values[0]",
        id="lone-surrogate",
    ),
    pytest.param(
        {"strategies": [_strategy("remoteAddress", parameters={"IPs": " , "})]},
        "strategies[0].parameters.IPs",
        id="remote-address-without-addresses",
    ),
    pytest.param(
        {"strategies": [_strategy("applicationHostname")]},
        "strategies[0].parameters.hostNames",
        id="hostname-without-hosts",
    ),
    pytest.param(
        {"strategies": [_strategy("userWithId", parameters={"userIds": ",".join(["u"] * 1001)})]},
        "strategies[0].parameters.userIds",
        id="too-many-users",
    ),
    pytest.param(
        {"strategies": [_strategy("flexibleRollout", parameters={"rollout": True})]},
        "strategies[0].parameters.rollout",
        id="rollout-true",
    ),
    pytest.param(
        {"strategies": [_strategy("flexibleRollout", parameters={"rollout": "NaN"})]},
        "strategies[0].parameters.rollout",
        id="rollout-nan",
    ),
    pytest.param(
        {"strategies": [_strategy("flexibleRollout", parameters={"rollout": "1_0"})]},
        "strategies[0].parameters.rollout",
        id="rollout-1_0-which-javascript-reads-as-nan",
    ),
    pytest.param(
        {"strategies": [_strategy("flexibleRollout", parameters={"stickiness": ""})]},
        "strategies[0].parameters.stickiness",
        id="empty-stickiness",
    ),
    pytest.param(
        {"strategies": [_strategy(parameters={f"p{n}": "x" for n in range(MAX_PARAMETERS + 1)})]},
        "strategies[0].parameters",
        id="too-many-parameters",
    ),
    pytest.param(
        {"strategies": [_strategy(segments=list(range(MAX_SEGMENTS_PER_STRATEGY + 1)))]},
        "strategies[0].segments",
        id="too-many-segments",
    ),
    pytest.param(
        {"strategies": [_strategy(title="t\x00")]}, "strategies[0].title", id="nul-in-title"
    ),
    pytest.param(
        {"dependencies": [{"feature": "parent", "variants": ["a\x00"]}]},
        "dependencies[0].variants[0]",
        id="nul-in-a-dependency-variant",
    ),
]


@pytest.mark.parametrize(("rules", "field"), BROKEN)
def test_flag_problems__rules_no_sdk_can_use__name_the_field(
    rules: dict[str, Any], field: str
) -> None:
    assert _fields(**rules)[:1] == [field]


def test_flag_problems__rules_at_every_limit__have_none() -> None:
    values = [str(n) for n in range(MAX_VALUES - 1)] + ["x" * MAX_VALUE_LENGTH]
    constraints = [_constraint(contextName="c" * MAX_NAME_LENGTH, values=values)]
    constraints += [_constraint()] * (MAX_CONSTRAINTS - 1)
    strategies = [_strategy(constraints=constraints, segments=[1] * MAX_SEGMENTS_PER_STRATEGY)]
    strategies += [_strategy("userWithId", parameters={"userIds": ",".join(values)})]
    strategies += [_strategy()] * (MAX_STRATEGIES_PER_FLAG - len(strategies))
    deep = "[" * MAX_PAYLOAD_DEPTH + "]" * MAX_PAYLOAD_DEPTH
    variants = [_variant("json", deep), _variant("number", "1e308"), _variant("csv", "a,b")]
    variants += [{"name": "v", "weight": 1}] * (MAX_VARIANTS - len(variants))
    assert _fields(strategies=strategies, variants=variants) == []


def test_constraint_problems__more_than_the_limit__are_counted_not_read_one_by_one() -> None:
    flag = _flag(strategies=[_strategy(constraints=[_constraint(values=["\x00"] * 200_000)])])
    problems = constraint_problems(flag.strategies[0].constraints)
    assert problems == [
        (
            "constraints[0].values",
            "has 200,000 values; at most 1,000 are allowed: split the list over several "
            "strategies, or match on a coarser context field",
        )
    ]


def test_constraint_problems__every_bad_address_in_a_cidr_list__is_named() -> None:
    flag = _flag(
        strategies=[
            _strategy(constraints=[_constraint(operator="IN_CIDR", values=["x", "::1", "10.0.0"])])
        ]
    )
    fields = [field for field, _ in constraint_problems(flag.strategies[0].constraints, "s.")]
    assert fields == ["s.constraints[0].values[0]", "s.constraints[0].values[2]"]


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        pytest.param("number", "42", 42, id="integer"),
        pytest.param("number", " -7 ", -7, id="integer-with-spaces"),
        pytest.param("number", "2.5", 2.5, id="float"),
        pytest.param("number", "-1.5e3", -1500.0, id="exponent"),
        pytest.param("number", ".5", 0.5, id="leading-dot"),
        pytest.param("json", '{"a": [1, null]}', {"a": [1, None]}, id="json-object"),
        pytest.param("json", '"text"', "text", id="json-string"),
        pytest.param("string", "{x", "{x", id="string-as-is"),
        pytest.param("csv", "a,b", "a,b", id="csv-as-is"),
    ],
)
def test_payload_value__valid_payloads__read_as_their_type(
    kind: str, text: str, value: object
) -> None:
    assert payload_value(Payload(kind, text)) == value


@given(st.text(alphabet="0123456789+-.eE xa", max_size=12))
def test_payload_value__number_payloads__are_finite_numbers_or_refused(text: str) -> None:
    try:
        number = payload_value(Payload("number", text))
    except PayloadError:
        return
    assert isinstance(number, int | float)
    assert float(number) == float(text.strip())  # the text every SDK reads, read the same


# -- rules from outside are evaluated, never validated -------------------------------

FROM_OUTSIDE = [
    {"name": "json", "enabled": True, "variants": [_variant("json", "{x")]},
    {"name": "number", "enabled": True, "variants": [_variant("number", "abc")]},
    {
        "name": "num-eq",
        "enabled": True,
        "strategies": [_strategy(constraints=[_constraint(operator="NUM_EQ", value="1e99999")])],
    },
    {
        "name": "remote",
        "enabled": True,
        "strategies": [_strategy("remoteAddress", parameters={"IPs": "not-an-ip,::::"})],
    },
    {
        "name": "users",
        "enabled": True,
        "strategies": [_strategy("userWithId", parameters={"userIds": None})],
    },
    {
        "name": "nul",
        "enabled": True,
        "strategies": [_strategy(constraints=[_constraint(contextName="a\x00", values=["\x00"])])],
    },
    {
        "name": "huge",
        "enabled": True,
        "strategies": [
            _strategy(
                constraints=[_constraint(values=["x" * 1_000_000, *map(str, range(200_000))])]
            )
        ],
    },
]


@pytest.mark.parametrize("feature", FROM_OUTSIDE, ids=[f["name"] for f in FROM_OUTSIDE])
@pytest.mark.parametrize("context", [{}, {"userId": "u", "remoteAddress": "not-an-ip"}])
def test_unleash_state__with_rules_a_server_would_refuse__loads_and_evaluates_without_raising(
    feature: dict[str, Any], context: dict[str, Any]
) -> None:
    snapshot = Snapshot.from_unleash({"version": 2, "features": [feature]})
    name = feature["name"]

    enabled = snapshot.is_enabled(name, context)
    variant = snapshot.variant(name, context)
    explanation = snapshot.explain(name, context)

    assert explanation.enabled is enabled
    assert explanation.variant == variant
    assert explanation.reason is not Reason.ERROR
    assert flag_problems(snapshot.state.flags[name]) != []  # the server would refuse it
