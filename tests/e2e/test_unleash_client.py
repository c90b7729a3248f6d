"""The real UnleashClient (Unleash's Python SDK, with its Rust engine) against a real
Shipwise server: it registers, polls or streams the flags, answers exactly as Shipwise's
own SDK and engine do, sends its metrics, and sees a change after its next poll."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.flag_shapes import ENVIRONMENT, PROJECT, Seeded, contexts, seeded_server
from tests.support.server import RunningServer
from UnleashClient import UnleashClient
from UnleashClient.utils import InstanceAllowType

from shipwise.sdk import Client
from shipwise.server.services.principal import SYSTEM

CHANGE_TIMEOUT_S = 15.0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Seeded]]:
    with seeded_server(tmp_path_factory.mktemp("unleash-client")) as pair:
        yield pair


@pytest.fixture
def unleash(
    world: tuple[RunningServer, Seeded], tmp_path: Path
) -> Iterator[Callable[..., UnleashClient]]:
    """Starts UnleashClients against the server, polling every second with metrics every
    second; destroys them (which sends their last metrics) at the end of the test."""
    server, seeded = world
    started: list[UnleashClient] = []

    def start(**options: Any) -> UnleashClient:
        client = UnleashClient(
            url=f"{server.url}/api",
            app_name="shipwise-e2e",
            instance_id=f"e2e-{uuid.uuid4().hex[:8]}",
            refresh_interval=1,
            metrics_interval=1,
            disable_metrics=False,
            disable_registration=False,
            custom_headers={"Authorization": seeded.server_key},
            cache_directory=str(tmp_path / f"unleash-cache-{len(started)}"),
            multiple_instance_mode=InstanceAllowType.SILENTLY_ALLOW,
            **options,
        )
        started.append(client)
        client.initialize_client()
        return client

    yield start
    for client in started:
        client.destroy()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CHANGE_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {CHANGE_TIMEOUT_S:.0f} s: {what}")
        time.sleep(0.05)


def test_unleash_client__many_contexts__answers_equal_shipwise_sdk_and_engine_and_metrics_arrive(
    world: tuple[RunningServer, Seeded],
    unleash: Callable[..., UnleashClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="UnleashClient")
    # Given a server with flags of every shape, and Shipwise's SDK over its Unleash document
    server, seeded = world
    engine = server.services.snapshots.current(seeded.environment_id).engine
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        document = http.get("/api/client/features", headers={"Authorization": seeded.server_key})
    shipwise = Client.from_unleash(document.json())
    before = server.services.metrics.totals(seeded.environment_id)
    client = unleash()
    assert client.is_initialized
    assert "Unleash Client successfully registered!" in caplog.messages
    assert set(client.feature_definitions()) == set(seeded.keys)

    # When the UnleashClient evaluates every flag for many contexts
    yes: Counter[str] = Counter()
    no: Counter[str] = Counter()
    variants: Counter[tuple[str, str]] = Counter()
    for context in contexts(150):
        for key in seeded.keys:
            enabled = client.is_enabled(key, context)
            variant = client.get_variant(key, context)

            # Then it agrees with Shipwise's SDK and with the server's engine
            assert enabled == shipwise.is_enabled(key, context) == engine.is_enabled(key, context)
            assert variant == shipwise.get_variant(key, context).to_dict(), (key, context)
            assert variant == engine.variant(key, context).to_dict(), (key, context)
            for answer in (enabled, variant["feature_enabled"]):
                (yes if answer else no)[key] += 1
            variants[key, variant["name"]] += 1

    # And its metrics reach the server: every evaluation, counted as the SDK counted it
    client.destroy()  # sends what is left
    assert "Unleash Client metrics successfully sent!" in caplog.messages
    totals = server.services.metrics.totals(seeded.environment_id)
    for key in seeded.keys:
        earlier = before.get(key)
        base_yes, base_no = (earlier.yes, earlier.no) if earlier else (0, 0)
        assert (totals[key].yes - base_yes, totals[key].no - base_no) == (yes[key], no[key]), key
        base_variants = Counter(earlier.variants) if earlier else Counter()
        sent = Counter(totals[key].variants) - base_variants
        assert sent == Counter({name: n for (k, name), n in variants.items() if k == key}), key


def test_unleash_client__flag_switched_on__seen_after_the_next_poll(
    world: tuple[RunningServer, Seeded], unleash: Callable[..., UnleashClient]
) -> None:
    server, _seeded = world
    client = unleash()
    assert client.is_enabled("off") is False

    server.services.flags.set_enabled(SYSTEM, PROJECT, "off", ENVIRONMENT, True)
    try:
        wait_for(lambda: client.is_enabled("off"), "the UnleashClient sees 'off' switched on")
    finally:
        server.services.flags.set_enabled(SYSTEM, PROJECT, "off", ENVIRONMENT, False)
    wait_for(lambda: not client.is_enabled("off"), "the UnleashClient sees 'off' switched off")


def test_unleash_client__streaming_mode__hydrated_then_updated_on_change(
    world: tuple[RunningServer, Seeded], unleash: Callable[..., UnleashClient]
) -> None:
    server, _seeded = world
    client = unleash(experimental_mode={"type": "streaming"})
    wait_for(lambda: client.is_enabled("on"), "the stream hydrates the UnleashClient")
    assert client.is_enabled("beta-plan", {"properties": {"plan": "beta"}}) is True

    server.services.flags.set_enabled(SYSTEM, PROJECT, "beta-plan", ENVIRONMENT, False)
    try:
        wait_for(
            lambda: not client.is_enabled("beta-plan", {"properties": {"plan": "beta"}}),
            "the stream delivers 'beta-plan' switched off",
        )
    finally:
        server.services.flags.set_enabled(SYSTEM, PROJECT, "beta-plan", ENVIRONMENT, True)
