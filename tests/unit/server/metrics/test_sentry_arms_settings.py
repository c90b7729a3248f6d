"""``SentrySource.problems`` with ``split: flag``: the per-arm settings, checked before a
metric is saved, each problem naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from shipwise.server.metrics.sentry import SentrySource

ENVIRON = {"SENTRY_AUTH_TOKEN": "sntryu_secret"}
GOOD = {"organization": "acme", "token_env": "SENTRY_AUTH_TOKEN", "split": "flag"}


def _problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    return SentrySource(environ=ENVIRON).problems(settings)


@pytest.mark.parametrize(
    "settings",
    [
        GOOD,
        {
            **GOOD,
            "url": "https://sentry.internal.example.com",
            "project": [4504112277],
            "environment": "{environment}",
            "query": 'level:fatal !message:"timeout"',
        },
    ],
    ids=["least", "everything"],
)
def test_problems__good_split_settings__none(settings: dict[str, Any]) -> None:
    assert _problems(settings) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {**GOOD, "split": "arm"},
            [("split", "write flag (count each arm of the checked flag), or leave it out")],
        ),
        (
            {**GOOD, "interval": "1h", "outcome": "accepted"},
            [
                (
                    "outcome",
                    "not with split: flag; the events API counts error events at exact times",
                ),
                (
                    "interval",
                    "not with split: flag; the events API counts error events at exact times",
                ),
            ],
        ),
        ({**GOOD, "environment": ""}, [("environment", "write a non-empty text, not the text ''")]),
        (
            {**GOOD, "query": "release:{release}"},
            [
                (
                    "query",
                    "unknown placeholder {release}: write one of {flag}, {environment}, {project}",
                )
            ],
        ),
        (
            {**GOOD, "url": "https://sentry.io/{flag}"},
            [
                (
                    "url",
                    "Sentry's events API takes the flag and environment in the query: "
                    "write the URL itself, without placeholders",
                )
            ],
        ),
        (
            {**GOOD, "project": "shop"},
            [("project", "write a Sentry project id (a number) or a list of ids")],
        ),
        (
            {**GOOD, "sample": 1},
            [
                (
                    "sample",
                    "unknown setting; the settings are url, organization, project, category, "
                    "outcome, interval, token, token_env, split, environment, query",
                )
            ],
        ),
    ],
    ids=[
        "split-value",
        "stats-settings",
        "empty-environment",
        "placeholder",
        "url",
        "project",
        "unknown",
    ],
)
def test_problems__bad_split_settings__name_the_field(
    settings: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert _problems(settings) == expected


def test_problems__environment_without_split__is_an_unknown_setting() -> None:
    problems = _problems(
        {"organization": "acme", "token_env": "SENTRY_AUTH_TOKEN", "environment": "x"}
    )

    assert [field for field, _ in problems] == ["environment"]
