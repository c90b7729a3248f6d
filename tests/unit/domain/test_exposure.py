"""``exposure``: which changes to a flag's rules or a segment could show the flag to more
people, and the words that say why. Table-driven cases first, then properties that must
hold for any rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipwise.domain.exposure import rules_widening, segment_widening
from shipwise.engine import Snapshot

COUNTRY_NO = {"contextName": "country", "operator": "IN", "values": ["NO"]}
PLAN_PRO = {"contextName": "plan", "operator": "IN", "values": ["pro"]}
PLAN_ANY = {"contextName": "plan", "operator": "IN", "values": ["pro", "free"]}
VARIANT_A = {"name": "a", "weight": 1000, "stickiness": "default"}
VARIANT_B = {"name": "b", "weight": 1000, "stickiness": "default"}


def rollout(percentage: int, *constraints: Any, **more: Any) -> dict[str, Any]:
    parameters = {"rollout": str(percentage), "stickiness": "default", "groupId": "f"}
    return {
        "name": "flexibleRollout",
        "parameters": {**parameters, **more.pop("parameters", {})},
        "constraints": list(constraints),
        **more,
    }


def users(*ids: str) -> dict[str, Any]:
    return {"name": "userWithId", "parameters": {"userIds": ",".join(ids)}, "constraints": []}


def on(*strategies: Any, variants: Any = (), dependencies: Any = ()) -> dict[str, Any]:
    return {
        "enabled": True,
        "strategies": list(strategies),
        "variants": list(variants),
        "dependencies": list(dependencies),
    }


def off(*strategies: Any) -> dict[str, Any]:
    return {**on(*strategies), "enabled": False}


NARROWINGS = [
    pytest.param(on(rollout(10)), off(rollout(10)), id="switching off"),
    pytest.param(off(rollout(10)), off(rollout(90)), id="a flag that stays off"),
    pytest.param(on(rollout(10)), on(rollout(10)), id="identical rules"),
    pytest.param(on(rollout(50)), on(rollout(10)), id="lowering the rollout"),
    pytest.param(on(rollout(50), users("a")), on(users("a")), id="removing a strategy"),
    pytest.param(on(rollout(50)), on(rollout(50, COUNTRY_NO)), id="adding a constraint"),
    pytest.param(
        on(rollout(50)),
        on(rollout(50), dependencies=[{"feature": "parent"}]),
        id="adding a dependency",
    ),
    pytest.param(on(users("a", "b")), on(users("a")), id="fewer user ids"),
    pytest.param(on(), on(rollout(50)), id="from everyone to a rollout"),
    pytest.param(
        on(rollout(50)),
        on({**rollout(50), "segments": [3]}),
        id="adding a segment to a strategy",
    ),
    pytest.param(
        on(rollout(50), users("a")),
        on(rollout(50), {**users("a"), "disabled": True}),
        id="disabling a strategy while another remains",
    ),
    pytest.param(
        on(rollout(50), rollout(20, variants=[VARIANT_A])),
        on(rollout(50), rollout(10, variants=[VARIANT_A])),
        id="lowering the last strategy when strategies have variants",
    ),
    pytest.param(
        on({**rollout(50), "title": "old"}),
        on({**rollout(50), "title": "new"}),
        id="renaming a strategy's title",
    ),
]

WIDENINGS = [
    pytest.param(off(rollout(10)), on(rollout(10)), "switches the flag on", id="switching on"),
    pytest.param(
        on(rollout(10)),
        on(rollout(50)),
        "raises strategy 1's rollout from 10% to 50%",
        id="raising the rollout",
    ),
    pytest.param(
        on(rollout(10), users("a")),
        on(rollout(10), users("a", "b")),
        "adds user ids b to strategy 2",
        id="more user ids",
    ),
    pytest.param(
        on(rollout(10), rollout(20, COUNTRY_NO)),
        on(rollout(10), rollout(20)),
        "removes a constraint of strategy 2 (on 'country')",
        id="removing a constraint",
    ),
    pytest.param(
        on(rollout(10, PLAN_PRO)),
        on(rollout(10, PLAN_ANY)),
        "changes a constraint of strategy 1 (on 'plan')",
        id="changing a constraint",
    ),
    pytest.param(
        on(rollout(10), users("a")),
        on(rollout(10), users("a"), users("b")),
        "adds strategy 3 (userWithId)",
        id="adding a strategy",
    ),
    pytest.param(
        on(rollout(10), variants=[VARIANT_A]),
        on(rollout(10), variants=[VARIANT_A, VARIANT_B]),
        "changes the variants",
        id="changing the variants",
    ),
    pytest.param(
        on(rollout(10), dependencies=[{"feature": "parent"}]),
        on(rollout(10)),
        "removes the dependency on 'parent'",
        id="removing a dependency",
    ),
    pytest.param(
        on(rollout(10), dependencies=[{"feature": "parent", "variants": ["a"]}]),
        on(rollout(10), dependencies=[{"feature": "parent", "variants": ["a", "b"]}]),
        "changes the dependency on 'parent'",
        id="changing a dependency",
    ),
    pytest.param(
        on(rollout(10)),
        on(),
        "leaves no active strategy, so the flag is on for everyone",
        id="removing every strategy",
    ),
    pytest.param(
        on(rollout(10)),
        on({**rollout(10), "disabled": True}),
        "leaves no active strategy, so the flag is on for everyone",
        id="disabling the only strategy",
    ),
    pytest.param(
        on(rollout(10, parameters={"groupId": "f"})),
        on(rollout(10, parameters={"groupId": "g"})),
        "changes strategy 1's groupId",
        id="re-bucketing users with another group",
    ),
    pytest.param(
        on(rollout(10)),
        on({**rollout(10), "segments": [3]}, {**rollout(10), "segments": [4]}),
        "adds strategy 2 (flexibleRollout)",
        id="one strategy split in two",
    ),
    pytest.param(
        on({**rollout(10), "segments": [3]}),
        on(rollout(10)),
        "takes segment 3 off strategy 1",
        id="taking a segment off",
    ),
    pytest.param(
        on(users("a")),
        on({"name": "default", "parameters": {}, "constraints": []}),
        "changes strategy 1 from 'userWithId' to 'default'",
        id="another kind of strategy",
    ),
    pytest.param(
        on(rollout(10, variants=[VARIANT_A]), rollout(50, variants=[VARIANT_B])),
        on(rollout(5, variants=[VARIANT_A]), rollout(50, variants=[VARIANT_B])),
        "narrows strategy 1, so some of its users fall through to a later strategy "
        "and its variants",
        id="users falling through to another strategy's variants",
    ),
    pytest.param(
        on(rollout(10, variants=[VARIANT_A])),
        on(rollout(10, variants=[VARIANT_B])),
        "changes strategy 1's variants",
        id="changing a strategy's variants",
    ),
    pytest.param(
        on(rollout(10), users("a")),
        on(users("a"), rollout(10)),
        "reorders the strategies",
        id="reordering strategies is not proved harmless",
    ),
    pytest.param(
        on(),
        on(rollout(10, variants=[VARIANT_A])),
        "adds strategies with variants",
        id="from everyone to a strategy with variants",
    ),
]


@pytest.mark.parametrize(("before", "after"), NARROWINGS)
def test_rules_widening__when_the_change_narrows__gives_no_reason(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    widening = rules_widening(before, after)

    assert widening.widens is False
    assert widening.reasons == ()


@pytest.mark.parametrize(("before", "after", "reason"), WIDENINGS)
def test_rules_widening__when_more_people_could_see_it__says_why(
    before: dict[str, Any], after: dict[str, Any], reason: str
) -> None:
    widening = rules_widening(before, after)

    assert widening.widens is True
    assert widening.reasons[0] == reason
    assert widening.describe().startswith(reason)


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        pytest.param([COUNTRY_NO], [COUNTRY_NO, PLAN_PRO], None, id="more constraints"),
        pytest.param([COUNTRY_NO], [COUNTRY_NO], None, id="the same constraints"),
        pytest.param(
            [COUNTRY_NO, PLAN_PRO],
            [COUNTRY_NO],
            "removes a constraint (on 'plan')",
            id="fewer constraints",
        ),
        pytest.param(
            [PLAN_PRO], [PLAN_ANY], "changes a constraint (on 'plan')", id="a changed constraint"
        ),
        pytest.param(
            [COUNTRY_NO, COUNTRY_NO],
            [COUNTRY_NO],
            "removes a constraint (on 'country')",
            id="a repeated constraint counts twice",
        ),
    ],
)
def test_segment_widening__new_constraints__widen_unless_the_old_ones_plus_more(
    before: list[Any], after: list[Any], reason: str | None
) -> None:
    widening = segment_widening(before, after)

    assert widening.reasons == (() if reason is None else (reason,))


# -- properties ------------------------------------------------------------------------

_constraints = st.lists(st.sampled_from([COUNTRY_NO, PLAN_PRO, PLAN_ANY]), max_size=2)
_rollouts = st.builds(
    lambda p, c, g, s: {**rollout(p, *c, parameters={"groupId": g}), "segments": s},
    st.sampled_from([0, 10, 50, 100]),
    st.one_of(st.just([]), _constraints),
    st.sampled_from(["f", "g"]),
    st.one_of(st.just([]), st.lists(st.sampled_from([1, 2]), max_size=2)),
)
_user_lists = st.builds(
    lambda ids: users(*sorted(ids)), st.sets(st.sampled_from(["user-1", "user-2"]), min_size=1)
)
_variant_lists = st.lists(st.sampled_from([VARIANT_A, VARIANT_B]), max_size=2, unique_by=str)
_strategies = st.one_of(
    _rollouts,
    _user_lists,
    st.builds(lambda s, v: {**s, "variants": v}, _rollouts, _variant_lists),
)
_rules = st.builds(
    lambda enabled, strategies, variants, dependencies: {
        "enabled": enabled,
        "strategies": strategies,
        "variants": variants,
        "dependencies": dependencies,
    },
    st.sampled_from([True, True, True, False]),
    st.lists(_strategies, max_size=3),
    _variant_lists,
    st.one_of(
        st.just([]),
        st.lists(
            st.sampled_from([{"feature": "p"}, {"feature": "q", "enabled": False}]),
            max_size=2,
            unique_by=str,
        ),
    ),
)


def _in_effect(rules: dict[str, Any]) -> str | None:
    """What the engine evaluates: nothing of a flag that is off; constraints, segments
    and dependencies all must hold, so their order is not part of it."""
    if not rules["enabled"]:
        return None

    def unordered(items: list[Any]) -> list[Any]:
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    strategies = [
        {
            **s,
            "constraints": unordered(s["constraints"]),
            "segments": unordered(s.get("segments", [])),
        }
        for s in rules["strategies"]
    ]
    effect = {**rules, "strategies": strategies, "dependencies": unordered(rules["dependencies"])}
    return json.dumps(effect, sort_keys=True)


@settings(max_examples=200, deadline=None)
@given(before=_rules, after=_rules)
def test_rules_widening__switched_off__never_widens(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert rules_widening(before, {**after, "enabled": False}).widens is False


@settings(max_examples=200, deadline=None)
@given(rules=_rules)
def test_rules_widening__identical_rules__never_widen(rules: dict[str, Any]) -> None:
    assert rules_widening(rules, json.loads(json.dumps(rules))).widens is False


@settings(max_examples=500, deadline=None)
@given(x=_rules, y=_rules)
def test_rules_widening__both_ways_narrowing__only_when_equal_in_effect(
    x: dict[str, Any], y: dict[str, Any]
) -> None:
    if not rules_widening(x, y).widens and not rules_widening(y, x).widens:
        assert _in_effect(x) == _in_effect(y)


@settings(max_examples=200, deadline=None)
@given(before=_rules, after=_rules)
def test_rules_widening__a_widening__always_says_why(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    widening = rules_widening(before, after)

    assert all(reason.strip() for reason in widening.reasons)
    if widening.widens:
        assert widening.describe()


@settings(max_examples=200, deadline=None)
@given(x=st.lists(st.sampled_from([COUNTRY_NO, PLAN_PRO, PLAN_ANY]), max_size=3), y=_constraints)
def test_segment_widening__both_ways_narrowing__only_when_the_same_constraints(
    x: list[Any], y: list[Any]
) -> None:
    if not segment_widening(x, y).widens and not segment_widening(y, x).widens:
        assert sorted(map(str, x)) == sorted(map(str, y))


_CONTEXTS = [
    {"userId": f"user-{n}", "properties": {"country": country, "plan": plan}}
    for n in range(12)
    for country in ("NO", "SE")
    for plan in ("pro", "free")
]


def _snapshot(rules: dict[str, Any]) -> Snapshot:
    parents = [
        {"key": "p", "enabled": True, "strategies": [rollout(50, parameters={"groupId": "p"})]},
        {"key": "q", "enabled": True, "strategies": [rollout(50, parameters={"groupId": "q"})]},
    ]
    return Snapshot.load(
        {
            "format": "shipwise-snapshot",
            "version": 1,
            "segments": [
                {"id": 1, "constraints": [COUNTRY_NO]},
                {"id": 2, "constraints": [PLAN_PRO]},
            ],
            "flags": [{"key": "f", **rules}, *parents],
        }
    )


def _edit(rules: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``rules`` with one small change a person might make."""
    edited = json.loads(json.dumps(rules))
    strategies = edited["strategies"]
    edits = ["switch", "flag variants", "add strategy", "dependencies"]
    if strategies:
        edits += ["percentage", "constraints", "segments", "remove strategy", "strategy variants"]
        edits += ["users", "swap"]
    edit = data.draw(st.sampled_from(edits))
    at = data.draw(st.integers(0, max(len(strategies) - 1, 0)))
    if edit == "switch":
        edited["enabled"] = not edited["enabled"]
    elif edit == "flag variants":
        edited["variants"] = data.draw(_variant_lists)
    elif edit == "add strategy":
        strategies.insert(data.draw(st.integers(0, len(strategies))), data.draw(_strategies))
    elif edit == "dependencies":
        edited["dependencies"] = data.draw(_rules)["dependencies"]
    elif edit == "remove strategy":
        del strategies[at]
    elif edit == "swap":
        strategies.insert(0, strategies.pop(at))
    elif edit == "users":
        strategies[at] = {**strategies[at], **data.draw(_user_lists)}
    elif strategies[at]["name"] == "flexibleRollout" or edit != "percentage":
        field, value = {
            "percentage": ("parameters", {**strategies[at].get("parameters", {})}),
            "constraints": ("constraints", data.draw(_constraints)),
            "segments": ("segments", data.draw(st.lists(st.sampled_from([1, 2]), max_size=2))),
            "strategy variants": ("variants", data.draw(_variant_lists)),
        }[edit]
        if edit == "percentage":
            value["rollout"] = str(data.draw(st.sampled_from([0, 10, 50, 100])))
        strategies[at] = {**strategies[at], field: value}
    return edited


@settings(max_examples=1000, deadline=None)
@given(before=_rules, data=st.data())
def test_rules_widening__no_widening__means_the_engine_shows_no_one_new(
    before: dict[str, Any], data: st.DataObject
) -> None:
    """Checked against the engine itself: when a change is judged not to widen, no
    context sees the flag, or a variant, that it did not see before."""
    after = _edit(before, data)
    if data.draw(st.booleans()):
        after = _edit(after, data)
    if rules_widening(before, after).widens:
        return
    old, new = _snapshot(before), _snapshot(after)
    for context in _CONTEXTS:
        if new.is_enabled("f", context):
            assert old.is_enabled("f", context), context
            assert new.variant("f", context) == old.variant("f", context), context
