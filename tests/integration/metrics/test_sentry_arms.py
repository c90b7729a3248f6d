"""``SentrySource`` with ``split: flag`` over HTTP: Sentry's Discover events API counts the
errors whose recorded flag was on and off, against a stand-in that stores events as a
real ``sentry_sdk`` sends them and applies the ``flags[...]`` search filter
(``tests/support/sentry_standin.py``, ``sentry_events.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sentry_sdk
from tests.support.local_http import closed_port_url
from tests.support.sentry_standin import SentryStandin, sentry_standin

from shipwise import Client
from shipwise.domain.guardrails import ArmCounts
from shipwise.server.metrics.sentry import SentrySource
from shipwise.server.metrics.sentry_arms import flag_query
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

TOKEN = "sntryu_a-real-looking-secret"
SHOP, BACKOFFICE = 4504112277, 4504112288
TEN = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
FLAG = "new-checkout"


@pytest.fixture
def sentry() -> Iterator[SentryStandin]:
    with sentry_standin(TOKEN, "acme", (SHOP, BACKOFFICE)) as standin:
        yield standin


def _read(
    url: str, window: MetricWindow | None = None, token: str = TOKEN, **settings: Any
) -> ArmCounts:
    settings = {"url": url, "organization": "acme", "token": token, "split": "flag", **settings}
    definition = MetricDefinition(1, "checkout-errors", "sentry", settings)
    counts = SentrySource(timeout=5, environ={}).read(
        definition, window or _window(TEN, TEN + timedelta(minutes=30))
    )
    assert isinstance(counts, ArmCounts)
    return counts


def _window(start: datetime, end: datetime, flag: str = FLAG) -> MetricWindow:
    return MetricWindow("shop", "production", flag, start, end)


def test_read__errors_in_the_window__are_counted_per_arm_of_the_flag(
    sentry: SentryStandin,
) -> None:
    # Given errors with the flag on and off inside 10:00-10:30, and others that must not count
    for minute in (1, 5, 29):
        sentry.add_event(TEN + timedelta(minutes=minute), {FLAG: True, "dark-mode": False})
    sentry.add_event(TEN + timedelta(minutes=2), {FLAG: False})
    sentry.add_event(TEN - timedelta(seconds=1), {FLAG: True})  # before the window
    sentry.add_event(TEN + timedelta(minutes=30), {FLAG: False})  # at its (exclusive) end
    sentry.add_event(TEN + timedelta(minutes=3), {"dark-mode": True})  # flag never asked
    sentry.add_event(TEN + timedelta(minutes=4), {FLAG: True}, project=BACKOFFICE)

    # When the shop project's errors are read per arm
    counts = _read(sentry.url, project=SHOP)

    # Then each arm counts its own
    assert counts == ArmCounts(with_feature=3, without=1)


def test_read__sends_the_documented_queries(sentry: SentryStandin) -> None:
    _read(sentry.url, project=[SHOP, BACKOFFICE], environment="{environment}")

    assert [request.path for request in sentry.requests] == [
        "/api/0/organizations/acme/events/"
    ] * 2
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in sentry.requests)
    common = {
        "field": ["count()"],
        "dataset": ["errors"],
        "start": ["2025-03-03T10:00:00Z"],
        "end": ["2025-03-03T10:30:00Z"],
        "project": [str(SHOP), str(BACKOFFICE)],
        "environment": ["production"],
    }
    assert [request.query for request in sentry.requests] == [
        {**common, "query": ['flags["new-checkout"]:true']},
        {**common, "query": ['flags["new-checkout"]:false']},
    ]


def test_read__environment_and_extra_query__narrow_both_arms(sentry: SentryStandin) -> None:
    at = TEN + timedelta(minutes=1)
    sentry.add_event(at, {FLAG: True}, level="fatal", tags={"region": "eu"})
    sentry.add_event(at, {FLAG: True}, level="error", tags={"region": "eu"})
    sentry.add_event(at, {FLAG: False}, level="fatal", tags={"region": "us"})
    sentry.add_event(at, {FLAG: False}, level="fatal", environment="staging")

    counts = _read(sentry.url, environment="production", query="level:fatal OR region:us")

    # (level:fatal OR region:us) AND the arm: the extra query's OR stays inside it
    assert counts == ArmCounts(with_feature=1, without=1)


@pytest.mark.parametrize("flag", ["checkout.v2(beta)!", "it's~*new*", "a-b_c.d"])
def test_read__flag_names_with_searchs_special_characters__are_quoted(
    sentry: SentryStandin, flag: str
) -> None:
    at = TEN + timedelta(minutes=1)
    sentry.add_event(at, {flag: True})
    sentry.add_event(at, {flag: False})
    sentry.add_event(at, {flag: False})
    sentry.add_event(at, {"checkout": True, "it's~xnewx": True})  # what a wildcard would catch

    counts = _read(sentry.url, window=_window(TEN, TEN + timedelta(minutes=30), flag))

    assert counts == ArmCounts(with_feature=1, without=2)
    assert sentry.requests[0].query["query"] == [f'flags["{flag}"]:true']


def test_flag_query__quotes_and_backslashes__are_escaped() -> None:
    assert flag_query('say "hi"\\', True) == r'flags["say \"hi\"\\"]:true'
    assert flag_query("new-checkout", False) == 'flags["new-checkout"]:false'


def test_read__no_error_in_either_arm__counts_zero(sentry: SentryStandin) -> None:
    assert _read(sentry.url) == ArmCounts(with_feature=0, without=0)


@pytest.mark.parametrize(
    ("token", "organization", "project", "expected"),
    [
        ("sntryu_wrong", "acme", SHOP, r"401 Unauthorized: Invalid token \(check the auth token"),
        (TOKEN, "globex", SHOP, r"404 Not Found: .*check url and organization"),
        (TOKEN, "acme", 999, r"403 Forbidden: .*may not read this organization"),
    ],
    ids=["wrong-token", "other-organization", "other-project"],
)
def test_read__refused__unavailable_with_sentrys_words_and_a_hint(
    sentry: SentryStandin, token: str, organization: str, project: int, expected: str
) -> None:
    with pytest.raises(MetricUnavailable, match=expected) as raised:
        _read(sentry.url, token=token, organization=organization, project=project)

    assert "/api/0/organizations/" in str(raised.value)
    assert token not in str(raised.value)


def test_read__sentry_down__unavailable_naming_the_url() -> None:
    url = closed_port_url()

    with pytest.raises(MetricUnavailable, match="cannot connect to"):
        _read(url)


def test_read__sentry_answers_503__unavailable_with_the_status(sentry: SentryStandin) -> None:
    sentry.down = True

    with pytest.raises(MetricUnavailable, match="503 Service Unavailable"):
        _read(sentry.url)


SNAPSHOT: dict[str, Any] = {
    "format": "shipwise-snapshot",
    "version": 1,
    "flags": [
        {
            "key": FLAG,
            "enabled": True,
            "strategies": [{"name": "userWithId", "parameters": {"userIds": "u1,u2,u3"}}],
        },
    ],
}


@pytest.fixture
def sentry_client(sentry: SentryStandin) -> Iterator[SentryStandin]:
    """A real ``sentry_sdk`` client sending over HTTP to the stand-in's DSN."""
    sentry_sdk.init(
        dsn=sentry.dsn(SHOP),
        default_integrations=False,
        auto_enabling_integrations=False,  # they would patch httpx for every later test
        environment="production",
    )
    try:
        yield sentry
    finally:
        sentry_sdk.get_client().close()
        # No DSN: a client that sends nothing, for the tests after this; and no
        # integrations, which would patch httpx and more for the rest of the process.
        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


