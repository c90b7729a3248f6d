"""Notification channels over the API: created, listed, changed, tested and removed by
admins and release managers; their secrets are write-only, and neither the API, the
database file nor the logs ever hold one in the clear."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.integration.api.helpers import as_token, issue
from tests.support.server import RunningServer, running_server
from tests.support.slack_standin import TOKEN, SlackStandin, slack_standin

from shipwise.server.ports import Notification

CHANNELS = "/api/v1/projects/default/channels"
HOOK_SECRET = "whsec-channel-hmac-key-0191"
SMTP_PASSWORD = "smtp-password-3b7f1c"


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with slack_standin() as standin:
        yield standin


def _channels(slack: SlackStandin) -> list[dict[str, object]]:
    return [
        {
            "name": "hook",
            "kind": "slack",
            "secrets": {"webhook_url": slack.webhook_url},
        },
        {
            "name": "bot",
            "kind": "slack",
            "settings": {"channel": "#releases", "api_url": slack.api_url},
            "secrets": {"token": TOKEN},
        },
        {
            "name": "mail",
            "kind": "email",
            "settings": {
                "host": "127.0.0.1",
                "port": 1,
                "security": "none",
                "user": "shipwise",
                "from": "shipwise@example.com",
                "recipients": ["ops@example.com"],
            },
            "secrets": {"password": SMTP_PASSWORD},
        },
        {
            "name": "signed",
            "kind": "webhook",
            "secrets": {"url": slack.base + "/hooks/path-token-77e1", "secret": HOOK_SECRET},
        },
    ]


def _secrets(slack: SlackStandin) -> list[str]:
    return [
        slack.webhook_url,
        "standin-webhook-secret-path",
        TOKEN,
        SMTP_PASSWORD,
        HOOK_SECRET,
        "path-token-77e1",
    ]


def test_channels__with_secrets__never_show_them_in_answers_the_database_or_the_logs(
    sqlite_server: RunningServer,
    admin: httpx.Client,
    slack: SlackStandin,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    # Given a channel of every kind that has secrets, created, listed, shown and changed
    for body in _channels(slack):
        created = admin.post(CHANNELS, json=body)
        assert created.status_code == 201, created.text
        answers.append(created.text)
        assert created.json()["secrets"] == sorted(body["secrets"])  # type: ignore[arg-type]
    answers.append(admin.get(CHANNELS).text)
    answers.append(admin.get(f"{CHANNELS}/bot").text)
    patched = admin.patch(f"{CHANNELS}/mail", json={"settings": {"port": 2}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["secrets"] == ["password"]  # kept without being typed again
    answers.append(patched.text)
    answers.append(admin.get("/api/v1/audit", params={"limit": 50}).text)

    # When each is tested, and a notification is delivered through the outbox
    for name in ("hook", "bot", "mail", "signed"):
        tested = admin.post(f"{CHANNELS}/{name}/test")
        assert tested.status_code == 200, tested.text
        answers.append(tested.text)
    services = sqlite_server.services
    with services.database.transaction() as tx:
        note = Notification(
            kind="release.hotfix",
            project="default",
            title="HOTFIX rel-1 promoted to production",
            text="Two approvals.",
            at=datetime.now(UTC),
        )
        services.notifications.announce(tx, note)
    services.notifications.deliver_due()

    # Then the Slack ones arrived, the email one failed (no server there), saying why
    assert [m.via for m in slack.posts].count("webhook") == 2
    assert [m.via for m in slack.posts].count("chat.postMessage") == 2
    assert '"ok":false' in answers[-2]  # the email test: nothing listens on port 1
    # And no secret is in any answer, the database files or the captured logs
    database = b"".join(p.read_bytes() for p in tmp_path.glob("shipwise.db*"))
    for secret in _secrets(slack):
        assert not any(secret in answer for answer in answers), secret
        assert secret.encode() not in database, secret
        assert secret not in caplog.text, secret
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_channels__a_developer__may_list_but_not_add_or_test(
    sqlite_server: RunningServer, admin: httpx.Client
) -> None:
    developer_secret = issue(admin, kind="api", role="developer", project="default")
    manager_secret = issue(admin, kind="api", role="release-manager", project="default")
    log_channel = {"name": "ops-log", "kind": "log"}
    with (
        as_token(sqlite_server, developer_secret) as developer,
        as_token(sqlite_server, manager_secret) as manager,
    ):
        refused = developer.post(CHANNELS, json=log_channel)
        created = manager.post(CHANNELS, json=log_channel)
        listed = developer.get(CHANNELS).json()["channels"]
        test_refused = developer.post(f"{CHANNELS}/ops-log/test")
        tested = manager.post(f"{CHANNELS}/ops-log/test").json()

    assert refused.status_code == 403, refused.text
    assert created.status_code == 201, created.text
    assert listed[0]["name"] == "ops-log"
    assert test_refused.status_code == 403
    assert tested == {"ok": True, "said": "written to the shipwise.notify log"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "pager"}, "kind"),
        (
            {"name": "x", "kind": "slack", "settings": {"webhook_url": "https://h/x"}},
            "settings.webhook_url",
        ),
        ({"name": "x", "kind": "slack", "secrets": {"token": "xoxb-1"}}, "settings.channel"),
        (
            {"name": "x", "kind": "slack", "secrets": {"webhook_url": "ftp://h/x"}},
            "secrets.webhook_url",
        ),
        ({"name": "x", "kind": "email", "settings": {"host": "h", "port": 70000}}, "settings.port"),
        ({"name": "x", "kind": "webhook", "secrets": {"url": "https://h/x"}}, "secrets.secret"),
        ({"name": "Bad Name", "kind": "log"}, "name"),
    ],
    ids=[
        "unknown-kind",
        "secret-in-settings",
        "bot-without-channel",
        "not-http",
        "port",
        "unsigned",
        "name",
    ],
)
def test_create_channel__bad_input__is_422_naming_the_field_and_never_echoing_a_secret(
    admin: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = admin.post(CHANNELS, json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert "xoxb-1" not in response.text
    assert admin.get(CHANNELS).json()["channels"] == []


def test_channels__on_postgresql_without_a_key__refuse_a_secret_and_take_a_log_channel(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHIPWISE_SECRET_KEY", raising=False)
    with (
        running_server(database_url=postgres_url, data_dir=tmp_path) as server,
        server.admin() as admin,
    ):
        refused = admin.post(
            CHANNELS,
            json={
                "name": "bot",
                "kind": "slack",
                "settings": {"channel": "#r"},
                "secrets": {"token": "xoxb-2"},
            },
        )
        taken = admin.post(CHANNELS, json={"name": "ops-log", "kind": "log"})

    assert refused.status_code == 409, refused.text
    assert "SHIPWISE_SECRET_KEY" in refused.json()["error"]["message"]
    assert taken.status_code == 201, taken.text
    assert not (tmp_path / "secret.key").exists()


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [
        ("recipients", ["ops@example.com\rBcc: spy@evil.example"], "settings.recipients[0]"),
        ("from", "shipwise@example.com\u2028Bcc: spy@evil.example", "settings.from"),
    ],
    ids=["recipient-with-cr", "from-with-line-separator"],
)
def test_create_email_channel__an_address_with_a_line_break__is_422_naming_it(
    admin: httpx.Client, setting: str, value: object, field: str
) -> None:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 25,
        "security": "none",
        "from": "shipwise@example.com",
        "recipients": ["ops@example.com"],
        setting: value,
    }

    response = admin.post(CHANNELS, json={"name": "mail", "kind": "email", "settings": settings})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert admin.get(CHANNELS).json()["channels"] == []
