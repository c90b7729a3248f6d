"""Shipwise's own snapshot format: malformed documents are refused with the flag (or
segment) and the field named; well-formed states survive a dump and a load unchanged."""

from __future__ import annotations

import json
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
    dump_snapshot,
    load_snapshot,
)


def _snapshot(*flags: dict[str, Any], segments: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {
        "format": "shipwise-snapshot",
        "version": 1,
        "segments": list(segments),
        "flags": list(flags),
    }


def _checkout(**fields: Any) -> dict[str, Any]:
    return {"key": "checkout", "enabled": True, **fields}


def _load_error(document: object) -> SnapshotError:
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(document)
    return caught.value


# -- malformed documents --------------------------------------------------------------

_FLAG_ERRORS = [
    pytest.param(
        {"key": "checkout"},
        "enabled",
        "is missing",
        id="missing enabled",
    ),
    pytest.param(
        _checkout(enabled="yes"),
        "enabled",
        "expected true or false, got str",
        id="enabled is the string yes",
    ),
    pytest.param(
        _checkout(strategies={"name": "default"}),
        "strategies",
        "expected a list, got dict",
        id="strategies is an object, not a list",
    ),
    pytest.param(
        _checkout(
            strategies=[
                {
                    "name": "default",
                    "constraints": [
                        {"contextName": "plan", "operator": "IN", "values": ["pro"]},
                        {"contextName": "country", "values": ["NO"]},
                    ],
                }
            ]
        ),
        "strategies[0].constraints[1].operator",
        "is missing",
        id="second constraint has no operator",
    ),
    pytest.param(
        _checkout(
            strategies=[
                {
                    "name": "default",
                    "constraints": [
                        {"contextName": "plan", "operator": "IN", "values": ["pro", {"a": 1}]}
                    ],
                }
            ]
        ),
        "strategies[0].constraints[0].values[1]",
        "expected a string, got {'a': 1}",
        id="constraint values hold an object",
    ),
    pytest.param(
        _checkout(variants=[{"name": "blue", "weight": "50"}]),
        "variants[0].weight",
        "expected a whole number, got '50'",
        id="flag variant weight is a string",
    ),
    pytest.param(
        _checkout(
            strategies=[
                {
                    "name": "default",
                    "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": "1"}],
                }
            ]
        ),
        "strategies[0].variants[1].weight",
        "expected a whole number, got '1'",
        id="strategy variant weight is a string",
    ),
    pytest.param(
        _checkout(dependencies=[{"enabled": True}]),
        "dependencies[0].feature",
        "is missing",
        id="dependency without a parent feature",
    ),
]


@pytest.mark.parametrize(("flag", "field", "problem"), _FLAG_ERRORS)
def test_load_snapshot__malformed_flag__names_the_flag_and_the_field(
    flag: dict[str, Any], field: str, problem: str
) -> None:
    # Given a snapshot whose only flag, "checkout", has one structural mistake
    # When it is loaded
    error = _load_error(_snapshot(flag))
    # Then the error says which flag, which field and what is wrong
    assert error.where == "flag 'checkout'"
    assert error.field == field
    assert str(error) == f"flag 'checkout': {field}: {problem}"


def test_load_snapshot__constraint_without_operator__reads_as_documented() -> None:
    # The exact message promised in the README and docs/snapshot-format.md.
    flag = _checkout(
        strategies=[
            {
                "name": "default",
                "constraints": [
                    {"contextName": "plan", "operator": "IN", "values": ["pro"]},
                    {"contextName": "country", "values": ["NO"]},
                ],
            }
        ]
    )
    error = _load_error(_snapshot(flag))
    assert str(error) == "flag 'checkout': strategies[0].constraints[1].operator: is missing"


def test_load_snapshot__error_in_second_flag__names_that_flag_not_the_first() -> None:
    error = _load_error(_snapshot(_checkout(), {"key": "search", "enabled": 1}))
    assert (error.where, error.field) == ("flag 'search'", "enabled")


def test_load_snapshot__flag_without_key__is_named_by_its_position() -> None:
    error = _load_error(_snapshot(_checkout(), {"enabled": True}))
    assert (error.where, error.field) == ("flag #1", "key")
    assert "is missing" in str(error)


def test_load_snapshot__duplicate_flag_key__names_the_flag() -> None:
    error = _load_error(_snapshot(_checkout(), _checkout(enabled=False)))
    assert (error.where, error.field) == ("flag 'checkout'", "key")
    assert str(error) == "flag 'checkout': key: appears twice in the snapshot"


def test_load_snapshot__segment_without_id__names_the_segment_by_position() -> None:
    segments = ({"id": 1, "constraints": []}, {"name": "beta-testers", "constraints": []})
    error = _load_error(_snapshot(_checkout(), segments=segments))
    assert (error.where, error.field) == ("segment #1", "id")
    assert str(error) == "segment #1: id: is missing"


def test_load_snapshot__bad_constraint_in_segment__names_the_segment_by_id() -> None:
    segments = ({"id": 7, "constraints": [{"contextName": "plan", "values": ["beta"]}]},)
    error = _load_error(_snapshot(_checkout(), segments=segments))
    assert (error.where, error.field) == ("segment 7", "constraints[0].operator")