def test_real_sentry_sdk__errors_after_shipwise_evaluations__are_counted_per_arm(
    sentry_client: SentryStandin,
) -> None:
    # Given a Shipwise client recording its evaluations in Sentry's flag context, and users
    # failing with the feature (u1, u2) and without it (u7)
    client = Client.offline(SNAPSHOT, sentry=True)
    before = datetime.now(UTC) - timedelta(minutes=1)
    for user in ("u1", "u2", "u7", "u8"):
        with sentry_sdk.isolation_scope():
            enabled = client.is_enabled(FLAG, {"userId": user})
            if user != "u8":  # u8 evaluates the flag and does not fail
                try:
                    raise RuntimeError(f"checkout failed for {user} ({enabled})")
                except RuntimeError as error:
                    sentry_sdk.capture_exception(error)
    with sentry_sdk.isolation_scope():  # an error in code that never asked the flag
        sentry_sdk.capture_message("unrelated", level="error")
    sentry_sdk.flush()

    # When Shipwise reads the errors per arm for the window around them
    window = _window(before, datetime.now(UTC) + timedelta(minutes=1))
    counts = _read(sentry_client.url, window=window, project=SHOP)

    # Then Sentry received all four events over HTTP, and counts two with, one without
    assert len(sentry_client.events.events) == 4
    assert counts == ArmCounts(with_feature=2, without=1)
    assert client.exposures()[FLAG].yes == 2
    assert client.exposures()[FLAG].no == 2
