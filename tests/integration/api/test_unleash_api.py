"""The Unleash client API over HTTP: the features document with ETags, its filters, the
delta and streaming forms, registration and metrics, and which keys may call it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.flag_shapes import ENVIRONMENT, PROJECT, Seeded, seeded_server
from tests.support.server import RunningServer, running_server

from shipwise.engine import Snapshot
from shipwise.server.services.principal import SYSTEM

FEATURES = "/api/client/features"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Seeded]]:
    with seeded_server(tmp_path_factory.mktemp("unleash")) as pair:
        yield pair


@pytest.fixture
def http(world: tuple[RunningServer, Seeded]) -> Iterator[httpx.Client]:
    server, seeded = world
    headers = {"Authorization": seeded.server_key}  # Unleash's bare form
    with httpx.Client(base_url=server.url, headers=headers, timeout=10, trust_env=False) as client:
        yield client


def test_features__server_key__the_published_unleash_document(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    server, seeded = world
    response = http.get(FEATURES, headers={"UNLEASH-APPNAME": "app", "UNLEASH-INSTANCEID": "i1"})

    published = server.services.snapshots.current(seeded.environment_id)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == published.unleash_document
    assert response.headers["ETag"] == published.etag
    document = response.json()
    assert document["version"] == 2
    assert {f["name"] for f in document["features"]} == set(seeded.keys)
    assert [s["name"] for s in document["segments"]] == ["beta-countries"]


def test_features__if_none_match__304_until_a_flag_changes(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    server, _seeded = world
    etag = http.get(FEATURES).headers["ETag"]

    unchanged = http.get(FEATURES, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")

    server.services.flags.set_enabled(SYSTEM, PROJECT, "off", ENVIRONMENT, True)
    try:
        changed = http.get(FEATURES, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["ETag"] != etag
        assert {f["name"]: f["enabled"] for f in changed.json()["features"]}["off"] is True
    finally:
        server.services.flags.set_enabled(SYSTEM, PROJECT, "off", ENVIRONMENT, False)


def test_features__project_and_name_prefix__filter_as_unleash_does(http: httpx.Client) -> None:
    def names(**params: str) -> set[str]:
        response = http.get(FEATURES, params=params)
        assert response.status_code == 200
        return {f["name"] for f in response.json()["features"]}

    assert names(namePrefix="beta-") == {"beta-plan", "beta-or-25", "beta-segment"}
    assert names(project=PROJECT, namePrefix="of") == {"off", "office-network"}
    assert names(project="another-project") == set()
    filtered = http.get(FEATURES, params={"namePrefix": "beta-"}).headers["ETag"]
    assert filtered != http.get(FEATURES).headers["ETag"]


def test_feature__by_name__one_flag_or_404(http: httpx.Client) -> None:
    found = http.get(f"{FEATURES}/beta-plan")
    missing = http.get(f"{FEATURES}/no-such-flag")

    assert found.status_code == 200
    assert found.json()["name"] == "beta-plan"
    assert found.json()["strategies"][0]["constraints"][0]["contextName"] == "plan"
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-key"),
        pytest.param({"Authorization": "sw_srv_not-a-key"}, 401, id="unknown-key"),
        pytest.param({"Authorization": "frontend"}, 403, id="frontend-key"),
        pytest.param({"Authorization": "admin"}, 403, id="admin-token"),
        pytest.param({"Authorization": "Bearer server"}, 200, id="bearer-server-key"),
    ],
)
def test_features__keys__only_server_keys(
    world: tuple[RunningServer, Seeded], headers: dict[str, str], status: int
) -> None:
    server, seeded = world
    secrets = {"server": seeded.server_key, "frontend": seeded.frontend_key}
    secrets["admin"] = server.admin_token
    resolved = {k: " ".join(secrets.get(p, p) for p in v.split(" ")) for k, v in headers.items()}
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        assert http.get(FEATURES, headers=resolved).status_code == status


def test_delta__hydration_event__same_state_as_the_features_document(
    http: httpx.Client,
) -> None:
    features = http.get(FEATURES)
    delta = http.get("/api/client/delta")

    assert delta.status_code == 200
    [event] = delta.json()["events"]
    assert event["type"] == "hydration"
    assert Snapshot.from_unleash(delta.json()).to_unleash() == features.json()
    not_modified = http.get("/api/client/delta", headers={"If-None-Match": delta.headers["ETag"]})
    assert not_modified.status_code == 304


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, data) of each server-sent event; comments are skipped."""
    name, data = "", ""
    for line in lines:
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "", ""


