"""OFREP over HTTP: values, variants and reasons as the engine decides them, the protocol's
errors, the bulk endpoint's ETag, and the context mapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.flag_shapes import ENVIRONMENT, PROJECT, Seeded, contexts, seeded_server
from tests.support.server import RunningServer

from shipwise.server.services.evaluation import ContextError, ofrep_context
from shipwise.server.services.principal import SYSTEM

SINGLE = "/ofrep/v1/evaluate/flags/{}"
BULK = "/ofrep/v1/evaluate/flags"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Seeded]]:
    with seeded_server(tmp_path_factory.mktemp("ofrep")) as pair:
        yield pair


@pytest.fixture
def http(world: tuple[RunningServer, Seeded]) -> Iterator[httpx.Client]:
    server, seeded = world
    headers = {"Authorization": f"Bearer {seeded.server_key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10, trust_env=False) as client:
        yield client


def evaluate(http: httpx.Client, key: str, context: dict[str, Any]) -> dict[str, Any]:
    response = http.post(SINGLE.format(key), json={"context": context})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def as_ofrep(context: dict[str, Any]) -> dict[str, Any]:
    """An Unleash context from flag_shapes as an OFREP context."""
    out = {k: v for k, v in context.items() if k not in {"userId", "properties"}}
    out["targetingKey"] = context["userId"]
    out.update(context.get("properties", {}))
    return out


def user(world: tuple[RunningServer, Seeded], flag: str, on: bool, plan: str = "free") -> str:
    """A userId the engine has ``flag`` on (or off) for, with ``plan``."""
    server, seeded = world
    engine = server.services.snapshots.current(seeded.environment_id).engine
    for n in range(1000):
        if engine.is_enabled(flag, {"userId": f"u{n}", "properties": {"plan": plan}}) == on:
            return f"u{n}"
    raise AssertionError(f"no user has {flag} {'on' if on else 'off'}")


# -- one flag --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "context", "value", "reason"),
    [
        pytest.param("on", {}, True, "STATIC", id="on-for-everyone-is-static"),
        pytest.param("off", {"targetingKey": "u1"}, False, "DISABLED", id="off-is-disabled"),
        pytest.param("beta-plan", {"plan": "beta"}, True, "TARGETING_MATCH", id="constraint-met"),
        pytest.param("beta-plan", {"plan": "free"}, False, "DEFAULT", id="constraint-not-met"),
        pytest.param("beta-segment", {"country": "SE"}, True, "TARGETING_MATCH", id="segment"),
        pytest.param("beta-segment", {"country": "DE"}, False, "DEFAULT", id="not-in-segment"),
        pytest.param("allow-list", {"targetingKey": "bob"}, True, "TARGETING_MATCH", id="user-id"),
        pytest.param("needs-beta", {"plan": "free"}, False, "DEFAULT", id="dependency-unmet"),
        pytest.param("needs-beta", {"plan": "beta"}, True, "STATIC", id="dependency-met"),
        pytest.param("beta-or-25", {"plan": "internal"}, True, "TARGETING_MATCH", id="first-wins"),
    ],
)
def test_evaluate_flag__boolean_flag__value_and_reason_follow_the_engine(
    http: httpx.Client, flag: str, context: dict[str, Any], value: bool, reason: str
) -> None:
    # Given a flag without variants; When it is evaluated; Then its value is on/off
    answer = evaluate(http, flag, context)

    assert answer["key"] == flag
    assert answer["value"] is value
    assert answer["reason"] == reason
    assert answer["variant"] == "disabled"  # the engine's name for "no variant"
    assert answer["metadata"]["explanation"]


def test_evaluate_flag__percentage_rollout__split_for_those_in_default_for_the_rest(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    inside, outside = user(world, "rollout-25", True), user(world, "rollout-25", False)

    assert evaluate(http, "rollout-25", {"targetingKey": inside})["reason"] == "SPLIT"
    assert evaluate(http, "rollout-25", {"targetingKey": outside})["value"] is False
    # The rollout behind a constraint: which strategy matched decides the reason.
    free_inside = user(world, "beta-or-25", True, plan="free")
    answer = evaluate(http, "beta-or-25", {"targetingKey": free_inside, "plan": "free"})
    assert (answer["value"], answer["reason"]) == (True, "SPLIT")


def test_evaluate_flag__variants__value_is_the_payload_typed_by_its_kind(
    http: httpx.Client,
) -> None:
    banner = evaluate(http, "banner-text", {"targetingKey": "u1"})
    theme = evaluate(http, "theme", {"targetingKey": "u1"})
    items = evaluate(http, "max-items", {"targetingKey": "u1", "plan": "beta"})
    greeting = evaluate(http, "greeting", {"targetingKey": "u1"})

    assert (banner["reason"], banner["value"]) == (
        "SPLIT",
        {"a": "Welcome!", "b": "Hello there"}[banner["variant"]],
    )
    assert theme["value"] == {"light": {"background": "#fff"}, "dark": {"bg": 0}}[theme["variant"]]
    assert items["value"] == {"small": 10, "large": 2.5}[items["variant"]]
    assert type(items["value"]) is {"small": int, "large": float}[items["variant"]]
    assert greeting["value"] == greeting["variant"]  # no payload: the variant's name


def test_evaluate_flag__variant_override__targeting_match(http: httpx.Client) -> None:
    answer = evaluate(http, "theme", {"targetingKey": "pinned"})

    assert (answer["variant"], answer["value"], answer["reason"]) == (
        "dark",
        {"bg": 0},
        "TARGETING_MATCH",
    )


@pytest.mark.parametrize(
    ("flag", "context", "reason"),
    [
        pytest.param("dark-launch", {"targetingKey": "u1"}, "DISABLED", id="switched-off"),
        pytest.param("max-items", {"targetingKey": "u1", "plan": "free"}, "DEFAULT", id="no-match"),
    ],
)
def test_evaluate_flag__variant_flag_not_on__no_value_so_the_code_default_applies(
    http: httpx.Client, flag: str, context: dict[str, Any], reason: str
) -> None:
    answer = evaluate(http, flag, context)

    assert "value" not in answer
    assert (answer["reason"], answer["variant"]) == (reason, "disabled")


def test_evaluate_flag__payload_does_not_parse__error_reason_and_no_value(
    http: httpx.Client,
) -> None:
    answer = evaluate(http, "bad-payload", {"targetingKey": "u1"})

    assert "value" not in answer
    assert answer["reason"] == "ERROR"
    assert answer["errorCode"] == "PARSE_ERROR"
    assert "broken" in answer["errorDetails"]


def test_evaluate_flag__unknown_flag__404_flag_not_found(http: httpx.Client) -> None:
    response = http.post(SINGLE.format("no-such-flag"), json={"context": {"targetingKey": "u"}})

    assert response.status_code == 404
    body = response.json()
    assert (body["key"], body["errorCode"]) == ("no-such-flag", "FLAG_NOT_FOUND")
    assert "no-such-flag" in body["errorDetails"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(b"{not json", "PARSE_ERROR", id="not-json"),
        pytest.param(b"[1, 2]", "PARSE_ERROR", id="not-an-object"),
        pytest.param(b'{"context": [1]}', "INVALID_CONTEXT", id="context-not-an-object"),
        pytest.param(b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT", id="key-not-text"),
    ],
)
def test_evaluate__malformed_body__400_with_the_error_code(
    http: httpx.Client, content: bytes, code: str
) -> None:
    single = http.post(SINGLE.format("on"), content=content)
    bulk = http.post(BULK, content=content)

    assert (single.status_code, bulk.status_code) == (400, 400)
    assert single.json()["key"] == "on"
    assert single.json()["errorCode"] == bulk.json()["errorCode"] == code
    assert bulk.json()["errorDetails"]


def test_evaluate__no_body_or_no_context__evaluates_an_empty_context(http: httpx.Client) -> None:
    assert http.post(SINGLE.format("on")).json()["value"] is True
    assert http.post(SINGLE.format("on"), json={}).json()["value"] is True


def test_evaluate__keys__bearer_or_x_api_key_of_server_or_frontend_kind(
    world: tuple[RunningServer, Seeded],
) -> None:
    server, seeded = world
    body = {"context": {"targetingKey": "u1"}}
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        as_frontend = {"Authorization": f"Bearer {seeded.frontend_key}"}
        as_api_key = {"X-API-Key": seeded.server_key}
        as_admin = {"Authorization": f"Bearer {server.admin_token}"}

        assert http.post(SINGLE.format("on"), json=body).status_code == 401
        assert http.post(BULK, json=body, headers={"X-API-Key": "sw_srv_nope"}).status_code == 401
        assert http.post(SINGLE.format("on"), json=body, headers=as_admin).status_code == 403
        public = http.post(SINGLE.format("allow-list"), json=body, headers=as_frontend)
        assert public.status_code == 200
        # an explanation quotes the rules (here: the allowed user ids), so no public key gets it
        assert public.json()["metadata"] == {"engineReason": "no_strategy_matched"}
        assert http.post(BULK, json=body, headers=as_api_key).status_code == 200


# -- every flag ------------------------------------------------------------------------


def test_evaluate_flags__every_flag__each_result_equals_the_single_evaluation(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    # Given the seeded flags; When many contexts are evaluated in bulk and one by one
    server, seeded = world
    engine = server.services.snapshots.current(seeded.environment_id).engine
    for context in list(contexts(40)):
        ofrep = as_ofrep(context)
        bulk = http.post(BULK, json={"context": ofrep})
        assert bulk.status_code == 200, bulk.text
        results = {item["key"]: item for item in bulk.json()["flags"]}

        # Then every flag is there, and the fast path agrees with the engine's explain
        assert set(results) == set(seeded.keys)
        for key in seeded.keys:
            single = evaluate(http, key, ofrep)
            single.pop("metadata")
            assert results[key] == single, (key, context)
            if "value" in single and isinstance(single["value"], bool):
                assert single["value"] == engine.is_enabled(key, context), (key, context)


def test_evaluate_flags__same_context_and_revision__304_until_a_flag_changes(
    http: httpx.Client, world: tuple[RunningServer, Seeded]
) -> None:
    server, _seeded = world
    body = {"context": {"targetingKey": "etag-user", "plan": "beta"}}
    first = http.post(BULK, json=body)
    etag = first.headers["ETag"]

    again = http.post(BULK, json=body, headers={"If-None-Match": etag})
    other = http.post(
        BULK, json={"context": {"targetingKey": "x"}}, headers={"If-None-Match": etag}
    )
    assert (again.status_code, again.content) == (304, b"")
    assert other.status_code == 200

    server.services.flags.set_enabled(SYSTEM, PROJECT, "off", ENVIRONMENT, True)
    try:
        changed = http.post(BULK, json=body, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["ETag"] != etag
        assert {f["key"]: f.get("value") for f in changed.json()["flags"]}["off"] is True
    finally:
        server.services.flags.set_enabled(SYSTEM, PROJECT, "off", ENVIRONMENT, False)


def test_evaluate_flags__browser_preflight__cors_allows_the_call(http: httpx.Client) -> None:
    headers = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    preflight = http.options(BULK, headers=headers)
    answer = http.post(BULK, json={"context": {}}, headers={"Origin": "https://app.example"})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]


# -- the context -----------------------------------------------------------------------


def test_ofrep_context__attributes__targeting_key_is_user_id_and_the_rest_properties() -> None:
    context = ofrep_context(
        {
            "targetingKey": "u1",
            "userId": "ignored",
            "sessionId": "s1",
            "remoteAddress": "10.0.0.1",
            "plan": "beta",
            "age": 42,
            "beta": True,
            "score": 2.5,
            "tags": ["a", "b"],
            "address": {"city": "Oslo"},
            "missing": None,
            "properties": {"team": "core"},
        }
    )

    assert context == {
        "userId": "u1",
        "sessionId": "s1",
        "remoteAddress": "10.0.0.1",
        "properties": {
            "plan": "beta",
            "age": "42",
            "beta": "true",
            "score": "2.5",
            "tags": '["a","b"]',
            "address": '{"city":"Oslo"}',
            "team": "core",
        },
    }


@pytest.mark.parametrize(
    "context",
    [pytest.param([], id="list"), pytest.param({"targetingKey": ["u"]}, id="key-list")],
)
def test_ofrep_context__wrong_shape__context_error(context: object) -> None:
    with pytest.raises(ContextError, match="context"):
        ofrep_context(context)
