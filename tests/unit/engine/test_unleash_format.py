"""The Unleash client-API format: features documents and delta events in, features
documents out. Mistakes name the flag and field; deltas apply in order to a copy."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shipwise.engine import (
    Constraint,
    Dependency,
    Flag,
    FlagState,
    Override,
    Payload,
    Segment,
    SnapshotError,
    Strategy,
    VariantDefinition,
    apply_unleash_events,
    state_from_unleash,
    state_to_unleash,
)


def _features(*features: dict[str, Any], segments: list[dict[str, Any]] | None = None) -> Any:
    return {"version": 2, "features": list(features), "segments": segments or []}


def _checkout(**fields: Any) -> dict[str, Any]:
    return {"name": "checkout", "type": "release", "enabled": True, **fields}


def _error(document: object) -> SnapshotError:
    with pytest.raises(SnapshotError) as caught:
        state_from_unleash(document)
    return caught.value


# -- malformed documents ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "field", "problem"),
    [
        pytest.param({"name": "checkout"}, "enabled", "is missing", id="missing enabled"),
        pytest.param(
            _checkout(enabled="yes"),
            "enabled",
            "expected true or false, got str",
            id="enabled is the string yes",
        ),
        pytest.param(
            _checkout(strategies="default"),
            "strategies",
            "expected a list, got str",
            id="strategies is a string",
        ),
        pytest.param(
            _checkout(
                strategies=[
                    {"name": "default"},
                    {
                        "name": "default",
                        "constraints": [
                            {"contextName": "plan", "operator": "IN", "values": ["pro"]},
                            {"contextName": "plan", "values": ["pro"]},
                        ],
                    },
                ]
            ),
            "strategies[1].constraints[1].operator",
            "is missing",
            id="constraint without operator",
        ),
        pytest.param(
            _checkout(
                strategies=[
                    {
                        "name": "default",
                        "constraints": [
                            {"contextName": "plan", "operator": "IN", "values": [{"v": "pro"}]}
                        ],
                    }
                ]
            ),
            "strategies[0].constraints[0].values[0]",
            "expected a string, got {'v': 'pro'}",
            id="constraint values hold an object",
        ),
        pytest.param(
            _checkout(variants=[{"name": "a", "weight": 500}, {"name": "b", "weight": "500"}]),
            "variants[1].weight",
            "expected a whole number, got '500'",
            id="variant weight is a string",
        ),
        pytest.param(
            _checkout(strategies=[{"name": "default", "segments": ["1"]}]),
            "strategies[0].segments[0]",
            "expected a segment id (a whole number), got '1'",
            id="segment reference is text",
        ),
    ],
)
def test_state_from_unleash__malformed_feature__names_the_flag_and_the_field(
    feature: dict[str, Any], field: str, problem: str
) -> None:
    error = _error(_features(feature))
    assert error.where == "flag 'checkout'"
    assert error.field == field
    assert str(error) == f"flag 'checkout': {field}: {problem}"


def test_state_from_unleash__feature_without_name__is_named_by_its_position() -> None:
    error = _error(_features(_checkout(), {"enabled": True}))
    assert str(error) == "flag #1: name: is missing"


def test_state_from_unleash__segment_without_id__names_the_segment_by_position() -> None:
    error = _error(_features(_checkout(), segments=[{"constraints": []}]))
    assert (error.where, error.field) == ("segment #0", "id")
    assert str(error) == "segment #0: id: is missing"


def test_state_from_unleash__document_that_is_not_an_object__is_a_snapshot_error() -> None:
    error = _error("features")
    assert str(error) == "unleash state: expected an object, got str"


def test_apply_unleash_events__unknown_event_type__names_the_event() -> None:
    events = [
        {"type": "hydration", "features": [_checkout()], "segments": []},
        {"type": "feature-renamed", "featureName": "checkout"},
    ]
    with pytest.raises(SnapshotError) as caught:
        apply_unleash_events(FlagState(), events)
    error = caught.value
    assert (error.where, error.field) == ("event #1", "type")
    assert str(error) == "event #1: type: unknown delta event type 'feature-renamed'"


def test_apply_unleash_events__malformed_updated_feature__names_the_flag() -> None:
    events = [{"type": "feature-updated", "feature": {"name": "checkout", "enabled": "on"}}]
    with pytest.raises(SnapshotError) as caught:
        apply_unleash_events(FlagState(), events)
    assert str(caught.value) == "flag 'checkout': enabled: expected true or false, got str"


# -- round trip -------------------------------------------------------------------------


def _rich_state() -> FlagState:
    segments = {
        3: Segment(3, "beta", (Constraint("plan", "IN", ("beta",)),)),
        9: Segment(9, None, (Constraint("email", "STR_CONTAINS", ("@corp",), inverted=True),)),
    }
    checkout = Flag(
        name="checkout",
        enabled=True,
        kind="experiment",
        description="new checkout",
        project="web",
        impression_data=True,
        strategies=(
            Strategy(
                "flexibleRollout",
                {"rollout": "40", "stickiness": "sessionId", "groupId": "checkout"},
                constraints=(
                    Constraint("country", "IN", ("NO", "SE"), case_insensitive=True),
                    Constraint("appVersion", "SEMVER_LT", value="3.0.0", inverted=True),
                ),
                segments=(3, 9),
                variants=(
                    VariantDefinition(
                        "a",
                        70,
                        Payload("json", '{"x": 1}'),
                        "sessionId",
                        (Override("userId", ("7",)),),
                    ),
                    VariantDefinition("b", 30, stickiness="sessionId"),
                ),
                title="40% of sessions",
            ),
            Strategy("remoteAddress", {"IPs": "10.0.0.0/8, 192.168.1.1"}, disabled=True),
        ),
        variants=(VariantDefinition("fallback", 1, Payload("string", "f")),),
        dependencies=(Dependency("base"), Dependency("old", enabled=False, variants=())),
    )
    base = Flag("base", enabled=True, strategies=(Strategy("default"),))
    old = Flag("old", enabled=False, kind="operational")
    return FlagState(flags={"checkout": checkout, "base": base, "old": old}, segments=segments)


def test_to_then_from_unleash__rich_state__keeps_flags_and_segments() -> None:
    state = _rich_state()
    again = state_from_unleash(state_to_unleash(state))
    assert again.flags == state.flags
    assert again.segments == state.segments


def test_state_to_unleash__uses_unleash_field_names() -> None:
    document = state_to_unleash(_rich_state())
    assert document["version"] == 2
    assert [f["name"] for f in document["features"]] == ["base", "checkout", "old"]
    assert {f["type"] for f in document["features"]} == {"release", "experiment", "operational"}


# -- delta events -----------------------------------------------------------------------


def _feature(name: str, enabled: bool = True, **fields: Any) -> dict[str, Any]:
    return {"name": name, "enabled": enabled, "strategies": [{"name": "default"}], **fields}


def _segment(segment_id: int, plan: str) -> dict[str, Any]:
    return {
        "id": segment_id,
        "constraints": [{"contextName": "plan", "operator": "IN", "values": [plan]}],
    }


def test_apply_unleash_events__every_event_kind__applies_in_order() -> None:
    # Given a hydration with two flags and two segments
    events = [
        {
            "type": "hydration",
            "features": [_feature("a"), _feature("b")],
            "segments": [_segment(1, "free"), _segment(2, "pro")],
        },
        # When each kind of delta follows
        {"type": "feature-updated", "feature": _feature("a", enabled=False)},
        {"type": "feature-updated", "feature": _feature("c")},
        {"type": "feature-removed", "featureName": "b"},
        {"type": "segment-updated", "segment": _segment(2, "enterprise")},
        {"type": "segment-updated", "segment": _segment(3, "beta")},
        {"type": "segment-removed", "segmentId": 1},
    ]
    state = apply_unleash_events(FlagState(), events)
    # Then the state is the hydration with every change applied
    assert sorted(state.flags) == ["a", "c"]
    assert state.flags["a"].enabled is False
    assert state.flags["c"].enabled is True
    assert sorted(state.segments) == [2, 3]
    assert state.segments[2].constraints == (Constraint("plan", "IN", ("enterprise",)),)
    assert state.segments[3].constraints == (Constraint("plan", "IN", ("beta",)),)


@pytest.mark.parametrize(
    ("events", "flags"),
    [
        pytest.param(
            [
                {"type": "feature-updated", "feature": _feature("x")},
                {"type": "feature-removed", "featureName": "x"},
            ],
            ["keep"],
            id="update then remove leaves it removed",
        ),
        pytest.param(
            [
                {"type": "feature-removed", "featureName": "x"},
                {"type": "feature-updated", "feature": _feature("x")},
            ],
            ["keep", "x"],
            id="remove then update leaves it present",
        ),
        pytest.param(
            [
                {"type": "feature-updated", "feature": _feature("x")},
                {"type": "hydration", "features": [_feature("y")], "segments": []},
            ],
            ["y"],
            id="a later hydration replaces everything before it",
        ),
        pytest.param(
            [{"type": "feature-removed", "featureName": "never-existed"}],
            ["keep"],
            id="removing an unknown flag changes nothing",
        ),
    ],
)
def test_apply_unleash_events__order_decides(events: list[Any], flags: list[str]) -> None:
    start = state_from_unleash(_features(_feature("keep")))
    assert sorted(apply_unleash_events(start, events).flags) == flags


def test_apply_unleash_events__input_state__is_not_mutated() -> None:
    # Given a state and a frozen copy of what it holds
    start = state_from_unleash(_features(_feature("a"), _feature("b"), segments=[_segment(1, "x")]))
    flags_before, segments_before = dict(start.flags), dict(start.segments)
    events = [
        {"type": "feature-updated", "feature": _feature("a", enabled=False)},
        {"type": "feature-removed", "featureName": "b"},
        {"type": "segment-removed", "segmentId": 1},
        {"type": "segment-updated", "segment": _segment(2, "y")},
    ]
    events_before = copy.deepcopy(events)
    # When events are applied
    after = apply_unleash_events(start, events)
    # Then the new state has the changes and the old one, and the events, are as they were
    assert sorted(after.flags) == ["a"]
    assert dict(start.flags) == flags_before
    assert dict(start.segments) == segments_before
    assert events == events_before


def test_state_from_unleash__delta_document__replays_onto_an_empty_state() -> None:
    document = {
        "events": [
            {"type": "hydration", "features": [_feature("a")], "segments": [_segment(4, "p")]},
            {"type": "feature-updated", "feature": _feature("b", enabled=False)},
        ]
    }
    state = state_from_unleash(document)
    assert sorted(state.flags) == ["a", "b"]
    assert sorted(state.segments) == [4]
