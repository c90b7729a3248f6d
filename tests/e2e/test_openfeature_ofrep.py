"""The real OpenFeature Python SDK with the real OFREP provider (openfeature-provider-ofrep)
against a real Shipwise server: boolean, string, number and object flags come back with
the values, variants and reasons the server's engine decides, and what cannot be
evaluated gives the code default with the reason and error code OpenFeature defines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails, Reason
from tests.support.flag_shapes import Seeded, contexts, seeded_server
from tests.support.server import RunningServer

from shipwise.engine import Explanation, Snapshot, VariantSource
from shipwise.engine import Reason as EngineReason

DOMAIN = "shipwise-e2e"
BOOLEAN_FLAGS = (
    "on",
    "off",
    "rollout-25",
    "beta-plan",
    "beta-or-25",
    "beta-segment",
    "allow-list",
    "office-network",
    "needs-beta",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Seeded]]:
    with seeded_server(tmp_path_factory.mktemp("ofrep-e2e")) as pair:
        yield pair


@pytest.fixture(scope="module")
def openfeature(world: tuple[RunningServer, Seeded]) -> Iterator[OpenFeatureClient]:
    server, seeded = world
    provider = OFREPProvider(
        server.url, headers_factory=lambda: {"Authorization": f"Bearer {seeded.server_key}"}
    )
    api.set_provider(provider, domain=DOMAIN)
    try:
        yield api.get_client(domain=DOMAIN)
    finally:
        api.clear_providers()


@pytest.fixture(scope="module")
def engine(world: tuple[RunningServer, Seeded]) -> Snapshot:
    server, seeded = world
    return server.services.snapshots.current(seeded.environment_id).engine


def of_context(context: dict[str, Any]) -> EvaluationContext:
    attributes = {k: v for k, v in context.items() if k not in {"userId", "properties"}}
    attributes.update(context.get("properties", {}))
    return EvaluationContext(context["userId"], attributes)


def expected_reason(engine: Snapshot, explanation: Explanation) -> Reason:
    """OpenFeature's reason for what the engine says, derived here independently."""
    if explanation.reason is EngineReason.FLAG_OFF:
        return Reason.DISABLED
    if not explanation.enabled:
        return Reason.DEFAULT
    if explanation.variant_source is VariantSource.OVERRIDE:
        return Reason.TARGETING_MATCH
    if explanation.variant_source is not VariantSource.NONE:
        return Reason.SPLIT
    if explanation.strategy is None:
        return Reason.STATIC
    strategy = engine.state.flags[explanation.flag].strategies[explanation.strategy]
    rollout = strategy.name == "flexibleRollout" and int(str(strategy.parameters["rollout"])) < 100
    return Reason.SPLIT if rollout else Reason.TARGETING_MATCH


def check(details: FlagEvaluationDetails[Any], explanation: Explanation, engine: Snapshot) -> None:
    assert details.error_code is None, details
    assert details.variant == explanation.variant.name, details
    assert details.reason == expected_reason(engine, explanation), (details, explanation)


def test_boolean_flags__many_contexts__values_variants_reasons_as_the_engine_decides(
    openfeature: OpenFeatureClient, engine: Snapshot
) -> None:
    for context in contexts(60):
        for key in BOOLEAN_FLAGS:
            explanation = engine.explain(key, context)
            # the default is the opposite answer, so a default cannot pass for the value
            default = not explanation.enabled
            details = openfeature.get_boolean_details(key, default, of_context(context))

            assert details.value is explanation.enabled, (key, context)
            check(details, explanation, engine)
            assert details.flag_metadata["engineReason"] == explanation.reason.value


def test_variant_flags__typed_values__the_chosen_variants_payload(
    openfeature: OpenFeatureClient, engine: Snapshot
) -> None:
    payloads = {
        "banner-text": {"a": "Welcome!", "b": "Hello there"},
        "greeting": {"hello": "hello", "hi": "hi"},
        "theme": {"light": {"background": "#fff"}, "dark": {"bg": 0}},
        "max-items": {"small": 10, "large": 2.5},
    }
    seen: set[tuple[str, str]] = set()
    for context in contexts(60):
        ctx = of_context(context)
        for key, by_variant in payloads.items():
            explanation = engine.explain(key, context)
            variant = explanation.variant.name
            if key == "theme":
                details: FlagEvaluationDetails[Any] = openfeature.get_object_details(key, {}, ctx)
            elif key == "max-items" and variant == "large":
                details = openfeature.get_float_details(key, -1.0, ctx)
            elif key == "max-items":
                details = openfeature.get_integer_details(key, -1, ctx)
            else:
                details = openfeature.get_string_details(key, "default", ctx)

            check(details, explanation, engine)
            if explanation.variant.enabled:
                assert details.value == by_variant[variant], (key, context)
                seen.add((key, variant))
            else:  # not on for this context: the code default
                assert details.value in ({}, -1, "default"), (key, context)
    assert ("theme", "dark") in seen  # the override for "pinned"
    assert {v for k, v in seen if k == "max-items"} == {"small", "large"}


def test_unknown_flag__code_default_with_flag_not_found(openfeature: OpenFeatureClient) -> None:
    details = openfeature.get_boolean_details("no-such-flag", True, EvaluationContext("u1"))

    assert details.value is True
    assert details.reason == Reason.ERROR
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND


def test_variant_flag_switched_off__code_default_reason_disabled(
    openfeature: OpenFeatureClient,
) -> None:
    details = openfeature.get_string_details("dark-launch", "fallback", EvaluationContext("u1"))

    assert (details.value, details.reason, details.error_code) == ("fallback", "DISABLED", None)


def test_payload_that_does_not_parse__code_default_reason_error(
    openfeature: OpenFeatureClient,
) -> None:
    details = openfeature.get_object_details("bad-payload", {"safe": True}, EvaluationContext("u"))

    assert details.value == {"safe": True}
    assert details.reason == Reason.ERROR


def test_boolean_flag_asked_as_string__code_default_with_type_mismatch(
    openfeature: OpenFeatureClient,
) -> None:
    details = openfeature.get_string_details("on", "fallback", EvaluationContext("u1"))

    assert details.value == "fallback"
    assert details.error_code == ErrorCode.TYPE_MISMATCH
