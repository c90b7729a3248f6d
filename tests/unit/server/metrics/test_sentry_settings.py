"""``SentrySource.problems``: a definition's Sentry settings, checked before it is saved."""

from __future__ import annotations

from typing import Any

import pytest

from shipwise.server.metrics.sentry import SentrySource

ENVIRON = {"SENTRY_AUTH_TOKEN": "sntryu_secret"}
GOOD = {"organization": "acme", "token_env": "SENTRY_AUTH_TOKEN"}
INTERVALS = "1m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d"
OUTCOMES = "accepted, filtered, rate_limited, invalid, abuse, client_discard, cardinality_limited"


def _problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    return SentrySource(environ=ENVIRON).problems(settings)


@pytest.mark.parametrize(
    "settings",
    [
        GOOD,
        {"organization": "acme", "token": "sntryu_secret"},
        {
            **GOOD,
            "url": "https://sentry.internal.example.com",
            "project": [4504112277, "4504112288"],
            "category": "transaction",
            "outcome": "rate_limited",
            "interval": "15m",
        },
        {**GOOD, "project": 4504112277, "interval": "1d"},
    ],
    ids=["token-env", "token", "everything", "one-project"],
)
def test_problems__good_settings__none(settings: dict[str, Any]) -> None:
    assert _problems(settings) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {},
            [
                ("organization", "required: the organization's slug, as in its Sentry URL"),
                (
                    "token_env",
                    "required: the name of an environment variable holding a Sentry auth "
                    "token with the org:read scope, e.g. SENTRY_AUTH_TOKEN",
                ),
            ],
        ),
        (
            {**GOOD, "organization": "Acme Corp"},
            [("organization", "write the organization's slug: letters, digits, - and _")],
        ),
        (
            {**GOOD, "token": "sntryu_secret"},
            [("token", "set token_env or token, not both (token_env is better)")],
        ),
        (
            {**GOOD, "token_env": "MISSING_TOKEN"},
            [("token_env", "the environment variable MISSING_TOKEN is not set on this server")],
        ),
        (
            {**GOOD, "token_env": "sentry-token"},
            [("token_env", "write the name of an environment variable, e.g. SENTRY_AUTH_TOKEN")],
        ),
        (
            {"organization": "acme", "token": ""},
            [("token", "write the auth token as text (better: set token_env instead)")],
        ),
        ({**GOOD, "outcome": "dropped"}, [("outcome", f"write one of {OUTCOMES}")]),
        (
            {**GOOD, "category": "Errors"},
            [("category", "write a Sentry data category: error, transaction, attachment, ...")],
        ),
        (
            {**GOOD, "project": "shop"},
            [("project", "write a Sentry project id (a number) or a list of ids")],
        ),
        (
            {**GOOD, "project": []},
            [("project", "write a Sentry project id (a number) or a list of ids")],
        ),
        (
            {**GOOD, "url": "https://{environment}.sentry.example.com"},
            [
                (
                    "url",
                    "Sentry's stats cannot filter by flag, environment or project name: "
                    "write the URL itself, without placeholders",
                )
            ],
        ),
        (
            {**GOOD, "environment": "production"},
            [
                (
                    "environment",
                    "unknown setting; the settings are url, organization, project, category, "
                    "outcome, interval, token, token_env",
                )
            ],
        ),
    ],
    ids=[
        "empty",
        "organization-not-a-slug",
        "two-tokens",
        "token-variable-unset",
        "token-variable-name",
        "token-empty",
        "outcome",
        "category",
        "project-name",
        "project-empty-list",
        "placeholder",
        "unknown-setting",
    ],
)
def test_problems__wrong_settings__say_what_to_write(
    settings: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert _problems(settings) == expected


@pytest.mark.parametrize("interval", ["7m", "90s", "2d", "0h", "1w", "h", 60])
def test_problems__interval_not_dividing_a_day__lists_the_ones_that_do(interval: Any) -> None:
    expected = f"write minutes, hours or a day that divide a day evenly: {INTERVALS}"

    assert _problems({**GOOD, "interval": interval}) == [("interval", expected)]
