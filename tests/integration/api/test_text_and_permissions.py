"""Names, keys and titles are one visible line: every route that creates or renames
something refuses control, bidirectional, separator and zero-width characters and text
with nothing visible in it, with a 422 that names the field, the character and where it
is; so does an Unleash import, naming the flag and its place in the document. A refused
request changes nothing.

(Permission before validation is walked over every admin route in ``test_roles``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.integration.api.helpers import error_field, newest_audit_id
from tests.support.server import running_server

P = "/api/v1/projects/default"
RLO = "ab\u202ecd"  # U+202E at position 3
RLO_SAYS = "contains U+202E RIGHT-TO-LEFT OVERRIDE at position 3; remove it"

# Each way in for a name: method, path ("{v}" is the value in the path), body ("{v}"
# the value), the field the 422 names.
WAYS_IN = [
    ("POST", "/api/v1/projects", {"key": "p-new", "name": "{v}"}, "name"),
    ("POST", "/api/v1/projects", {"key": "{v}"}, "key"),
    ("POST", f"{P}/environments", {"key": "e-new", "name": "{v}"}, "name"),
    ("POST", f"{P}/environments", {"key": "{v}"}, "key"),
    ("POST", f"{P}/flags", {"key": "{v}"}, "key"),
    ("POST", f"{P}/flags", {"key": "f-new", "owner": "{v}"}, "owner"),
    ("PATCH", f"{P}/flags/checkout", {"owner": "{v}"}, "owner"),
    ("POST", f"{P}/flags", {"key": "f-new", "tags": ["{v}"]}, "tags[0]"),
    ("POST", f"{P}/segments", {"name": "{v}", "constraints": []}, "name"),
    ("POST", f"{P}/releases", {"title": "{v}", "kind": "feature"}, "title"),
    ("POST", f"{P}/releases", {"title": "t", "kind": "feature", "owner": "{v}"}, "owner"),
    ("POST", f"{P}/releases", {"title": "t", "kind": "feature", "authors": ["{v}"]}, "authors[0]"),
    (
        "POST",
        f"{P}/releases",
        {"title": "t", "kind": "feature", "pull_requests": [{"number": 1, "title": "{v}"}]},
        "pull_requests[0].title",
    ),
    ("POST", f"{P}/releases", {"title": "t", "kind": "feature", "branch": "{v}"}, "branch"),
    ("PATCH", f"{P}/releases/rel-1", {"title": "{v}"}, "title"),
    ("POST", f"{P}/releases/rel-1/check", {"item": "{v}"}, "item"),
    (
        "POST",
        "/api/v1/tokens",
        {"name": "{v}", "kind": "server", "project": "default", "environment": "dev"},
        "name",
    ),
    ("PUT", f"{P}/metrics/{{v}}", {"source": "sdk", "settings": {"event": "e"}}, "name"),
    ("PUT", f"{P}/rollout-templates/{{v}}", {"plan": {"steps": [{"percentage": 100}]}}, "name"),
]


def _way_id(way: tuple[str, str, Any, str]) -> str:
    method, path, _body, field = way
    return f"{method} {path.removeprefix(P).removeprefix('/api/v1')} {field}"


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The global admin on one SQLite server with flag checkout and release rel-1."""
    data = tmp_path_factory.mktemp("text")
    with running_server(database_url=f"sqlite:///{data / 'shipwise.db'}", data_dir=data) as server:
        client = server.admin()
        assert client.post(f"{P}/flags", json={"key": "checkout"}).status_code == 201
        release = {"key": "rel-1", "title": "rel", "kind": "feature"}
        assert client.post(f"{P}/releases", json=release).status_code == 201
        yield client
        client.close()


def _fill(value: Any, text: str) -> Any:
    if isinstance(value, str):
        return value.replace("{v}", text)
    if isinstance(value, dict):
        return {k: _fill(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, text) for v in value]
    return value


def _send(admin: httpx.Client, way: tuple[str, str, Any, str], text: str) -> httpx.Response:
    method, path, body, _field = way
    return admin.request(method, path.replace("{v}", quote(text)), json=_fill(body, text))


@pytest.mark.parametrize("way", WAYS_IN, ids=_way_id)
def test_name__with_a_right_to_left_override__is_refused_naming_field_character_and_position(
    admin: httpx.Client, way: tuple[str, str, Any, str]
) -> None:
    before = newest_audit_id(admin)

    response = _send(admin, way, RLO)

    assert response.status_code == 422, response.text
    field = way[3]
    assert error_field(response) == field
    assert response.json()["error"]["message"] == f"{field}: {RLO_SAYS}"
    assert newest_audit_id(admin) == before


