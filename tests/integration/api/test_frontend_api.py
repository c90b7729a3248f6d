"""The Unleash frontend API over HTTP: only the flags that are on, with their variants, as
the engine decides them for the context in the query or the body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.flag_shapes import Seeded, contexts, seeded_server
from tests.support.server import RunningServer

FRONTEND = "/api/frontend"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Seeded]]:
    with seeded_server(tmp_path_factory.mktemp("frontend")) as pair:
        yield pair


@pytest.fixture
def http(world: tuple[RunningServer, Seeded]) -> Iterator[httpx.Client]:
    server, seeded = world
    headers = {"Authorization": seeded.frontend_key}  # Unleash's bare form
    with httpx.Client(base_url=server.url, headers=headers, timeout=10, trust_env=False) as client:
        yield client


def query(context: dict[str, Any]) -> dict[str, str]:
    params = {k: v for k, v in context.items() if k != "properties"}
    params.update({f"properties[{k}]": v for k, v in context.get("properties", {}).items()})
    return params


def toggles(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {t["name"]: t for t in response.json()["toggles"]}


def test_get__many_contexts__lists_exactly_the_flags_the_engine_has_on(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    server, seeded = world
    engine = server.services.snapshots.current(seeded.environment_id).engine
    for context in contexts(60):
        context.setdefault("sessionId", "fixed-session")
        context.setdefault("remoteAddress", "10.9.9.9")
        answer = toggles(http.get(FRONTEND, params=query(context)))

        expected = {k: engine.variant(k, context) for k in seeded.keys}
        assert set(answer) == {k for k, v in expected.items() if v.feature_enabled}, context
        for name, toggle in answer.items():
            variant = dict(toggle["variant"])
            assert variant.pop("featureEnabled") is True
            assert variant == expected[name].to_dict()
            assert (toggle["enabled"], toggle["impressionData"]) == (True, False)


def test_get__no_remote_address__the_callers_address_is_used(http: httpx.Client) -> None:
    assert "office-network" in toggles(http.get(FRONTEND, params={"userId": "u1"}))
    elsewhere = {"userId": "u1", "remoteAddress": "10.1.2.3"}
    assert "office-network" not in toggles(http.get(FRONTEND, params=elsewhere))


def test_get__unknown_parameter__is_a_property(http: httpx.Client) -> None:
    assert "beta-plan" in toggles(http.get(FRONTEND, params={"plan": "beta"}))
    assert "beta-plan" not in toggles(http.get(FRONTEND, params={"plan": "free"}))


def test_post__context_in_the_body__same_answer_as_the_query(http: httpx.Client) -> None:
    context = {
        "userId": "alice",
        "sessionId": "s1",
        "properties": {"plan": "beta", "country": "SE"},
    }
    by_query = toggles(http.get(FRONTEND, params=query(context)))
    by_body = toggles(http.post(FRONTEND, json={"context": context}))

    assert by_body == by_query
    assert {"allow-list", "beta-plan", "beta-segment", "needs-beta"} <= set(by_body)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b'{"context": "u1"}', id="context-not-an-object"),
    ],
)
def test_post__malformed_body__400(http: httpx.Client, content: bytes) -> None:
    response = http.post(FRONTEND, content=content)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "context"


def test_keys__only_frontend_keys__server_key_403_none_401(
    world: tuple[RunningServer, Seeded],
) -> None:
    server, seeded = world
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        assert http.get(FRONTEND).status_code == 401
        assert http.get(FRONTEND, headers={"Authorization": seeded.server_key}).status_code == 403
        admin = {"Authorization": f"Bearer {server.admin_token}"}
        assert http.get(FRONTEND, headers=admin).status_code == 403
        bearer = {"Authorization": f"Bearer {seeded.frontend_key}"}
        assert http.get(FRONTEND, headers=bearer).status_code == 200


def test_get__same_request_and_revision__304(http: httpx.Client) -> None:
    params = {"userId": "etag-user", "sessionId": "s"}
    etag = http.get(FRONTEND, params=params).headers["ETag"]

    assert http.get(FRONTEND, params=params, headers={"If-None-Match": etag}).status_code == 304
    other = http.get(FRONTEND, params={"userId": "x"}, headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_client_metrics__frontend_sdk_counts__recorded_for_the_keys_environment(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    server, seeded = world
    before = server.services.metrics.totals(seeded.environment_id).get("greeting")
    body = {
        "appName": "web",
        "instanceId": "browser-1",
        "bucket": {
            "start": "2026-01-01T00:00:00Z",
            "stop": "2026-01-01T00:01:00Z",
            "toggles": {"greeting": {"yes": 5, "no": 2, "variants": {"hello": 3, "hi": 2}}},
        },
    }

    assert http.post(f"{FRONTEND}/client/metrics", json=body).status_code == 200
    after = server.services.metrics.totals(seeded.environment_id)["greeting"]
    base = (0, 0) if before is None else (before.yes, before.no)
    assert (after.yes - base[0], after.no - base[1]) == (5, 2)
    assert http.post(f"{FRONTEND}/client/register", json={"appName": "web"}).status_code == 200
    assert http.get(f"{FRONTEND}/client/features").status_code == 501


def test_preflight__browser__cors_allows_get_and_post(http: httpx.Client) -> None:
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    preflight = http.options(FRONTEND, headers=headers)
    answer = http.get(FRONTEND, headers={"Origin": "https://app.example"})

    assert preflight.status_code == 204
    assert {"GET", "POST"} <= {
        m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")
    }
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
