"""Bounds on every request against a real server: a body over its route class's limit is a
413 before the server reads past the limit (Content-Length up front, chunked bodies as
they arrive), JSON nested too deep is a 4xx in the route's error shape (it used to be a
RecursionError and a plain-text 500), oversized queries and header blocks are refused,
and nothing is changed by any of it. The limits come from ``shipwise serve``'s options.
"""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import newest_audit_id
from tests.integration.cli.cli_runner import Shipwise
from tests.support.public_server import WEBHOOK_SECRET, PublicServer, public_server

from shipwise.domain.github import sign
from shipwise.server.api.limits import BodyLimits, route_class

LIMITS = BodyLimits()
RULES = "/api/v1/projects/default/flags/on/environments/staging"

# name: (method, path, whose key)
ROUTES: dict[str, tuple[str, str, str | None]] = {
    "ofrep-single": ("POST", "/ofrep/v1/evaluate/flags/on", "frontend"),
    "ofrep-bulk": ("POST", "/ofrep/v1/evaluate/flags", "frontend"),
    "frontend": ("POST", "/api/frontend", "frontend"),
    "frontend-metrics": ("POST", "/api/frontend/client/metrics", "frontend"),
    "sdk-events": ("POST", "/sdk/v1/events", "server"),
    "sdk-metrics": ("POST", "/sdk/v1/metrics", "server"),
    "unleash-metrics": ("POST", "/api/client/metrics", "server"),
    "unleash-register": ("POST", "/api/client/register", "server"),
    "admin-rules": ("PUT", RULES, "admin"),
    "admin-import": (
        "POST",
        "/api/v1/projects/default/environments/staging/import/unleash",
        "admin",
    ),
    "webhook": ("POST", "/webhooks/github/default", None),
}
PUBLIC = [
    name for name, (_, path, _) in ROUTES.items() if route_class(path) in {"evaluate", "reports"}
]
ADMIN = ["admin-rules", "admin-import"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicServer]:
    with public_server(tmp_path_factory.mktemp("limits")) as server:
        yield server


@pytest.fixture
def admin(world: PublicServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.url, headers=world.headers("admin"), timeout=10) as client:
        yield client


