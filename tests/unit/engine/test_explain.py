"""``Snapshot.explain`` and ``Client.explain``: the same answer as ``is_enabled``, with
the reason, which strategy decided, and for a miss, which condition failed and why."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import mmh3
import pytest

from shipwise import Client
from shipwise.engine import Reason, Snapshot, StrategyEnvironment, VariantSource

# Deterministic randomness: contexts without an identifier get bucket 43 every time.
FIXED_ENV = StrategyEnvironment(random=lambda: 0.42, hostname="test-host")
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _bucket(group_id: str, user_id: str) -> int:
    """The documented rollout bucket, computed independently of Shipwise."""
    return int(mmh3.hash(f"{group_id}:{user_id}", 0, signed=False)) % 100 + 1


def _user_in_bucket(group_id: str, accept: Callable[[int], bool]) -> tuple[str, int]:
    for number in itertools.count():
        user = f"user-{number}"
        if accept(_bucket(group_id, user)):
            return user, _bucket(group_id, user)
    raise AssertionError("unreachable")


def _snapshot(*flags: dict[str, Any], segments: list[dict[str, Any]] | None = None) -> Snapshot:
    document = {
        "format": "shipwise-snapshot",
        "version": 1,
        "segments": segments or [],
        "flags": list(flags),
    }
    return Snapshot.load(document, environment=FIXED_ENV, clock=lambda: NOW)


def _flag(key: str, *strategies: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"key": key, "enabled": True, "strategies": list(strategies), **fields}


def _rollout(percentage: int, group_id: str = "checkout", **extra: Any) -> dict[str, Any]:
    parameters = {"rollout": str(percentage), "stickiness": "userId", "groupId": group_id}
    return {"name": "flexibleRollout", "parameters": parameters, **extra}


def _constraint(field: str, operator: str, *values: str) -> dict[str, Any]:
    return {"contextName": field, "operator": operator, "values": list(values)}


# -- the reasons --------------------------------------------------------------------------


def test_explain__flag_off__says_flag_off() -> None:
    snapshot = _snapshot(_flag("checkout", {"name": "default"}, enabled=False))
    explanation = snapshot.explain("checkout", {"userId": "u1"})
    assert explanation.reason is Reason.FLAG_OFF
    assert explanation.enabled is False
    assert explanation.variant.name == "disabled"
    assert "off" in explanation.message


@pytest.mark.parametrize("default", [False, True])
def test_explain__unknown_flag__gives_the_default_and_names_the_flag(default: bool) -> None:
    snapshot = _snapshot(_flag("checkout"))
    explanation = snapshot.explain("chekout", {"userId": "u1"}, default=default)
    assert explanation.reason is Reason.UNKNOWN_FLAG
    assert explanation.enabled is default
    assert "'chekout'" in explanation.message
    assert explanation.variant.enabled is False


def test_explain__no_strategies__is_on_for_everyone() -> None:
    explanation = _snapshot(_flag("checkout")).explain("checkout", {})
    assert explanation.reason is Reason.NO_STRATEGIES
    assert explanation.enabled is True
    assert explanation.strategy is None


def test_explain__rollout_matched__names_the_strategy_and_the_bucket() -> None:
    # Given a user outside the allow list whose bucket in "checkout" is within 50
    user, bucket = _user_in_bucket("checkout", lambda b: b <= 50)
    snapshot = _snapshot(
        _flag(
            "checkout",
            {"name": "userWithId", "parameters": {"userIds": "alice,bob"}},
            _rollout(50),
        )
    )
    # When explained
    explanation = snapshot.explain("checkout", {"userId": user})
    # Then the second strategy (index 1) matched, and the message shows the bucket
    assert explanation.reason is Reason.STRATEGY_MATCH
    assert explanation.enabled is True
    assert explanation.strategy == 1
    assert [t.matched for t in explanation.trace] == [False, True]
    assert f"bucket {bucket}" in explanation.message
    assert "strategy 1" in explanation.message


def test_explain__rollout_not_reached__trace_shows_the_bucket() -> None:
    user, bucket = _user_in_bucket("checkout", lambda b: b > 10)
    explanation = _snapshot(_flag("checkout", _rollout(10))).explain("checkout", {"userId": user})
    assert explanation.reason is Reason.NO_STRATEGY_MATCHED
    assert explanation.enabled is False
    assert f"bucket {bucket}" in explanation.trace[0].detail


def test_explain__first_matching_strategy__decides_and_later_ones_are_not_traced() -> None:
    snapshot = _snapshot(
        _flag(
            "checkout",
            {"name": "userWithId", "parameters": {"userIds": "alice"}},
            {"name": "default"},
            {"name": "default"},
        )
    )
    explanation = snapshot.explain("checkout", {"userId": "bob"})
    assert explanation.strategy == 1
    assert [t.index for t in explanation.trace] == [0, 1]


def test_explain__disabled_strategy_before__keeps_original_strategy_index() -> None:
    snapshot = _snapshot(
        _flag(
            "checkout",
            {"name": "default", "disabled": True},
            {"name": "userWithId", "parameters": {"userIds": "alice"}, "title": "Alice"},
        )
    )
    explanation = snapshot.explain("checkout", {"userId": "alice"})
    assert explanation.strategy == 1
    assert "Alice" in explanation.message


def test_explain__failing_constraint__named_with_the_actual_value() -> None:
    # Given two constraints, the first met and the second not
    snapshot = _snapshot(
        _flag(
            "checkout",
            {
                "name": "default",
                "constraints": [
                    _constraint("plan", "IN", "pro", "enterprise"),
                    _constraint("country", "IN", "NO"),
                ],
            },
        )
    )
    # When explained for a pro user in Sweden
    explanation = snapshot.explain("checkout", {"properties": {"plan": "pro", "country": "SE"}})
    # Then the trace blames the country constraint and shows what the context held
    assert explanation.reason is Reason.NO_STRATEGY_MATCHED
    (trace,) = explanation.trace
    assert trace.matched is False
    assert "country" in trace.detail
    assert "'SE'" in trace.detail
    assert "plan" not in trace.detail
    assert trace.detail in explanation.message


def test_explain__failing_constraint_on_missing_field__shows_none() -> None:
    snapshot = _snapshot(
        _flag("checkout", {"name": "default", "constraints": [_constraint("plan", "IN", "pro")]})
    )
    (trace,) = snapshot.explain("checkout", {"userId": "u1"}).trace
    assert "plan=None" in trace.detail


def test_explain__oversized_value_under_not_in__says_it_is_over_the_limit() -> None:
    # Given NOT_IN, which a missing or oversized value would otherwise slip through
    constraint = _constraint("userId", "NOT_IN", "blocked")
    snapshot = _snapshot(_flag("checkout", {"name": "default", "constraints": [constraint]}))
    # When a 5,000-character userId is explained
    explanation = snapshot.explain("checkout", {"userId": "a" * 5_000})
    # Then it is not matched, and the trace says why instead of quoting the whole value
    assert explanation.enabled is False
    (trace,) = explanation.trace
    assert "(5,000 characters, over the limit of 1,000: no constraint matches it)" in trace.detail
    assert "a" * 100 not in trace.detail


def test_explain__constraint_with_unparseable_operand__names_the_problem() -> None:
    constraint = {"contextName": "age", "operator": "NUM_GT", "value": "eighteen"}
    snapshot = _snapshot(_flag("checkout", {"name": "default", "constraints": [constraint]}))
    (trace,) = snapshot.explain("checkout", {"properties": {"age": "30"}}).trace
    assert "'eighteen' is not a number" in trace.detail


def test_explain__failing_segment_constraint__names_the_segment() -> None:
    segments = [{"id": 3, "name": "beta-testers", "constraints": [_constraint("plan", "IN", "b")]}]
    snapshot = _snapshot(_flag("checkout", {"name": "default", "segments": [3]}), segments=segments)
    (trace,) = snapshot.explain("checkout", {"properties": {"plan": "free"}}).trace
    assert "beta-testers" in trace.detail
    assert "'free'" in trace.detail


def test_explain__missing_segment__is_named() -> None:
    snapshot = _snapshot(_flag("checkout", {"name": "default", "segments": [7]}))
    explanation = snapshot.explain("checkout", {"userId": "u1"})
    assert explanation.enabled is False
    (trace,) = explanation.trace
    assert "segment 7" in trace.detail
    assert "does not exist" in trace.detail


def test_explain__unknown_strategy__is_named() -> None:
    snapshot = _snapshot(_flag("checkout", {"name": "myCustomStrategy"}))
    explanation = snapshot.explain("checkout", {"userId": "u1"})
    assert explanation.enabled is False
    (trace,) = explanation.trace
    assert trace.name == "myCustomStrategy"
    assert "unknown strategy 'myCustomStrategy'" in trace.detail


@pytest.mark.parametrize("rollout", ["abc", "", "NaN"])
@pytest.mark.parametrize(
    ("strategy", "parameter"),
    [("flexibleRollout", "rollout"), ("gradualRolloutUserId", "percentage")],
)
def test_explain__percentage_that_is_not_a_number__never_matches_and_is_named(
    strategy: str, parameter: str, rollout: str
) -> None:
    # Given a rollout whose percentage does not read as a number
    flag = _flag("checkout", {"name": strategy, "parameters": {parameter: rollout}})
    # When the snapshot loads (it must: one bad rule may not take every flag down)
    snapshot = _snapshot(flag)
    # Then no user gets the flag, and the explanation says the percentage is the problem
    assert not any(snapshot.is_enabled("checkout", {"userId": f"u{n}"}) for n in range(200))
    (trace,) = snapshot.explain("checkout", {"userId": "u1"}).trace
    assert "not a number" in trace.detail


@pytest.mark.parametrize("rollout", ["inf", "-inf", "1e999"])
def test_explain__infinite_percentage__loads_and_explains_what_is_enabled_does(
    rollout: str,
) -> None:
    # Whether "inf" means 100% or a broken rule is open; loading and agreeing are not.
    snapshot = _snapshot(
        _flag("checkout", {"name": "flexibleRollout", "parameters": {"rollout": rollout}})
    )
    for n in range(50):
        context = {"userId": f"u{n}"}
        assert snapshot.explain("checkout", context).enabled is snapshot.is_enabled(
            "checkout", context
        )


# -- dependencies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parent", "dependency", "named"),
    [
        pytest.param(
            _flag("payments", enabled=False),
            {"feature": "payments"},
            "'payments'",
            id="parent off",
        ),
        pytest.param(
            _flag("payments"),
            {"feature": "payments", "enabled": False},
            "'payments'",
            id="parent must be off but is on",
        ),
        pytest.param(
            _flag("payments", variants=[{"name": "stripe", "weight": 1}]),
            {"feature": "payments", "variants": ["adyen"]},
            "'stripe'",
            id="parent variant not among the wanted",
        ),
        pytest.param(
            _flag("other"),
            {"feature": "payments"},
            "'payments'",
            id="parent does not exist",
        ),
    ],
)
def test_explain__dependency_unmet__names_the_parent(
    parent: dict[str, Any], dependency: dict[str, Any], named: str
) -> None:
    child = _flag("checkout", dependencies=[dependency])
    explanation = _snapshot(parent, child).explain("checkout", {"userId": "u1"})
    assert explanation.reason is Reason.DEPENDENCY_UNMET
    assert explanation.enabled is False
    assert named in explanation.message


def test_explain__dependency_met__explains_the_child_itself() -> None:
    snapshot = _snapshot(
        _flag("payments"), _flag("checkout", dependencies=[{"feature": "payments"}])
    )
    explanation = snapshot.explain("checkout", {})
    assert explanation.reason is Reason.NO_STRATEGIES
    assert explanation.enabled is True


# -- where the variant came from ----------------------------------------------------------


def test_explain__strategy_variants__source_is_strategy() -> None:
    strategy = {"name": "default", "variants": [{"name": "red", "weight": 1}]}
    snapshot = _snapshot(_flag("checkout", strategy, variants=[{"name": "blue", "weight": 1}]))
    explanation = snapshot.explain("checkout", {"userId": "u1"})
    assert (explanation.variant.name, explanation.variant_source) == ("red", VariantSource.STRATEGY)


def test_explain__flag_variants_only__source_is_flag() -> None:
    snapshot = _snapshot(
        _flag("checkout", {"name": "default"}, variants=[{"name": "b", "weight": 1}])
    )
    explanation = snapshot.explain("checkout", {"userId": "u1"})
    assert (explanation.variant.name, explanation.variant_source) == ("b", VariantSource.FLAG)


def test_explain__override_matches__source_is_override() -> None:
    variants = [
        {"name": "blue", "weight": 1000},
        {"name": "green", "weight": 0, "overrides": [{"contextName": "userId", "values": ["u1"]}]},
    ]
    snapshot = _snapshot(_flag("checkout", {"name": "default"}, variants=variants))
    explanation = snapshot.explain("checkout", {"userId": "u1"})
    assert (explanation.variant.name, explanation.variant_source) == (
        "green",
        VariantSource.OVERRIDE,
    )


def test_explain__no_variants__source_is_none_and_variant_disabled_with_feature_on() -> None:
    explanation = _snapshot(_flag("checkout", {"name": "default"})).explain("checkout", {})
    assert explanation.variant_source is VariantSource.NONE
    assert (explanation.variant.enabled, explanation.variant.feature_enabled) == (False, True)


# -- agreement with is_enabled ------------------------------------------------------------

SHAPES: dict[str, dict[str, Any]] = {
    "rollout, default stickiness": _flag(
        "a",
        {"name": "flexibleRollout", "parameters": {"rollout": "30", "stickiness": "default"}},
    ),
    "rollout on a custom field": _flag(
        "b",
        {
            "name": "flexibleRollout",
            "parameters": {"rollout": "60", "stickiness": "tenant", "groupId": "g"},
        },
    ),
    "constraints and segment, then a rollout": _flag(
        "c",
        {
            "name": "default",
            "segments": [1],
            "constraints": [_constraint("country", "IN", "NO", "SE")],
        },
        _rollout(20, "c", constraints=[{**_constraint("plan", "IN", "free"), "inverted": True}]),
    ),
    "allow list, session rollout, with variants": _flag(
        "d",
        {"name": "userWithId", "parameters": {"userIds": "user-1,user-7,user-42"}},
        {"name": "gradualRolloutSessionId", "parameters": {"percentage": "35"}},
        variants=[{"name": "x", "weight": 1}, {"name": "y", "weight": 3}],
    ),
    "semver and date constraints": _flag(
        "e",
        {
            "name": "default",
            "constraints": [
                {"contextName": "appVersion", "operator": "SEMVER_GTE", "value": "2.4.0"},
                {
                    "contextName": "currentTime",
                    "operator": "DATE_BEFORE",
                    "value": "2030-01-01T00:00:00Z",
                },
            ],
        },
    ),
    "dependent on a rollout": _flag(
        "f",
        _rollout(50, "f"),
        dependencies=[{"feature": "a"}],
    ),
    "dependent on a parent being off": _flag(
        "g", dependencies=[{"feature": "b", "enabled": False}]
    ),
    "unknown strategy then a missing segment then a regex": _flag(
        "h",
        {"name": "nope"},
        {"name": "default", "segments": [99]},
        {"name": "default", "constraints": [{**_constraint("email", "REGEX"), "value": "@corp$"}]},
    ),
    "switched off": _flag("i", {"name": "default"}, enabled=False),
}
SEGMENTS = [{"id": 1, "name": "paying", "constraints": [_constraint("plan", "IN", "pro", "team")]}]


def _contexts(count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(20250601)
    for _ in range(count):
        context: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        if rng.random() < 0.8:
            context["userId"] = rng.choice([f"user-{rng.randrange(60)}", rng.randrange(60)])
        if rng.random() < 0.5:
            context["sessionId"] = f"s-{rng.randrange(10_000)}"
        for field, choices in (
            ("plan", ["free", "pro", "team", ""]),
            ("country", ["NO", "SE", "DK"]),
            ("appVersion", ["2.3.9", "2.4.0", "2.10.1-rc.1", "garbage"]),
            ("tenant", ["t1", "t2", "t3", "t4"]),
            ("email", ["a@corp", "b@example.com"]),
        ):
            if rng.random() < 0.7:
                properties[field] = rng.choice(choices)
        if rng.random() < 0.2:
            context["currentTime"] = rng.choice(["2029-12-31T23:00:00Z", "2031-01-01T00:00:00Z"])
        if rng.random() < 0.2 and "tenant" in properties:
            context["tenant"] = properties.pop("tenant")  # custom field at the top level
        if properties or rng.random() < 0.5:
            context["properties"] = properties
        yield context


CONTEXTS = list(_contexts(400))


@pytest.mark.parametrize("flag", list(SHAPES.values()), ids=list(SHAPES))
def test_explain__enabled_and_variant__agree_with_is_enabled_and_variant(
    flag: dict[str, Any],
) -> None:
    snapshot = _snapshot(*SHAPES.values(), segments=SEGMENTS)
    key = flag["key"]
    outcomes = set()
    for context in CONTEXTS:
        explanation = snapshot.explain(key, context)
        enabled = snapshot.is_enabled(key, context)
        assert explanation.enabled is enabled, (context, explanation)
        assert explanation.variant == snapshot.variant(key, context), context
        outcomes.add(enabled)
    # The contexts exercise both answers wherever the flag can give both.
    assert outcomes == ({False} if key == "i" else {False, True})


# -- randomness ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draws",
    [
        pytest.param([0.0, 0.99], id="low then high"),
        pytest.param([0.0, 0.0, 0.99], id="low, low, then high"),
        pytest.param([0.99, 0.0], id="high then low"),
    ],
)
def test_explain__random_rollout__tells_one_consistent_story(draws: list[float]) -> None:
    # Given a 50% random rollout and a random source standing in for random.random
    source = itertools.cycle(draws)
    environment = StrategyEnvironment(random=lambda: next(source), hostname="test-host")
    document = {
        "format": "shipwise-snapshot",
        "version": 1,
        "flags": [
            _flag("coin", {"name": "gradualRolloutRandom", "parameters": {"percentage": 50}})
        ],
    }
    snapshot = Snapshot.load(document, environment=environment)
    # When explained
    explanation = snapshot.explain("coin", {})
    # Then the answer, the reason, the trace and the bucket it quotes all agree
    (trace,) = explanation.trace
    assert explanation.enabled is trace.matched
    assert explanation.reason is (
        Reason.STRATEGY_MATCH if trace.matched else Reason.NO_STRATEGY_MATCHED
    )
    quoted = re.search(r"bucket (\d+)", trace.detail)
    assert quoted is not None
    assert (int(quoted.group(1)) <= 50) is trace.matched


# -- the client ---------------------------------------------------------------------------


def test_client_explain__is_the_snapshot_explanation__and_is_not_counted() -> None:
    user, _ = _user_in_bucket("checkout", lambda b: b <= 50)
    document = {
        "format": "shipwise-snapshot",
        "version": 1,
        "flags": [_flag("checkout", _rollout(50))],
    }
    client = Client.offline(document)
    for context in ({"userId": user}, {"userId": "nobody-" + user}, {}):
        assert client.explain("checkout", context) == client.snapshot.explain("checkout", context)
    assert client.explain("missing", default=True).reason is Reason.UNKNOWN_FLAG
    assert client.exposures() == {}
    assert client.unknown_flags() == []
