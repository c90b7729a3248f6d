"""``ZendeskSource`` over HTTP against a stand-in that speaks Zendesk's search count API
and checks its API-token basic authentication (``tests/support/zendesk_standin.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.local_http import Reply, closed_port_url
from tests.support.zendesk_standin import ZendeskStandin, zendesk_standin

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics.zendesk import ZendeskSource
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

EMAIL = "ops@example.com"
TOKEN = "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
TOKEN_ENV = "SHIPWISE_TEST_ZENDESK_TOKEN"
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def zendesk(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZendeskStandin]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with zendesk_standin(EMAIL, TOKEN) as standin:
        yield standin


def _read(url: str, window: MetricWindow | None = None, **settings: Any) -> Reading:
    settings = {
        "url": url,
        "email": EMAIL,
        "token_env": TOKEN_ENV,
        "query": "tags:checkout",
        **settings,
    }
    definition = MetricDefinition(1, "checkout-tickets", "zendesk", settings)
    return ZendeskSource(timeout=5).read(
        definition, window or _window(NINE, NINE + timedelta(hours=1))
    )


def _window(start: datetime, end: datetime, flag: str = "new-checkout") -> MetricWindow:
    return MetricWindow("shop", "production", flag, start, end)


def test_read__tickets_created_in_the_window__are_counted(zendesk: ZendeskStandin) -> None:
    # Given checkout tickets inside 9:00-10:00, at its edges, and one about something else
    zendesk.add(NINE, "checkout")
    zendesk.add(NINE + timedelta(minutes=59, seconds=59), "checkout", "vip")
    zendesk.add(NINE - timedelta(seconds=1), "checkout")
    zendesk.add(NINE + timedelta(hours=1), "checkout")  # the next window's
    zendesk.add(NINE + timedelta(minutes=5), "billing")

    # When the metric is read for 9:00-10:00
    reading = _read(zendesk.url)

    # Then the two checkout tickets created inside it count: the start is in, the end out
    assert reading == Reading(2.0)


def test_read__sends_the_window_in_the_query_with_the_api_token(zendesk: ZendeskStandin) -> None:
    _read(zendesk.url, _window(NINE, NINE + timedelta(minutes=30, microseconds=5)))

    (request,) = zendesk.requests
    assert request.path == "/api/v2/search/count"
    assert zendesk.queries == [
        "type:ticket tags:checkout created>=2026-11-02T09:00:00Z created<2026-11-02T09:30:00Z"
    ]
    # Zendesk's API-token scheme: basic auth of "ops@example.com/token:<token>"
    assert request.headers["authorization"] == (
        "Basic b3BzQGV4YW1wbGUuY29tL3Rva2VuOjZ3aUlCV2JHa0JNbzFtUkRNdVZ3a3cxRVBzTmtlVWo5NVBJejJha3Y="
    )


def test_read__placeholders__name_the_flag_as_one_search_term(zendesk: ZendeskStandin) -> None:
    # Given tickets tagged with the flag's name, and words that merely resemble it
    zendesk.add(NINE + timedelta(minutes=1), "new-checkout")
    zendesk.add(NINE + timedelta(minutes=2), subject="the odd checkout (beta) is slow")
    zendesk.add(NINE + timedelta(minutes=3), subject="checkout is slow")

    assert _read(zendesk.url, query="tags:{flag}") == Reading(1.0)
    odd = _window(NINE, NINE + timedelta(hours=1), flag="checkout (beta)")
    assert _read(zendesk.url, odd, query="{flag} slow") == Reading(1.0)
    assert str(zendesk.queries[-1]).startswith('type:ticket "checkout (beta)" slow created>=')


def test_read__no_tickets__is_a_count_of_zero(zendesk: ZendeskStandin) -> None:
    assert _read(zendesk.url) == Reading(0.0)


def test_read__token_in_the_settings__is_sent(zendesk: ZendeskStandin) -> None:
    zendesk.add(NINE, "checkout")
    settings = {"url": zendesk.url, "email": EMAIL, "token": TOKEN, "query": "tags:checkout"}
    definition = MetricDefinition(1, "tickets", "zendesk", settings)

    assert ZendeskSource().read(definition, _window(NINE, NINE + timedelta(hours=1))) == Reading(
        1.0
    )


def test_read__token_refused__names_the_credentials_never_the_token(
    zendesk: ZendeskStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the variable holds a token Zendesk does not know
    monkeypatch.setenv(TOKEN_ENV, "revoked-secret")

    with pytest.raises(MetricUnavailable) as raised:
        _read(zendesk.url)

    message = str(raised.value)
    assert f"Zendesk: {zendesk.url}/api/v2/search/count answered 401 Unauthorized" in message
    assert "Couldn't authenticate you" in message
    assert "check email and the API token" in message
    assert "revoked-secret" not in message


def test_read__another_email__is_refused_too(zendesk: ZendeskStandin) -> None:
    with pytest.raises(MetricUnavailable, match="answered 401 Unauthorized"):
        _read(zendesk.url, email="someone@example.com")


def test_read__token_variable_unset__names_the_variable_without_asking(
    zendesk: ZendeskStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)

    with pytest.raises(MetricUnavailable, match=f"environment variable {TOKEN_ENV} is not set"):
        _read(zendesk.url)
    assert zendesk.requests == []


def test_read__rate_limited__is_unavailable_and_says_so(zendesk: ZendeskStandin) -> None:
    zendesk.answer_with = Reply(
        429,
        {"error": "TooManyRequests", "description": "Rate limit exceeded"},
        headers={"Retry-After": "42"},
    )

    with pytest.raises(MetricUnavailable) as raised:
        _read(zendesk.url)

    message = str(raised.value)
    assert "answered 429 Too Many Requests: TooManyRequests: Rate limit exceeded" in message
    assert "the next check asks again" in message


def test_read__rate_limited_with_a_text_body__is_unavailable(zendesk: ZendeskStandin) -> None:
    zendesk.answer_with = Reply(429, raw=b"Too many requests", content_type="text/plain")

    with pytest.raises(MetricUnavailable, match="answered 429 Too Many Requests with text/plain"):
        _read(zendesk.url)


def test_read__server_error__is_unavailable_with_zendesks_words(zendesk: ZendeskStandin) -> None:
    zendesk.answer_with = Reply(500, {"error": {"title": "Internal", "message": "try later"}})

    with pytest.raises(
        MetricUnavailable, match="answered 500 Internal Server Error: Internal: try"
    ):
        _read(zendesk.url)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(200, raw=b"<html>Help Center</html>", content_type="text/html"),
            "answered 200 OK with text/html, not JSON",
        ),
        (Reply(200, {"results": []}), "with an object (fields: results), expected Zendesk's"),
        (Reply(200, {"count": "7"}), "with an object (fields: count), expected Zendesk's"),
        (Reply(200, {"count": -1}), "with an object (fields: count), expected Zendesk's"),
        (Reply(200, [3]), "with a list of 1, expected Zendesk's search count"),
    ],
    ids=["html", "no-count", "count-as-text", "negative", "list"],
)
def test_read__an_answer_without_a_count__is_unavailable(
    zendesk: ZendeskStandin, reply: Reply, expected: str
) -> None:
    zendesk.answer_with = reply

    with pytest.raises(MetricUnavailable, match=re.escape(expected)):
        _read(zendesk.url)


def test_read__a_query_zendesk_refuses__surfaces_its_description(zendesk: ZendeskStandin) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(zendesk.url, query="priority>high")

    message = str(raised.value)
    assert "answered 400 Bad Request: unavailable: the stand-in does not search by" in message
    assert "check query" in message


def test_read__zendesk_down__is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    url = closed_port_url()

    with pytest.raises(MetricUnavailable, match=f"cannot connect to {url}/api/v2/search/count"):
        _read(url)


def test_read__settings_saved_before_they_were_checked__refused_without_asking(
    zendesk: ZendeskStandin,
) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(zendesk.url, query="type:user tags:checkout")

    assert str(raised.value).startswith(
        "the Zendesk 'checkout-tickets' metric's settings are wrong: query: leave out type"
    )
    assert zendesk.requests == []
