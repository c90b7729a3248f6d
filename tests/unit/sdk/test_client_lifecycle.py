"""Building, readying and closing a ``Client``: misconfiguration raises at once and names
the culprit; offline clients are ready and have nothing to close; a flag counted while
unknown and again once it arrived is one flag."""

from __future__ import annotations

from typing import Any

import pytest

from shipwise import Client, FlagExposure, Snapshot


def _document(*flags: str) -> dict[str, Any]:
    return {
        "format": "shipwise-snapshot",
        "version": 1,
        "flags": [{"key": flag, "enabled": True} for flag in flags],
    }


@pytest.mark.parametrize(
    ("arguments", "culprit"),
    [
        pytest.param({"url": "flags.example.com", "sdk_key": "k"}, "url", id="no scheme"),
        pytest.param({"url": "ftp://flags.example.com", "sdk_key": "k"}, "url", id="ftp"),
        pytest.param({"url": "http://flags.example.com"}, "sdk_key", id="no key"),
        pytest.param(
            {"url": "http://flags.example.com", "sdk_key": " "}, "sdk_key", id="blank key"
        ),
        pytest.param(
            {"url": "http://x", "sdk_key": "k", "refresh_interval": 0}, "refresh_interval", id="0 s"
        ),
        pytest.param({"url": "http://x", "sdk_key": "k", "timeout": -1}, "timeout", id="timeout"),
        pytest.param(
            {"url": "http://x", "sdk_key": "k", "metrics_interval": 0},
            "metrics_interval",
            id="metrics 0 s",
        ),
        pytest.param(
            {"url": "http://x", "sdk_key": "k", "app_name": "a" * 201}, "app_name", id="name"
        ),
    ],
)
def test_client__misconfigured__raises_value_error_naming_the_setting(
    arguments: dict[str, Any], culprit: str
) -> None:
    with pytest.raises(ValueError, match=culprit):
        Client(**arguments)


def test_client__neither_server_nor_snapshot__raises_type_error_saying_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"Client\(url, sdk_key\)"):
        Client()


def test_client__snapshot_passed_as_url__raises_type_error_saying_to_name_it() -> None:
    snapshot = Snapshot.load(_document("a"))
    with pytest.raises(TypeError, match=r"Client\(snapshot=\.\.\.\)"):
        Client(snapshot)  # type: ignore[arg-type]  # the old positional form


def test_client__key_without_url__raises_type_error() -> None:
    snapshot = Snapshot.load(_document("a"))
    with pytest.raises(TypeError, match="url"):
        Client(snapshot=snapshot, sdk_key="sw_srv_x")


def test_client__snapshot_only__is_an_offline_client_that_is_ready() -> None:
    client = Client(snapshot=Snapshot.load(_document("a")))
    assert client.wait_until_ready(0) is True
    assert client.is_enabled("a") is True


def test_offline_client__close_and_context_manager__do_nothing_harmful() -> None:
    with Client.offline(_document("a")) as client:
        assert client.is_enabled("a") is True
    client.close()
    assert client.is_enabled("a") is True  # evaluation outlives close


def test_exposures__flag_asked_for_before_and_after_it_arrived__are_added_up() -> None:
    # Given a client that does not know "late" yet, asked for it twice
    client = Client.offline(_document("a"))
    client.is_enabled("late")
    client.is_enabled("late", default=True)
    # When a snapshot with "late" arrives and it is asked for again
    client._replace(Snapshot.load(_document("a", "late")))
    client.is_enabled("late")
    # Then the exposures count all three, and it is no longer an unknown flag
    assert client.exposures()["late"] == FlagExposure(yes=2, no=1)
    assert client.unknown_flags() == []


def test_replace__tells_listeners_the_previous_and_new_snapshot() -> None:
    client = Client.offline(_document("a"))
    first = client.snapshot
    seen: list[tuple[Snapshot, Snapshot]] = []
    client._subscribe(lambda previous, new: seen.append((previous, new)))
    second = Snapshot.load(_document("a", "b"))
    client._replace(second)
    assert seen == [(first, second)]
    assert client.snapshot is second
