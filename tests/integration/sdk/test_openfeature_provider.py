"""``ShipwiseProvider`` under the real OpenFeature SDK: values, variants, reasons and
error codes from the engine's explanation; evaluation contexts as Shipwise contexts;
exposures counted once; readiness and change events from a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus
from tests.support.server import RunningServer, free_port, running_server

from shipwise import Client, FlagExposure, Snapshot
from shipwise.engine import FlagState
from shipwise.sdk.openfeature import ShipwiseProvider, changed_flags, shipwise_context
from shipwise.server.services.principal import SYSTEM

DOMAIN = "shipwise-tests"


def _payload(name: str, kind: str, value: str, weight: int = 1000) -> dict[str, Any]:
    return {"name": name, "weight": weight, "payload": {"type": kind, "value": value}}


def _flags() -> list[dict[str, Any]]:
    on = [{"name": "default"}]
    return [
        {"key": "everyone", "enabled": True},
        {"key": "off", "enabled": False, "strategies": on},
        {
            "key": "pro-only",
            "enabled": True,
            "strategies": [
                {
                    "name": "default",
                    "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro"]}],
                }
            ],
        },
        {
            "key": "allow-list",
            "enabled": True,
            "strategies": [{"name": "userWithId", "parameters": {"userIds": "42"}}],
        },
        {
            "key": "greeting",
            "enabled": True,
            "strategies": on,
            "variants": [_payload("hi", "string", "Hello")],
        },
        {
            "key": "colour",
            "enabled": True,
            "strategies": on,
            "variants": [{"name": "blue", "weight": 1000}],
        },
        {
            "key": "limit",
            "enabled": True,
            "strategies": on,
            "variants": [_payload("ten", "number", "10")],
        },
        {
            "key": "ratio",
            "enabled": True,
            "strategies": on,
            "variants": [_payload("q", "number", "0.25")],
        },
        {
            "key": "theme",
            "enabled": True,
            "strategies": on,
            "variants": [_payload("dark", "json", '{"background": "black", "sizes": [1, 2]}')],
        },
        {
            "key": "broken-json",
            "enabled": True,
            "strategies": on,
            "variants": [_payload("x", "json", "{nope")],
        },
        {"key": "no-variants", "enabled": True, "strategies": on},
        {
            "key": "off-with-variants",
            "enabled": False,
            "variants": [_payload("hi", "string", "Hi")],
        },
        {
            "key": "pinned",
            "enabled": True,
            "strategies": on,
            "variants": [
                {
                    "name": "beta",
                    "weight": 0,
                    "payload": {"type": "string", "value": "b"},
                    "overrides": [{"contextName": "userId", "values": ["7"]}],
                },
                _payload("stable", "string", "s"),
            ],
        },
    ]


@pytest.fixture
def shipwise_client() -> Client:
    return Client.offline({"format": "shipwise-snapshot", "version": 1, "flags": _flags()})


@pytest.fixture
def openfeature(shipwise_client: Client) -> Iterator[OpenFeatureClient]:
    api.set_provider_and_wait(ShipwiseProvider(shipwise_client), domain=DOMAIN)
    yield api.get_client(DOMAIN)
    api.clear_providers()


# -- booleans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "context", "value", "reason"),
    [
        pytest.param("everyone", None, True, Reason.STATIC, id="no strategies: static"),
        pytest.param("off", None, False, Reason.DISABLED, id="off: disabled"),
        pytest.param(
            "pro-only",
            EvaluationContext(attributes={"plan": "pro"}),
            True,
            Reason.TARGETING_MATCH,
            id="constraint matched: targeting match",
        ),
        pytest.param(
            "pro-only",
            EvaluationContext(attributes={"plan": "free"}),
            False,
            Reason.DEFAULT,
            id="nothing matched: default",
        ),
        pytest.param(
            "allow-list",
            EvaluationContext(targeting_key="42"),
            True,
            Reason.TARGETING_MATCH,
            id="targeting key is userId",
        ),
        pytest.param(
            "allow-list",
            EvaluationContext(targeting_key="43"),
            False,
            Reason.DEFAULT,
            id="other user",
        ),
    ],
)
def test_boolean__value_and_reason_come_from_the_engine(
    openfeature: OpenFeatureClient,
    flag: str,
    context: EvaluationContext | None,
    value: bool,
    reason: Reason,
) -> None:
    details = openfeature.get_boolean_details(flag, not value, context)
    assert (details.value, details.reason, details.error_code) == (value, reason, None)
    assert "shipwiseReason" in details.flag_metadata


def test_boolean__unknown_flag__gives_the_default_with_flag_not_found(
    openfeature: OpenFeatureClient,
) -> None:
    details = openfeature.get_boolean_details("no-such-flag", True)
    assert (details.value, details.reason, details.error_code) == (
        True,
        Reason.ERROR,
        ErrorCode.FLAG_NOT_FOUND,
    )
    assert details.error_message is not None
    assert "no-such-flag" in details.error_message


def test_boolean__agrees_with_is_enabled_for_many_users(
    openfeature: OpenFeatureClient, shipwise_client: Client
) -> None:
    for user in range(200):
        plan = "pro" if user % 3 == 0 else "free"
        context = EvaluationContext(targeting_key=str(user), attributes={"plan": plan})
        expected = shipwise_client.is_enabled("pro-only", {"userId": str(user), "plan": plan})
        assert openfeature.get_boolean_value("pro-only", False, context) is expected


# -- typed values from variant payloads -------------------------------------------------


def test_string__payload__is_the_value_with_the_variant_name(
    openfeature: OpenFeatureClient,
) -> None:
    details = openfeature.get_string_details("greeting", "default")
    assert (details.value, details.variant, details.reason) == ("Hello", "hi", Reason.SPLIT)


def test_string__variant_without_payload__is_the_variant_name(
    openfeature: OpenFeatureClient,
) -> None:
    assert openfeature.get_string_value("colour", "default") == "blue"


def test_string__override__is_a_targeting_match(openfeature: OpenFeatureClient) -> None:
    pinned = openfeature.get_string_details("pinned", "d", EvaluationContext(targeting_key="7"))
    other = openfeature.get_string_details("pinned", "d", EvaluationContext(targeting_key="8"))
    assert (pinned.value, pinned.variant, pinned.reason) == ("b", "beta", Reason.TARGETING_MATCH)
    assert (other.value, other.variant, other.reason) == ("s", "stable", Reason.SPLIT)


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        pytest.param("off-with-variants", Reason.DISABLED, id="flag off"),
        pytest.param("no-variants", Reason.DEFAULT, id="flag on without variants"),
    ],
)
def test_string__no_variant_served__gives_the_default(
    openfeature: OpenFeatureClient, flag: str, reason: Reason
) -> None:
    details = openfeature.get_string_details(flag, "fallback")
    assert (details.value, details.reason, details.error_code) == ("fallback", reason, None)


def test_integer_and_float__number_payloads(openfeature: OpenFeatureClient) -> None:
    assert openfeature.get_integer_value("limit", 0) == 10
    assert openfeature.get_float_value("ratio", 0.0) == 0.25
    assert openfeature.get_float_value("limit", 0.0) == 10.0


@pytest.mark.parametrize(
    ("resolve", "flag", "default"),
    [
        pytest.param("get_integer_details", "ratio", 1, id="integer from 0.25"),
        pytest.param("get_integer_details", "greeting", 1, id="integer from text"),
        pytest.param("get_float_details", "greeting", 1.5, id="float from text"),
        pytest.param("get_integer_details", "colour", 1, id="integer without payload"),
        pytest.param("get_object_details", "limit", {"a": 1}, id="object from a number"),
    ],
)
def test_typed__payload_of_another_type__gives_the_default_with_type_mismatch(
    openfeature: OpenFeatureClient, resolve: str, flag: str, default: Any
) -> None:
    details = getattr(openfeature, resolve)(flag, default)
    assert (details.value, details.reason, details.error_code) == (
        default,
        Reason.ERROR,
        ErrorCode.TYPE_MISMATCH,
    )
    assert flag in details.error_message


def test_object__json_payload__is_the_parsed_object(openfeature: OpenFeatureClient) -> None:
    details = openfeature.get_object_details("theme", {})
    assert details.value == {"background": "black", "sizes": [1, 2]}
    assert details.variant == "dark"


def test_object__payload_that_is_not_json__gives_the_default_with_parse_error(
    openfeature: OpenFeatureClient,
) -> None:
    details = openfeature.get_object_details("broken-json", {"safe": True})
    assert (details.value, details.error_code) == ({"safe": True}, ErrorCode.PARSE_ERROR)


# -- contexts and exposures -------------------------------------------------------------


def test_context__targeting_key_standard_fields_and_properties() -> None:
    context = EvaluationContext(
        targeting_key="42",
        attributes={"sessionId": "s-1", "plan": "pro", "seats": 5, "tags": ["a", "b"]},
    )
    assert shipwise_context(context) == {
        "userId": "42",
        "sessionId": "s-1",
        "properties": {"plan": "pro", "seats": 5, "tags": '["a","b"]'},
    }
    assert shipwise_context(None) == {}


def test_exposures__each_resolution_counts_once_like_the_client_methods(
    openfeature: OpenFeatureClient, shipwise_client: Client
) -> None:
    openfeature.get_boolean_value("everyone", False)
    openfeature.get_boolean_value("off", True)
    openfeature.get_string_value("greeting", "x")
    openfeature.get_string_value("greeting", "x")
    exposures = shipwise_client.exposures()
    assert exposures["everyone"] == FlagExposure(yes=1, no=0)
    assert exposures["off"] == FlagExposure(yes=0, no=1)
    assert exposures["greeting"] == FlagExposure(yes=2, no=0, variants={"hi": 2})


def _state(flags: list[dict[str, Any]], segments: list[dict[str, Any]]) -> FlagState:
    return Snapshot.load(
        {"format": "shipwise-snapshot", "version": 1, "flags": flags, "segments": segments}
    ).state


def test_changed_flags__names_changed_removed_segment_users_and_dependents() -> None:
    def plans(*values: str) -> list[dict[str, Any]]:
        constraint = {"contextName": "plan", "operator": "IN", "values": list(values)}
        return [{"id": 1, "constraints": [constraint]}]

    beta, wider = plans("b"), plans("b", "c")
    uses_segment = {
        "key": "seg",
        "enabled": True,
        "strategies": [{"name": "default", "segments": [1]}],
    }
    flags = [
        {"key": "same", "enabled": True},
        {"key": "toggled", "enabled": False},
        {"key": "child", "enabled": True, "dependencies": [{"feature": "toggled"}]},
        {"key": "grandchild", "enabled": True, "dependencies": [{"feature": "child"}]},
        {"key": "removed", "enabled": True},
        uses_segment,
    ]
    later = [dict(f) for f in flags if f["key"] != "removed"]
    later[1]["enabled"] = True
    assert changed_flags(_state(flags, beta), _state(later, wider)) == [
        "child",
        "grandchild",
        "removed",
        "seg",
        "toggled",
    ]
    assert changed_flags(_state(flags, beta), _state(flags, beta)) == []


# -- over a real server -----------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path / "server") as running:
        yield running


def test_real_server__ready_values_change_events_and_shutdown_flush(server: RunningServer) -> None:
    # Given a provider over an online client of a real server
    server.services.flags.create(SYSTEM, "default", "checkout")
    key = server.services.tokens.create(
        SYSTEM, name="sdk", kind="server", project_key="default", environment_key="staging"
    ).secret
    provider = ShipwiseProvider(Client(server.url, key, metrics_interval=3600))
    changed: list[EventDetails] = []
    arrived = threading.Event()

    def on_change(details: EventDetails) -> None:
        changed.append(details)
        arrived.set()

    try:
        api.set_provider_and_wait(provider, domain=DOMAIN)
        openfeature = api.get_client(DOMAIN)
        openfeature.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_change)
        assert openfeature.get_provider_status() is ProviderStatus.READY
        assert openfeature.get_boolean_value("checkout", True) is False

        # When the flag is switched on through the services (in staging: not protected)
        server.services.flags.set_enabled(SYSTEM, "default", "checkout", "staging", True)

        # Then the provider announces the change, naming the flag, and serves the new value
        assert arrived.wait(2)
        assert changed[0].flags_changed == ["checkout"]
        assert openfeature.get_boolean_value("checkout", False) is True
    finally:
        api.clear_providers()  # shuts the provider down, which closes the client

    # And shutting down sent the exposures
    environment_id = server.services.projects.environment(SYSTEM, "default", "staging").id
    checkout = server.services.metrics.totals(environment_id)["checkout"]
    assert (checkout.yes, checkout.no) == (1, 1)


def test_no_server_no_cache__initialize_reports_not_ready__evaluations_give_defaults() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "sw_srv_test", timeout=1)
    provider = ShipwiseProvider(client, ready_timeout=0.2)
    try:
        with pytest.raises(ProviderNotReadyError):
            api.set_provider_and_wait(provider, domain=DOMAIN)
        openfeature = api.get_client(DOMAIN)
        assert openfeature.get_provider_status() is ProviderStatus.ERROR
        details = openfeature.get_boolean_details("checkout", True)
        assert (details.value, details.error_code) == (True, ErrorCode.PROVIDER_NOT_READY)
    finally:
        api.clear_providers()