@pytest.mark.parametrize(
    ("envelope", "field", "problem"),
    [
        pytest.param(
            {"format": "unleash-features", "version": 1},
            "format",
            "expected 'shipwise-snapshot', got 'unleash-features'",
            id="unknown format",
        ),
        pytest.param({"version": 1}, "format", "is missing", id="no format"),
        pytest.param(
            {"format": "shipwise-snapshot", "version": 2},
            "version",
            "this Shipwise reads version 1, got 2",
            id="a future version",
        ),
        pytest.param(
            {"format": "shipwise-snapshot", "version": "1"},
            "version",
            "expected a whole number, got '1'",
            id="version as text",
        ),
        pytest.param(
            {"format": "shipwise-snapshot", "version": 1, "flags": {"checkout": {}}},
            "flags",
            "expected a list, got dict",
            id="flags is an object",
        ),
    ],
)
def test_load_snapshot__bad_envelope__names_the_envelope_field(
    envelope: dict[str, Any], field: str, problem: str
) -> None:
    error = _load_error(envelope)
    assert (error.where, error.field) == ("snapshot", field)
    assert str(error) == f"snapshot: {field}: {problem}"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"format": "shipwise-snapshot", "version": 1,', id="truncated"),
        pytest.param("", id="empty"),
        pytest.param(b"\xff\xfe{", id="bytes that are not JSON"),
    ],
)
def test_load_snapshot__invalid_json_text__is_a_snapshot_error(text: str | bytes) -> None:
    error = _load_error(text)
    assert error.where == "snapshot"
    assert error.field == ""
    assert str(error).startswith("snapshot: is not valid JSON")


def test_load_snapshot__document_that_is_not_an_object__is_a_snapshot_error() -> None:
    error = _load_error([_checkout()])
    assert str(error) == "snapshot: expected an object, got list"


def test_snapshot_error__is_a_value_error() -> None:
    # Callers catching ValueError around json.loads keep working.
    assert issubclass(SnapshotError, ValueError)


# -- what loads -----------------------------------------------------------------------


def test_load_snapshot__numeric_revision__is_read_as_text() -> None:
    # The docs allow "string or number" for the opaque revision.
    document = {**_snapshot(_checkout()), "revision": 42, "environment": "production"}
    state = load_snapshot(document)
    assert (state.revision, state.environment) == ("42", "production")


def test_load_snapshot__flag_defaults__fill_in_optional_fields() -> None:
    state = load_snapshot(_snapshot(_checkout()))
    assert state.flags == {"checkout": Flag(name="checkout", enabled=True, kind="release")}


# -- round trip -------------------------------------------------------------------------


def _rich_state() -> FlagState:
    beta = Segment(
        id=1,
        name="beta-testers",
        constraints=(Constraint("plan", "IN", ("beta", "internal")),),
    )
    nordics = Segment(
        id=12,
        constraints=(
            Constraint("country", "IN", ("no", "se", "dk"), case_insensitive=True),
            Constraint("email", "STR_ENDS_WITH", ("@example.com",), inverted=True),
        ),
    )
    rollout = Strategy(
        name="flexibleRollout",
        parameters={"rollout": "25", "stickiness": "tenantId", "groupId": "checkout-v2"},
        constraints=(
            Constraint("appVersion", "SEMVER_GTE", value="2.4.0"),
            Constraint("currentTime", "DATE_BEFORE", value="2030-01-01T00:00:00+00:00"),
            Constraint("region", "NOT_IN", ("cn",), inverted=True, case_insensitive=True),
        ),
        segments=(1, 12),
        variants=(
            VariantDefinition(
                "one-page",
                600,
                payload=Payload("json", '{"steps": 1}'),
                stickiness="tenantId",
            ),
            VariantDefinition(
                "two-step",
                400,
                payload=Payload("string", "two"),
                stickiness="tenantId",
                overrides=(Override("userId", ("42", "43")),),
            ),
        ),
        title="a quarter of tenants",
    )
    checkout = Flag(
        name="checkout",
        enabled=True,
        strategies=(
            Strategy("default", segments=(1,), title="beta testers"),
            rollout,
            Strategy("userWithId", {"userIds": "alice,bob"}, disabled=True),
            Strategy("gradualRolloutRandom", {"percentage": 5}),
        ),
        variants=(
            VariantDefinition("blue", 1, overrides=(Override("plan", ("enterprise",)),)),
            VariantDefinition("green", 3, payload=Payload("number", "7")),
        ),
        dependencies=(
            Dependency("payments"),
            Dependency("legacy-checkout", enabled=False),
            Dependency("theme", variants=("dark", "high-contrast")),
        ),
        kind="experiment",
        description="the new checkout",
        project="web",
        impression_data=True,
    )
    return FlagState(
        flags={
            "checkout": checkout,
            "payments": Flag("payments", enabled=False, kind="kill-switch"),
            "legacy-checkout": Flag("legacy-checkout", enabled=True),
            "theme": Flag(
                "theme",
                enabled=True,
                strategies=(Strategy("default"),),
                variants=(VariantDefinition("dark", 50), VariantDefinition("high-contrast", 0)),
            ),
        },
        segments={1: beta, 12: nordics},
        revision="1234",
        environment="production",
    )


def test_dump_then_load__rich_state__is_unchanged() -> None:
    state = _rich_state()
    assert load_snapshot(dump_snapshot(state)) == state


def test_dump_then_load__through_json_text__is_unchanged() -> None:
    # What an SDK caching the snapshot on disk does.
    state = _rich_state()
    assert load_snapshot(json.dumps(dump_snapshot(state))) == state


def test_dump_snapshot__is_canonical__flags_by_key_and_segments_by_id() -> None:
    document = dump_snapshot(_rich_state())
    assert [flag["key"] for flag in document["flags"]] == [
        "checkout",
        "legacy-checkout",
        "payments",
        "theme",
    ]
    assert [segment["id"] for segment in document["segments"]] == [1, 12]
    assert (document["format"], document["version"]) == ("shipwise-snapshot", 1)


def test_dump_snapshot__empty_state__loads_back_empty() -> None:
    assert load_snapshot(dump_snapshot(FlagState())) == FlagState()
