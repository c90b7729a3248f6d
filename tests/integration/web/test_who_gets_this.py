""" "Who gets this?" on the flag page: the answer for a context, per environment, is what
a real SDK ``Client.explain`` gives for the same context against the same server; and a
context the form cannot take is a 422 beside the field at fault."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.integration.web.flag_pages import PAGES, FlagWorld, flag_world, page

from shipwise.sdk import Client

WHO = f"{PAGES}/checkout/who"
PRO = {"contextName": "plan", "operator": "IN", "values": ["pro"]}
RULES: dict[str, dict[str, Any]] = {
    "dev": {
        "enabled": True,
        "strategies": [{"name": "userWithId", "parameters": {"userIds": "7,42"}}],
    },
    "staging": {
        "enabled": True,
        "strategies": [
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "checkout"},
                "constraints": [PRO],
            }
        ],
        "variants": [
            {"name": "blue", "weight": 500, "stickiness": "userId"},
            {"name": "green", "weight": 500, "stickiness": "userId"},
        ],
    },
}
CONTEXTS = [
    pytest.param({"userId": "42"}, id="listed-user-without-plan"),
    pytest.param({"userId": "42", "properties": {"plan": "pro"}}, id="pro-user"),
    pytest.param(
        {"userId": "1234", "properties": {"plan": "pro"}}, id="pro-user-inside-the-50-percent"
    ),
    pytest.param(
        {
            "userId": "9",
            "sessionId": "s-1",
            "remoteAddress": "10.0.0.7",
            "properties": {"plan": "free", "country": "NO"},
        },
        id="free-user-with-everything",
    ),
]


@contextmanager
def _checkout(database_url: str, tmp_path: Path) -> Iterator[FlagWorld]:
    with flag_world(database_url, tmp_path) as running:
        running.flag("checkout")
        for environment, rules in RULES.items():
            running.set_up("checkout", environment, {"variants": [], "dependencies": [], **rules})
        yield running


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[FlagWorld]:
    with _checkout(database_url, tmp_path) as running:
        yield running


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[FlagWorld]:
    """For the form's own behaviour, which no database changes."""
    with _checkout(f"sqlite:///{tmp_path / 'shipwise.db'}", tmp_path) as running:
        yield running


def _query(context: dict[str, Any]) -> list[tuple[str, str]]:
    """The form's fields for ``context``, as a browser sends them."""
    fields = [(k, v) for k, v in context.items() if k != "properties"]
    for name, value in context.get("properties", {}).items():
        fields += [("name", name), ("value", value)]
    return fields


@pytest.mark.parametrize("context", CONTEXTS)
def test_who_gets_this__answers_what_the_sdk_client_explains_in_every_environment(
    world: FlagWorld, context: dict[str, Any]
) -> None:
    browser = world.signed_in("vic", "viewer")  # reading is enough to ask
    answer = browser.get(WHO, params=_query(context))
    assert answer.status_code == 200, answer.text
    shown = page(answer)

    for environment in ("dev", "staging", "production"):
        with Client(
            world.server.url, world.sdk_key(environment), stream=False, metrics_interval=None
        ) as client:
            assert client.wait_until_ready(10)
            expected = client.explain("checkout", context)
        assert shown.text_of(f"who-{environment}-why") == " ".join(expected.message.split())
        assert shown.text_of(f"who-{environment}-variant") == expected.variant.name
        words = "gets it (on)" if expected.enabled else "does not get it (off)"
        assert shown.text_of(f"who-{environment}-answer") == words


def test_who_gets_this__keeps_the_context_in_the_form(sqlite_world: FlagWorld) -> None:
    browser = sqlite_world.signed_in("vic", "viewer")
    context = {"userId": "42", "properties": {"plan": "pro"}}

    shown = page(browser.get(WHO, params=_query(context)))

    form = shown.form("/checkout/who")
    assert form.method == "get"
    assert (form.fields["userId"], shown.by_id["who-name-1"].attrs["value"]) == ("42", "plan")
    assert shown.by_id["who-value-1"].attrs["value"] == "pro"


@pytest.mark.parametrize(
    ("fields", "error_id", "words"),
    [
        pytest.param(
            [("name", ""), ("value", "pro")],
            "error-who-name-1",
            "name this property",
            id="value-without-name",
        ),
        pytest.param(
            [("name", "plan"), ("value", "a"), ("name", "plan"), ("value", "b")],
            "error-who-name-2",
            "'plan' is named twice",
            id="duplicate-name",
        ),
        pytest.param(
            [("name", "userId"), ("value", "1")],
            "error-who-name-1",
            "a field of the context itself",
            id="root-field-as-property",
        ),
        pytest.param(
            [("userId", "x" * 1001)],
            "error-who-userId",
            "at most 1,000 characters",
            id="user-id-too-long",
        ),
        pytest.param(
            [p for i in range(11) for p in (("name", f"p{i}"), ("value", "v"))],
            "error-who-name",
            "at most 10 properties",
            id="too-many-properties",
        ),
    ],
)
def test_who_gets_this__when_the_context_is_bad__answers_422_beside_the_field(
    sqlite_world: FlagWorld, fields: list[tuple[str, str]], error_id: str, words: str
) -> None:
    browser = sqlite_world.signed_in("vic", "viewer")

    answer = browser.get(WHO, params=fields)

    assert answer.status_code == 422
    assert words in page(answer).text_of(error_id)
    assert 'id="who-dev-why"' not in answer.text  # no answer to a question not understood


def test_flag_page__compared_with_another_environment__marks_what_differs(
    sqlite_world: FlagWorld,
) -> None:
    browser = sqlite_world.signed_in("vic", "viewer")

    shown = browser.get(f"{PAGES}/checkout", params={"compare": "dev"})

    assert shown.status_code == 200
    html = shown.text
    assert "differs from dev" in html
    added = (
        '<li class="diff-added"><span class="diff-mark" aria-hidden="true">+</span> '
        '<span class="visually-hidden">only here: </span>'
        "50% of users by userId; if plan IN pro</li>"
    )
    assert added in html
    assert "only in dev: </span><del>userWithId: userIds = 7,42</del>" in html
    unknown = browser.get(f"{PAGES}/checkout", params={"compare": "qa"})
    assert unknown.status_code == 422
    assert "no environment 'qa'" in page(unknown).text_of("error-compare")
