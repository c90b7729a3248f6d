"""The dashboard's address notifications link under: ``SHIPWISE_PUBLIC_URL``, else the
server's own ``http://host:port``; an address that is not absolute http(s) is refused
at start, naming the variable."""

from __future__ import annotations

import pytest

from shipwise.server.settings import Settings


def test_dashboard_url__without_a_public_url__is_the_servers_own_address() -> None:
    assert Settings(host="127.0.0.1", port=4343).dashboard_url == "http://127.0.0.1:4343"
    assert Settings(host="::1", port=4242).dashboard_url == "http://[::1]:4242"


def test_dashboard_url__from_shipwise_public_url__drops_the_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHIPWISE_PUBLIC_URL", "https://ship.example.com/")

    assert Settings.from_environment().dashboard_url == "https://ship.example.com"


@pytest.mark.parametrize("value", ["ship.example.com", "ftp://ship.example.com", "https://"])
def test_from_environment__when_the_public_url_is_not_an_http_address__refuses_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SHIPWISE_PUBLIC_URL", value)

    with pytest.raises(ValueError, match="SHIPWISE_PUBLIC_URL must be an absolute http"):
        Settings.from_environment()
