"""A digest subscription over the API and the CLI, on SQLite and PostgreSQL: saved and
listed with its time; refused for a channel that is not email, naming ``digest``, and
for a time that is not HH:MM, naming ``digest_at``; nothing stored on a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.support.server import running_server

from shipwise.server.notify.secrets import KEY_VARIABLE

P = "/api/v1/projects/default"
EMAIL = {
    "name": "managers",
    "kind": "email",
    "settings": {
        "host": "127.0.0.1",
        "port": 2525,
        "security": "none",
        "from": "shipwise@shop.example",
        "recipients": ["carol@shop.example"],
    },
}
SLACK = {"name": "team", "kind": "slack", "secrets": {"webhook_url": "https://hooks.example/x"}}


@pytest.fixture
def admin(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[httpx.Client]:
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    with (
        running_server(database_url=database_url, data_dir=tmp_path) as server,
        server.admin() as client,
    ):
        for channel in (EMAIL, SLACK):
            assert client.post(f"{P}/channels", json=channel).status_code == 201
        yield client


def _own(admin: httpx.Client) -> list[dict[str, object]]:
    listed = admin.get(f"{P}/subscriptions").json()["subscriptions"]
    return [s for s in listed if not s["default"]]


def test_a_daily_digest__is_saved_and_listed_with_its_time(admin: httpx.Client) -> None:
    body = {"channel": "managers", "events": ["*"], "digest": "daily", "digest_at": "08:30"}
    made = admin.post(f"{P}/subscriptions", json=body)
    plain = admin.post(f"{P}/subscriptions", json={"channel": "managers", "events": ["*"]})

    assert made.status_code == 201, made.text
    assert (made.json()["digest"], made.json()["digest_at"]) == ("daily", "08:30")
    assert (plain.json()["digest"], plain.json()["digest_at"]) == (None, None)
    assert [(s["digest"], s["digest_at"]) for s in _own(admin)] == [
        ("daily", "08:30"),
        (None, None),
    ]


def test_a_digest_without_a_time__goes_at_nine(admin: httpx.Client) -> None:
    body = {"channel": "managers", "events": ["*"], "digest": "daily"}
    made = admin.post(f"{P}/subscriptions", json=body)

    assert made.json()["digest_at"] == "09:00"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"channel": "team", "digest": "daily"}, "digest", "only an email channel"),
        ({"channel": "managers", "digest": "weekly"}, "digest", "unknown digest 'weekly'"),
        ({"channel": "managers", "digest": "daily", "digest_at": "25:00"}, "digest_at", "HH:MM"),
        ({"channel": "managers", "digest_at": "09:00"}, "digest_at", "--digest daily"),
    ],
    ids=["slack", "weekly", "hour-25", "time-without-digest"],
)
def test_a_bad_digest__is_a_422_naming_its_field_and_stores_nothing(
    admin: httpx.Client, body: dict[str, str], field: str, words: str
) -> None:
    answer = admin.post(f"{P}/subscriptions", json={"events": ["*"], **body})

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert words in answer.json()["error"]["message"]
    assert _own(admin) == []
