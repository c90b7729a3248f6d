"""``Client.announcements(context)`` and ``Client.dismiss_announcement`` against a real
server: a user whose flag is on sees the announcement and one whose flag is off does
not; after a dismissal that user does not, another still does; outside the window (the
client's clock, given as ``at``) nobody does; and a server that is gone raises nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.announcements import START, Keys, announce, seed
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

from shipwise import Client

INSIDE = START + timedelta(hours=2)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path / "server", clock=ManualClock(START)) as running:
        yield running


@pytest.fixture
def keys(server: RunningServer) -> Keys:
    return seed(server)


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


@pytest.fixture
def client(server: RunningServer, keys: Keys) -> Iterator[Client]:
    with Client(server.url, keys.server, metrics_interval=None, stream=False) as online:
        assert online.wait_until_ready(10)
        yield online


def _ids(client: Client, user: str, at: object = INSIDE) -> list[int]:
    return [a.id for a in client.announcements({"userId": user}, at=at)]  # type: ignore[arg-type]


def test_announcements__flag_on_sees_it__flag_off_does_not__outside_the_window_nobody_does(
    admin: httpx.Client, client: Client
) -> None:
    made = announce(admin)

    [shown] = client.announcements({"userId": "u-on"}, at=INSIDE)

    assert (shown.id, shown.title, shown.flag, shown.release) == (
        made["id"],
        "A faster checkout",
        "new-checkout",
        "rel-1",
    )
    assert shown.html == made["html"]
    assert "<script" not in shown.html
    assert _ids(client, "u-off") == []
    assert _ids(client, "u-on", at=START) == []  # before it starts
    assert _ids(client, "u-on", at=START + timedelta(days=1)) == []  # its end is exclusive


def test_dismiss_announcement__hides_it_from_that_user_only_here_and_in_a_new_client(
    server: RunningServer, keys: Keys, admin: httpx.Client, client: Client
) -> None:
    made = announce(admin)["id"]
    assert _ids(client, "u-on") == [made]

    assert client.dismiss_announcement(made, {"userId": "u-on"}) is True

    assert _ids(client, "u-on") == []
    assert _ids(client, "u-other") == [made]
    with Client(server.url, keys.server, metrics_interval=None, stream=False) as fresh:
        assert fresh.wait_until_ready(10)
        assert _ids(fresh, "u-on") == []  # the server remembered it
        assert _ids(fresh, "u-other") == [made]


def test_dismiss_announcement__without_a_user_id__records_nothing_and_says_so(
    admin: httpx.Client, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    made = announce(admin)["id"]

    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        assert client.dismiss_announcement(made, {"sessionId": "s"}) is False

    assert "needs a context with a userId" in caplog.text
    assert _ids(client, "u-on") == [made]


def test_announcements__server_gone__returns_what_it_had_and_raises_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_server(data_dir=tmp_path / "gone", clock=ManualClock(START)) as server:
        keys = seed(server)
        with server.admin() as admin:
            made = announce(admin)["id"]
        online = Client(
            server.url, keys.server, metrics_interval=None, stream=False, refresh_interval=1e-9
        )
        assert online.wait_until_ready(10)
        assert _ids(online, "u-on") == [made]
    try:  # the server is gone; every call now fetches again (the interval is ~0)
        with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
            assert _ids(online, "u-on") == [made]  # the last list it fetched
            assert online.dismiss_announcement(made, {"userId": "u-on"}) is False

        assert _ids(online, "u-on") == []  # remembered here all the same
        assert "shipwise: announcements: cannot connect" in caplog.text
    finally:
        online.close()


def test_announcements__offline_client__has_none() -> None:
    offline = Client.from_unleash({"version": 2, "features": []})

    assert offline.announcements({"userId": "u-on"}) == []
    assert offline.dismiss_announcement(1, {"userId": "u-on"}) is False