def test_streaming__connected_then_updated_on_every_change(
    world: tuple[RunningServer, Seeded],
) -> None:
    server, seeded = world
    headers = {"Authorization": seeded.server_key, "Accept": "text/event-stream"}
    with (
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
        http.stream("GET", "/api/client/streaming", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        events = _events(stream.iter_lines())
        name, connected = next(events)
        assert name == "unleash-connected"
        assert connected["events"][0]["type"] == "hydration"

        server.services.flags.set_enabled(SYSTEM, PROJECT, "dark-launch", ENVIRONMENT, True)
        try:
            name, updated = next(events)
        finally:
            server.services.flags.set_enabled(SYSTEM, PROJECT, "dark-launch", ENVIRONMENT, False)
        assert name == "unleash-updated"
        assert Snapshot.from_unleash(updated).state.flags["dark-launch"].enabled is True


def test_register__client_registration__accepted(http: httpx.Client) -> None:
    body = {
        "appName": "checkout",
        "instanceId": "pod-1",
        "sdkVersion": "unleash-python-sdk:6.9.1",
        "strategies": ["default", "flexibleRollout"],
        "started": "2026-01-01T00:00:00Z",
        "interval": 15000,
    }

    assert http.post("/api/client/register", json=body).status_code == 202
    assert http.post("/api/client/register", json={"strategies": []}).status_code == 422


def test_metrics__unleash_bucket__recorded_as_exposures_of_the_keys_environment(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    server, seeded = world
    body = {
        "appName": "checkout",
        "instanceId": "pod-1",
        "connectionId": "c1",
        "bucket": {
            "start": "2026-01-01T00:00:00Z",
            "stop": "2026-01-01T00:01:00Z",
            "toggles": {
                "banner-text": {"yes": 7, "no": 1, "variants": {"a": 4, "b": 3, "disabled": 1}},
                "rollout-25": {"yes": 0, "no": 4, "variants": {}},
            },
        },
    }

    assert http.post("/api/client/metrics", json=body).status_code == 202
    totals = server.services.metrics.totals(seeded.environment_id)
    assert (totals["banner-text"].yes, totals["banner-text"].no) == (7, 1)
    assert totals["banner-text"].variants == {"a": 4, "b": 3, "disabled": 1}
    assert (totals["rollout-25"].yes, totals["rollout-25"].no) == (0, 4)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"appName": "a", "bucket": None}, 202, id="no-bucket"),
        pytest.param({"appName": "a", "bucket": {"toggles": {"x": {"yes": -1}}}}, 422, id="neg"),
        pytest.param({"appName": "a", "bucket": {"toggles": {"x": "many"}}}, 422, id="not-counts"),
        pytest.param({"appName": "a", "bucket": {"toggles": {"x" * 201: {}}}}, 422, id="long-name"),
        pytest.param(
            {"appName": "a", "bucket": {"toggles": {"x": {"yes": 2**31}}}}, 422, id="huge-count"
        ),
    ],
)
def test_metrics__odd_bodies__accepted_or_422(
    http: httpx.Client, body: dict[str, Any], status: int
) -> None:
    assert http.post("/api/client/metrics", json=body).status_code == status


def test_metrics__frontend_key__403(world: tuple[RunningServer, Seeded]) -> None:
    server, seeded = world
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        response = http.post(
            "/api/client/metrics",
            json={"appName": "a", "bucket": None},
            headers={"Authorization": seeded.frontend_key},
        )
    assert response.status_code == 403


def test_metrics__on_each_database__an_unleash_sdks_counts_are_recorded(
    database_url: str, tmp_path: Path
) -> None:
    # Given a server on SQLite, then on PostgreSQL, and a server key
    with running_server(database_url=database_url, data_dir=tmp_path) as server:
        services = server.services
        services.flags.create(SYSTEM, PROJECT, "checkout")
        key = services.tokens.create(
            SYSTEM, name="sdk", kind="server", project_key=PROJECT, environment_key=ENVIRONMENT
        ).secret
        body = {
            "appName": "checkout",
            "bucket": {"toggles": {"checkout": {"yes": 2, "no": 3, "variants": {"a": 2}}}},
        }
        with httpx.Client(base_url=server.url, trust_env=False) as http:
            # When an Unleash SDK sends its metrics twice
            for _ in range(2):
                response = http.post(
                    "/api/client/metrics", json=body, headers={"Authorization": key}
                )
                assert response.status_code == 202

        # Then both batches count, in the key's environment
        environment = services.tokens.authenticate(key).environment_id
        assert environment is not None
        totals = services.metrics.totals(environment)["checkout"]
        assert (totals.yes, totals.no, dict(totals.variants)) == (4, 6, {"a": 4})
