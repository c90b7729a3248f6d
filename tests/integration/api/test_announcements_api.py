"""In-app announcements over HTTP, on SQLite and PostgreSQL: made and ended through the
admin API, served to browsers by the frontend API (a frontend key) and to server SDKs by
the SDK API (a server key), each user's dismissals remembered across both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tests.integration.api.helpers import newest_audit_id
from tests.support.announcements import ANNOUNCEMENTS, START, Keys, announce, seed
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

FRONTEND = "/api/frontend/announcements"
SDK = "/sdk/v1/announcements"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def server(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as running:
        yield running


@pytest.fixture
def keys(server: RunningServer) -> Keys:
    return seed(server)


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


def _client(server: RunningServer, secret: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": secret}, timeout=10)


def _seen(browser: httpx.Client, user: str) -> list[int]:
    response = browser.get(FRONTEND, params={"userId": user})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    return [a["id"] for a in response.json()["announcements"]]


def test_admin_api__create_list_show_end__round_trips_with_sanitised_html_and_state(
    server: RunningServer, keys: Keys, admin: httpx.Client, clock: ManualClock
) -> None:
    made = announce(admin)

    assert made["html"] == "<p>Pay in <strong>one</strong> step.</p>"
    assert (made["state"], made["environment"], made["release"]) == (
        "scheduled",
        "staging",
        "rel-1",
    )
    assert [a["id"] for a in admin.get(ANNOUNCEMENTS).json()["announcements"]] == [made["id"]]
    clock.advance(hours=2)
    assert admin.get(f"{ANNOUNCEMENTS}/{made['id']}").json()["state"] == "showing"
    ended = admin.post(f"{ANNOUNCEMENTS}/{made['id']}/end")
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] == "ended"
    assert ended.json()["ends_at"] == clock.now.isoformat()
    again = admin.post(f"{ANNOUNCEMENTS}/{made['id']}/end")
    assert again.status_code == 409


def test_admin_api__bad_input__is_a_422_naming_the_field_and_changes_nothing(
    server: RunningServer, keys: Keys, admin: httpx.Client
) -> None:
    before = newest_audit_id(admin)
    for fields, field in [
        ({"flag": "search"}, "flag"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"ends_at": START.isoformat()}, "ends_at"),
        ({"title": "x" * 121}, "title"),
        ({"body": "\x00"}, "body"),
    ]:
        body = {
            "flag": "new-checkout",
            "title": "t",
            "body": "b",
            "starts_at": (START - timedelta(hours=1)).isoformat(),
            "ends_at": (START + timedelta(hours=1)).isoformat(),
        } | fields
        response = admin.post(ANNOUNCEMENTS, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field, response.text
    assert newest_audit_id(admin) == before
    assert admin.get(ANNOUNCEMENTS).json()["announcements"] == []


def test_frontend_api__flag_on_sees_it__flag_off_does_not__dismissed_does_not__others_still_do(
    server: RunningServer, keys: Keys, admin: httpx.Client, clock: ManualClock
) -> None:
    made = announce(admin)["id"]
    with _client(server, keys.frontend) as browser:
        assert _seen(browser, "u-on") == []  # before its window
        clock.advance(hours=1)
        assert _seen(browser, "u-on") == [made]
        assert _seen(browser, "u-off") == []

        dismissed = browser.post(f"{FRONTEND}/{made}/dismiss", json={"userId": "u-on"})

        assert dismissed.status_code == 200, dismissed.text
        assert dismissed.json() == {"dismissed": True, "new": True}
        assert _seen(browser, "u-on") == []
        assert _seen(browser, "u-other") == [made]
        clock.advance(days=1)
        assert _seen(browser, "u-other") == []  # after its window


def test_sdk_api__lists_what_is_not_over_with_an_etag_and_shares_dismissals_with_browsers(
    server: RunningServer, keys: Keys, admin: httpx.Client
) -> None:
    made = announce(admin)
    with _client(server, keys.server) as sdk, _client(server, keys.frontend) as browser:
        listed = sdk.get(SDK)
        assert listed.status_code == 200, listed.text
        [item] = listed.json()["announcements"]
        assert (item["id"], item["flag"], item["body"]) == (made["id"], made["flag"], made["body"])
        assert sdk.get(SDK, headers={"If-None-Match": listed.headers["etag"]}).status_code == 304

        browser.post(f"{FRONTEND}/{made['id']}/dismiss", json={"context": {"userId": "u-on"}})
        answer = sdk.get(f"{SDK}/dismissals", params={"userId": "u-on"}).json()
        assert answer == {"userId": "u-on", "dismissed": [made["id"]]}
        posted = sdk.post(f"{SDK}/{made['id']}/dismiss", json={"userId": "u-other"})
        assert posted.json() == {"dismissed": True, "new": True}
        assert _seen(browser, "u-other") == []  # what an SDK recorded, the browser knows

        assert browser.get(SDK).status_code == 403  # a frontend key reads no SDK route
        assert sdk.get(FRONTEND).status_code == 403


def test_remove__forgets_it_and_its_dismissals(
    server: RunningServer, keys: Keys, admin: httpx.Client
) -> None:
    made = announce(admin)["id"]
    with _client(server, keys.server) as sdk:
        sdk.post(f"{SDK}/{made}/dismiss", json={"userId": "u-on"})

        removed = admin.delete(f"{ANNOUNCEMENTS}/{made}")

        assert removed.status_code == 200, removed.text
        assert sdk.get(SDK).json() == {"announcements": []}
        assert admin.get(f"{ANNOUNCEMENTS}/{made}").status_code == 404
        gone = sdk.post(f"{SDK}/{made}/dismiss", json={"userId": "u-on"})
        assert gone.status_code == 404


def test_frontend_dismiss__of_another_environments_announcement__is_a_404(
    server: RunningServer, keys: Keys, admin: httpx.Client
) -> None:
    elsewhere = announce(admin, environment="dev")["id"]  # the key is staging's
    with _client(server, keys.frontend) as browser:
        response = browser.post(f"{FRONTEND}/{elsewhere}/dismiss", json={"userId": "u-on"})

    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "*"
