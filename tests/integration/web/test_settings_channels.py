"""Notification channels on a project's settings page, through a real server and the
real sign-in, on SQLite and PostgreSQL: added from the page (listed with which secrets
are set, never a value, on no page, not even a refused form's), tested against a Slack
stand-in on loopback with what it answered, refused beside the field (422) or in place
(409), and removed after confirming; a viewer sees them without a control."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.web.release_pages import API, Form, Page, World, read
from tests.integration.web.settings_pages import SETTINGS, post_forms, slack, team, words
from tests.support.slack_standin import SlackStandin

__all__ = ["slack", "team"]  # fixtures

CHANNELS_API = f"{API}/channels"


def channels(team: World) -> dict[str, dict[str, Any]]:
    response = team.admin.get(CHANNELS_API)
    assert response.status_code == 200, response.text
    return {c["name"]: c for c in response.json()["channels"]}


def channel_form(page: Page, kind: str) -> Form:
    """The add-a-channel form of ``kind`` (every kind's form posts to one action)."""
    found = [
        f
        for f in page.forms
        if f.action.endswith("/settings/channels") and f.fields["kind"] == kind
    ]
    assert len(found) == 1, [f.action for f in page.forms]
    return found[0]


def test_channels__a_slack_channel_added_and_tested_from_the_page__reaches_slack_and_says_so(
    team: World, slack: SlackStandin
) -> None:
    with team.person("rita") as rita:
        form = channel_form(read(rita.get(SETTINGS)), "slack")
        fields = {**form.fields, "name": "team", "webhook_url": slack.webhook_url}
        added = rita.post(form.action, data=fields)
        listed = rita.get(added.headers["location"])
        test = read(listed).form("/settings/channels/team/test")
        tested = rita.post(test.action, data=test.fields)

    assert added.status_code == 303, added.text
    assert channels(team)["team"]["secrets"] == ["webhook_url"]
    text = words(listed)
    assert "Added the slack channel team" in text
    assert "webhook_url" in text  # which secret is set ...
    assert tested.status_code == 200, tested.text
    assert 'data-tested="team" data-ok="yes"' in tested.text
    assert "Sent a test message to team. The channel answered: Slack answered 200 ok" in words(
        tested
    )
    (post,) = slack.posts
    assert post.body["text"].startswith("Test message from Shipwise to channel team")
    for page in (added, listed, tested):
        assert slack.webhook_url not in page.text  # ... never its value
        assert "standin-webhook-secret-path" not in page.text


def test_channels__a_sentry_flags_channel_added_from_the_page__keeps_both_secrets_unshown(
    team: World,
) -> None:
    url = "https://sentry.example/api/0/organizations/acme/flags/hooks/provider/generic/"
    with team.person("rita") as rita:
        form = channel_form(read(rita.get(SETTINGS)), "sentry-flags")
        fields = {**form.fields, "name": "sentry", "url": url, "secret": "s3cret-signing"}
        added = rita.post(form.action, data=fields)
        listed = rita.get(added.headers["location"])

    assert added.status_code == 303, added.text
    assert channels(team)["sentry"]["kind"] == "sentry-flags"
    assert sorted(channels(team)["sentry"]["secrets"]) == ["secret", "url"]
    assert "Added the sentry-flags channel sentry" in words(listed)
    assert url not in listed.text
    assert "s3cret-signing" not in listed.text


def test_channels__a_test_the_channel_refuses__shows_what_it_answered(
    team: World, slack: SlackStandin
) -> None:
    body = {"name": "team", "kind": "slack", "secrets": {"webhook_url": slack.webhook_url}}
    assert team.admin.post(CHANNELS_API, json=body).status_code == 201
    slack.refuse(500)
    with team.person("ada") as ada:
        test = read(ada.get(SETTINGS)).form("/settings/channels/team/test")
        tested = ada.post(test.action, data=test.fields)

    assert tested.status_code == 200, tested.text
    assert 'data-tested="team" data-ok="no"' in tested.text
    text = words(tested)
    assert "The test message to team did not go out." in text
    assert "500 (internal_error)" in text
    assert slack.webhook_url not in tested.text


def test_channels__an_email_channel_with_a_bad_address__is_422_beside_it_without_the_password(
    team: World,
) -> None:
    password = "smtp-password-on-no-page-5d1e"
    with team.person("ada") as ada:
        form = channel_form(read(ada.get(SETTINGS)), "email")
        fields = {
            **form.fields,
            "name": "mail",
            "host": "smtp.example.com",
            "port": "587",
            "security": "tls",
            "user": "shipwise",
            "password": password,
            "from_address": "not an address",
            "recipients": "ops@example.com, qa@example.com",
        }
        refused = ada.post(form.action, data=fields)

    assert refused.status_code == 422, refused.text
    assert password not in refused.text
    assert 'id="error-channel-email-from_address"' in refused.text
    assert "settings.from must be an email address" in read(refused).text
    again = channel_form(read(refused), "email").fields
    assert again["host"] == "smtp.example.com"  # kept as typed ...
    assert again["from_address"] == "not an address"
    assert again["password"] == ""  # ... but the secret, typed again
    assert "selected>tls</option>" in refused.text
    assert channels(team) == {}


SECRET = "secret-f00d-on-no-page"


@pytest.mark.parametrize(
    ("kind", "typed", "field", "says"),
    [
        ("slack", {"webhook_url": f"ftp://hooks.example/{SECRET}"}, "webhook_url", "http://"),
        ("slack", {"token": f"xoxb-{SECRET}"}, "channel", "needs settings.channel"),
        ("slack", {}, "webhook_url", "one of the two"),
        ("webhook", {"url": f"https://hooks.example/{SECRET}"}, "secret", "HMAC key"),
        ("sentry-flags", {"url": f"https://sentry.example/{SECRET}"}, "secret", "secret"),
        ("log", {"name": "Not A Key"}, "name", "lowercase"),
        ("email", {"port": "99999999999", "password": SECRET}, "port", "1 to 65535"),
    ],
    ids=[
        "bad-webhook-url",
        "token-without-channel",
        "no-secret",
        "no-signing",
        "sentry-no-signing",
        "bad-name",
        "port",
    ],
)
def test_channels__a_form_the_service_refuses__is_422_beside_its_field_without_the_secret(
    team: World, kind: str, typed: dict[str, str], field: str, says: str
) -> None:
    with team.person("ada") as ada:
        form = channel_form(read(ada.get(SETTINGS)), kind)
        base = {"host": "h", "from_address": "a@example.com", "recipients": "b@example.com"}
        fields = {**form.fields, "name": "ch", **(base if kind == "email" else {}), **typed}
        refused = ada.post(form.action, data=fields)

    assert refused.status_code == 422, refused.text
    assert f'id="error-channel-{kind}-{field}"' in refused.text
    assert says in read(refused).text
    assert SECRET not in refused.text
    assert channels(team) == {}


def test_channels__a_name_already_taken__is_refused_in_place_409_changing_nothing(
    team: World,
) -> None:
    assert team.admin.post(CHANNELS_API, json={"name": "ops", "kind": "log"}).status_code == 201
    with team.person("rita") as rita:
        form = channel_form(read(rita.get(SETTINGS)), "webhook")
        secret = "whsec-never-on-a-page-77"
        fields = {**form.fields, "name": "ops", "url": "https://hooks.example/x", "secret": secret}
        refused = rita.post(form.action, data=fields)

    assert refused.status_code == 409, refused.text
    assert 'id="error-channel-webhook-name"' in refused.text
    assert "has a channel 'ops'" in read(refused).text
    assert secret not in refused.text
    assert channels(team)["ops"]["kind"] == "log"


def test_channels__removed_from_the_page_after_confirming__are_gone(team: World) -> None:
    assert team.admin.post(CHANNELS_API, json={"name": "ops", "kind": "log"}).status_code == 201
    with team.person("rita") as rita:
        listed = rita.get(SETTINGS)
        confirm_url = f"{SETTINGS}/channels/ops/remove"
        assert f'href="{confirm_url}"' in listed.text
        confirm = read(rita.get(confirm_url))
        assert "Remove the channel ops?" in confirm.text
        form = confirm.form("/channels/ops/remove")
        removed = rita.post(form.action, data=form.fields)
        after = rita.get(removed.headers["location"])

    assert removed.status_code == 303, removed.text
    assert "Removed the channel ops" in read(after).text
    assert 'data-channel="ops"' not in after.text
    assert channels(team) == {}


def test_channels__a_viewer_sees_them_without_controls__and_forged_posts_are_403(
    team: World, slack: SlackStandin
) -> None:
    body = {"name": "team", "kind": "slack", "secrets": {"webhook_url": slack.webhook_url}}
    assert team.admin.post(CHANNELS_API, json=body).status_code == 201
    mail = {
        "name": "mail",
        "kind": "email",
        "settings": {
            "host": "smtp.example.com",
            "port": 587,
            "from": "shipwise@example.com",
            "recipients": ["ops@example.com", "qa@example.com"],
        },
        "secrets": {"password": SECRET},
    }
    assert team.admin.post(CHANNELS_API, json=mail).status_code == 201
    with team.person("vic") as vic:
        page = vic.get(SETTINGS)
        csrf = read(page).form("/sign-out").fields["csrf_token"]
        forged = [
            vic.post(f"{SETTINGS}/channels", data={"csrf_token": csrf, "kind": "log", "name": "x"}),
            vic.post(f"{SETTINGS}/channels/team/test", data={"csrf_token": csrf}),
            vic.post(f"{SETTINGS}/channels/team/remove", data={"csrf_token": csrf}),
        ]
        confirm = vic.get(f"{SETTINGS}/channels/team/remove")

    assert page.status_code == 200
    assert 'data-channel="team"' in page.text
    text = read(page).text
    assert "webhook_url" in text
    assert "recipients = ops@example.com, qa@example.com" in text
    assert "security = starttls" in text
    assert slack.webhook_url not in page.text
    assert SECRET not in page.text
    assert post_forms(page.text) == ["/sign-out"]
    assert "/channels/team/remove" not in page.text
    for answer in forged:
        assert answer.status_code == 403, answer.text
        assert "text/html" in answer.headers["content-type"]
    assert "Admins and release managers remove channels" in read(confirm).text
    assert post_forms(confirm.text) == ["/sign-out"]
    assert sorted(channels(team)) == ["mail", "team"]
    assert slack.posts == []


def test_channels__a_post_without_the_csrf_token__is_403_and_adds_nothing(team: World) -> None:
    with team.person("ada") as ada:
        refused = ada.post(f"{SETTINGS}/channels", data={"kind": "log", "name": "ops"})

    assert refused.status_code == 403
    assert "CSRF token" in refused.text
    assert channels(team) == {}