HIDDEN = [
    pytest.param("a\u2066b\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE at position 2", id="isolate"),
    pytest.param("a\u200fb", "U+200F RIGHT-TO-LEFT MARK at position 2", id="RLM"),
    pytest.param("a\u061cb", "U+061C ARABIC LETTER MARK at position 2", id="ALM"),
    pytest.param("one\u2028two", "U+2028 LINE SEPARATOR at position 4", id="line-separator"),
    pytest.param("one\u2029two", "U+2029 PARAGRAPH SEPARATOR at position 4", id="paragraph"),
    pytest.param("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE at position 1", id="lone-BOM"),
    pytest.param("ch\u200beck", "U+200B ZERO WIDTH SPACE at position 3", id="zero-width"),
    pytest.param("a\x85b", "U+0085 NEXT LINE at position 2", id="C1-control"),
    pytest.param("x\x1b[2J", "U+001B ESCAPE at position 2", id="escape"),
]


@pytest.mark.parametrize(("text", "culprit"), HIDDEN)
@pytest.mark.parametrize(
    "way",
    [WAYS_IN[0], WAYS_IN[4], WAYS_IN[9], WAYS_IN[16]],
    ids=["project name", "flag key", "release title", "token name"],
)
def test_name__with_any_hidden_character__is_refused_with_its_name(
    admin: httpx.Client, way: tuple[str, str, Any, str], text: str, culprit: str
) -> None:
    response = _send(admin, way, text)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == f"{way[3]}: contains {culprit}; remove it"


@pytest.mark.parametrize("text", [" ", "   ", "\u3000\u00a0", "\u3164"], ids=repr)
@pytest.mark.parametrize(
    "way",
    [WAYS_IN[0], WAYS_IN[9], WAYS_IN[16]],
    ids=["project name", "release title", "token name"],
)
def test_name__with_nothing_visible__is_refused(
    admin: httpx.Client, way: tuple[str, str, Any, str], text: str
) -> None:
    response = _send(admin, way, text)

    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert message == f"{way[3]}: is only whitespace; write something people can see"


def test_name__in_any_script_with_joiners__is_accepted(admin: httpx.Client) -> None:
    # Persian needs ZERO WIDTH NON-JOINER between its letters; emoji sequences need ZWJ
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f469\u200d\U0001f4bb"
    response = admin.post("/api/v1/projects", json={"key": "p-persian", "name": name})

    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


def test_free_text__keeps_its_newlines_and_may_hold_what_names_may_not(
    admin: httpx.Client,
) -> None:
    # A description is free text: stored as written, rendered inert wherever it is shown
    description = "line one\nline two \u202e (quoted Arabic: \u200f)"
    response = admin.post(f"{P}/flags", json={"key": "free-text", "description": description})

    assert response.status_code == 201, response.text
    assert response.json()["description"] == description


def test_import__a_flag_named_with_an_override__names_the_flag_where_and_the_character(
    admin: httpx.Client,
) -> None:
    before = newest_audit_id(admin)
    document = {
        "version": 2,
        "features": [
            {"name": "fine", "enabled": True, "strategies": [{"name": "default"}]},
            {"name": "ev\u202eil", "enabled": True, "strategies": [{"name": "default"}]},
        ],
    }

    response = admin.post(f"{P}/environments/dev/import/unleash", json=document)

    assert response.status_code == 422, response.text
    assert error_field(response) == "features[1].name"
    message = response.json()["error"]["message"]
    assert "flag 'ev\\u202eil'" in message  # shown escaped, so it cannot reorder the message
    assert "contains U+202E RIGHT-TO-LEFT OVERRIDE at position 3; remove it" in message
    assert "\u202e" not in message
    assert newest_audit_id(admin) == before
    assert admin.get(f"{P}/flags/fine").status_code == 404  # all or nothing


def test_path_with_a_hidden_character__is_checked_for_permission_first(
    admin: httpx.Client,
) -> None:
    # A viewer PUTting a metric named with an override gets 403, not a 422 about the name
    token = admin.post(
        "/api/v1/tokens",
        json={"name": "looker", "kind": "api", "project": "default", "role": "viewer"},
    )
    assert token.status_code == 201, token.text
    url = str(admin.base_url)
    headers = {"Authorization": f"Bearer {token.json()['secret']}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as viewer:
        response = viewer.put(f"{P}/metrics/{quote(RLO)}", json={})

    assert response.status_code == 403, response.text