def credentials(world: PublicServer, whose: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if whose is None:  # a GitHub delivery, unsigned: a size is judged before a signature
        return headers | {"X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4())}
    return headers | world.headers(whose)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_exchange(url: str, head: bytes, body: Iterable[bytes] = ()) -> Answer:
    """Send a request's bytes as they are given, then read the answer. A server that
    waited for more body would time the read out, failing the test."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head)
        for part in body:
            connection.sendall(part)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return Answer(response.status, response.headers, response.read())


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def error_text(path: str, document: dict[str, Any], status: int) -> str:
    """The message of an error in the route's shape: OFREP's, or the API's."""
    if path.startswith("/ofrep/"):
        assert set(document) - {"key"} == {"errorCode", "errorDetails"}, document
        if path.startswith("/ofrep/v1/evaluate/flags/"):
            assert document["key"] == path.rsplit("/", 1)[1]
        assert document["errorCode"] == ("PARSE_ERROR" if status == 400 else "GENERAL")
        return str(document["errorDetails"])
    assert set(document) == {"error"}, document
    assert document["error"]["status"] == status
    return str(document["error"]["message"])


def deep(levels: int) -> bytes:
    return b'{"context":' + b"[" * levels + b"]" * levels + b"}"


# -- size -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTES)
def test_body__content_length_over_its_class_limit__is_413_before_a_byte_is_sent(
    world: PublicServer, admin: httpx.Client, name: str
) -> None:
    # Given a request declaring one byte more than its route class allows, and no body sent
    method, path, whose = ROUTES[name]
    limit = LIMITS.size(route_class(path))
    headers = credentials(world, whose) | {"Content-Length": str(limit + 1)}
    audit = newest_audit_id(admin)
    # When it is sent; Then the answer comes at once (no waiting for the body), a 413
    # in the route's shape naming the limit, and the connection is closed
    response = raw_exchange(world.url, request_head(method, path, headers))
    assert response.status == 413
    assert f"{limit:,}-byte limit" in error_text(path, response.json(), 413)
    assert response.headers["connection"] == "close"
    assert newest_audit_id(admin) == audit


@pytest.mark.parametrize("name", ["ofrep-bulk", "sdk-events", "admin-rules", "webhook"])
def test_body__chunked_past_its_class_limit__is_413_without_reading_the_rest(
    world: PublicServer, name: str
) -> None:
    # Given a chunked body that passes the limit by one byte and never ends
    method, path, whose = ROUTES[name]
    limit = LIMITS.size(route_class(path))
    headers = credentials(world, whose) | {"Transfer-Encoding": "chunked"}
    chunk = b" " * 4096
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (limit // len(chunk)) + [b"1\r\n \r\n"]
    # When it is sent (no last chunk); Then the server answers 413 without waiting for more
    response = raw_exchange(world.url, request_head(method, path, headers), chunks)
    assert response.status == 413
    assert response.headers["connection"] == "close"


def test_body__exactly_at_the_limit__is_read_and_answered(
    world: PublicServer,
) -> None:
    # Given an OFREP context padded with spaces to exactly the evaluate limit
    body = b'{"context": {"targetingKey": "u1"}}'
    body += b" " * (LIMITS.evaluate - len(body))
    headers = credentials(world, "frontend")
    # When it is evaluated; Then it is
    response = httpx.post(
        f"{world.url}/ofrep/v1/evaluate/flags", content=body, headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text


# -- depth ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*PUBLIC, *ADMIN])
def test_json__nested_20000_deep__is_a_4xx_in_the_route_shape_and_changes_nothing(
    world: PublicServer, admin: httpx.Client, name: str
) -> None:
    # Given JSON 20,000 levels deep (40 KB: within every size limit)
    method, path, whose = ROUTES[name]
    rules = admin.get(RULES).json()
    audit = newest_audit_id(admin)
    # When it is sent
    response = httpx.request(
        method,
        f"{world.url}{path}",
        content=deep(20_000),
        headers=credentials(world, whose),
        timeout=10,
    )
    # Then it is a 400 on the public routes, 422 on the admin API, naming the limit
    status = 422 if name in ADMIN else 400
    assert response.status_code == status, response.text
    text = error_text(path, response.json(), status)
    assert f"nested deeper than {LIMITS.depth} levels" in text
    assert admin.get(RULES).json() == rules
    assert newest_audit_id(admin) == audit


def test_json__at_the_depth_limit__is_parsed_and_one_more_level_is_refused(
    world: PublicServer,
) -> None:
    # Given frontend contexts nesting exactly to the limit, and one level past it
    url = f"{world.url}/api/frontend"
    headers = credentials(world, "frontend")
    within = httpx.post(url, content=deep(LIMITS.depth - 1), headers=headers, timeout=10)
    beyond = httpx.post(url, content=deep(LIMITS.depth), headers=headers, timeout=10)
    # Then the first reaches the route (which refuses a context that is not an object),
    # and the second is refused for its depth
    assert within.status_code == 400
    assert "context must be a JSON object" in within.json()["error"]["message"]
    assert beyond.status_code == 400
    assert "nested deeper than" in beyond.json()["error"]["message"]


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("[" * 1000, id="brackets"),
        pytest.param('\\"' + "{" * 1000, id="after-an-escaped-quote"),
        pytest.param("\\" + "[" * 1000, id="after-a-backslash"),
    ],
)
def test_json__brackets_inside_strings__do_not_count_as_depth(
    world: PublicServer, user_id: str
) -> None:
    # Given a shallow context whose string holds a thousand brackets
    body = json.dumps({"context": {"userId": user_id}}).encode()
    # When it is evaluated; Then it is, like any other context
    response = httpx.post(
        f"{world.url}/api/frontend", content=body, headers=credentials(world, "frontend")
    )
    assert response.status_code == 200, response.text


def deliver(server: PublicServer, body: bytes, *, signed: bool) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }
    if signed:
        headers["X-Hub-Signature-256"] = sign(WEBHOOK_SECRET.encode(), body)
    return httpx.post(f"{server.url}{ROUTES['webhook'][1]}", content=body, headers=headers)


def test_webhook__signed_body_nested_20000_deep__is_422_and_changes_nothing(
    world: PublicServer, admin: httpx.Client
) -> None:
    # Given a correctly signed push delivery whose body is 20,000 levels deep
    audit = newest_audit_id(admin)
    # When it is delivered
    response = deliver(world, deep(20_000), signed=True)
    # Then it is refused for its depth, in the API's shape, and nothing changed
    assert response.status_code == 422, response.text
    assert "nested deeper than" in error_text("/webhooks", response.json(), 422)
    assert response.json()["error"]["field"] == "body"
    assert newest_audit_id(admin) == audit


def test_webhook__unsigned_deep_body__is_401_the_signature_is_checked_first(
    world: PublicServer,
) -> None:
    # Given the same deep body without a signature; Then only the signature is judged
    response = deliver(world, deep(20_000), signed=False)
    assert response.status_code == 401, response.text


# -- query and headers ------------------------------------------------------------------


def test_query__over_16_kib__is_414_in_the_api_shape(world: PublicServer) -> None:
    # Given a frontend context of 1,200 properties in the query (about 30 KB)
    query = "&".join(f"properties%5Bp{n}%5D=v{n}" for n in range(1200))
    head = request_head("GET", f"/api/frontend?{query}", credentials(world, "frontend"))
    # When it is sent; Then it is refused, naming the query
    response = raw_exchange(world.url, head)
    assert response.status == 414
    assert response.json()["error"]["field"] == "query"
    assert response.headers["access-control-allow-origin"] == "*"  # browsers may read it


def test_headers__over_100_fields__is_431_in_the_api_shape(
    world: PublicServer,
) -> None:
    # Given a request with 150 extra header fields
    headers = credentials(world, "frontend") | {f"X-Extra-{n}": "x" for n in range(150)}
    # When it is sent; Then it is refused, naming the headers
    response = httpx.get(f"{world.url}/api/frontend", headers=headers, timeout=10)
    assert response.status_code == 431
    assert response.json()["error"]["field"] == "headers"


# -- configuration ----------------------------------------------------------------------


def test_serve__limits_from_the_environment__apply_to_the_running_server(
    tmp_path: Path,
) -> None:
    # Given shipwise serve with a 1 KiB evaluate limit and a depth of 8, from the environment
    env = {
        "SHIPWISE_MAX_BODY": "evaluate=1KiB admin=2MiB",
        "SHIPWISE_MAX_JSON_DEPTH": "8",
    }
    with public_server(tmp_path, env) as server:
        url = f"{server.url}/ofrep/v1/evaluate/flags"
        # When bodies just past each limit are sent (no key: the limits come first)
        large = httpx.post(url, content=b" " * 1025, timeout=10)
        nested = httpx.post(url, content=deep(8), timeout=10)
    # Then both are refused, naming the configured limits
    assert large.status_code == 413
    assert "1,024-byte limit" in large.json()["errorDetails"]
    assert nested.status_code == 400
    assert "nested deeper than 8 levels" in nested.json()["errorDetails"]


@pytest.mark.parametrize(
    ("arguments", "culprit"),
    [
        pytest.param(["--max-body", "everything=1MiB"], "no route class 'everything'", id="class"),
        pytest.param(["--max-body", "admin=1GB"], "'admin=1GB'", id="unit"),
        pytest.param(["--max-json-depth", "1000"], "between 1 and 256", id="depth"),
    ],
)
def test_serve__a_malformed_limit__stops_before_starting_and_names_it(
    tmp_path: Path, arguments: list[str], culprit: str
) -> None:
    # When serve is given a limit it cannot use; Then it says which, and starts nothing
    result = Shipwise(tmp_path)("serve", "--data-dir", str(tmp_path), *arguments)
    assert result.exit_code != 0
    assert culprit in result.output
    assert not (tmp_path / "shipwise.db").exists()
