"""``ZendeskSource.problems``: a definition's Zendesk settings, checked before it is saved."""

from __future__ import annotations

from typing import Any

import pytest

from shipwise.server.metrics.zendesk import MAX_QUERY, ZendeskSource

ENVIRON = {"ZENDESK_TOKEN": "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"}
GOOD = {
    "subdomain": "acme",
    "email": "ops@example.com",
    "token_env": "ZENDESK_TOKEN",
    "query": "tags:checkout",
}
LEAVE_OUT = (
    "Shipwise adds type:ticket and the window's created>= and created< itself; write tags "
    "or words, e.g. tags:checkout"
)


def _problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    return ZendeskSource(environ=ENVIRON).problems(settings)


@pytest.mark.parametrize(
    "settings",
    [
        GOOD,
        {**GOOD, "token_env": None, "token": "6wiIBWbG"},
        {**{k: v for k, v in GOOD.items() if k != "subdomain"}, "url": "https://help.acme.io"},
        {**GOOD, "query": 'tags:{flag} "checkout failed" -tags:spam status<solved'},
        {**GOOD, "subdomain": "acme-eu-2"},
    ],
    ids=["subdomain", "token", "url", "words-and-placeholders", "subdomain-with-dash"],
)
def test_problems__good_settings__none(settings: dict[str, Any]) -> None:
    settings = {key: value for key, value in settings.items() if value is not None}
    assert _problems(settings) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {},
            [
                ("subdomain", "required: the account's subdomain, acme for acme.zendesk.com"),
                ("email", "required: the email address of the agent the API token belongs to"),
                (
                    "token_env",
                    "required: the name of an environment variable holding a Zendesk API "
                    "token (Admin Center > Apps and integrations > APIs), e.g. ZENDESK_TOKEN",
                ),
                ("query", "required"),
            ],
        ),
        (
            {**GOOD, "subdomain": "Acme Corp"},
            [
                (
                    "subdomain",
                    "write the account's subdomain, e.g. acme for acme.zendesk.com: lower-case "
                    "letters, digits and -, at most 63",
                )
            ],
        ),
        ({**GOOD, "url": "https://help.acme.io"}, [("url", "set subdomain or url, not both")]),
        (
            {**GOOD, "subdomain": None, "url": "https://acme.zendesk.com/api/v2/search/count"},
            [
                (
                    "url",
                    "write the account's base URL, without /api/v2/...: "
                    "e.g. https://acme.zendesk.com",
                )
            ],
        ),
        (
            {**GOOD, "subdomain": None, "url": "https://{environment}.zendesk.com"},
            [("url", "write the account's URL itself, without placeholders")],
        ),
        ({**GOOD, "email": "ops"}, [("email", "write an email address, e.g. ops@example.com")]),
        (
            {**GOOD, "email": "ops@example.com/token"},
            [("email", "write an email address, e.g. ops@example.com")],
        ),
        (
            {**GOOD, "token": "secret"},
            [("token", "set token_env or token, not both (token_env is better)")],
        ),
        (
            {**GOOD, "token_env": "MISSING_TOKEN"},
            [("token_env", "the environment variable MISSING_TOKEN is not set on this server")],
        ),
        (
            {**GOOD, "token_env": "zendesk token"},
            [("token_env", "write the name of an environment variable, e.g. ZENDESK_TOKEN")],
        ),
        (
            {**GOOD, "token_env": None, "token": "two words"},
            [("token", "write the API token as text (better: set token_env instead)")],
        ),
        ({**GOOD, "query": "  "}, [("query", "write a non-empty text, not the text ''")]),
        (
            {**GOOD, "query": "tags:{release}"},
            [
                (
                    "query",
                    "unknown placeholder {release}: write one of {flag}, {environment}, {project}",
                )
            ],
        ),
        ({**GOOD, "query": "type:user tags:vip"}, [("query", f"leave out type: {LEAVE_OUT}")]),
        (
            {**GOOD, "query": "tags:checkout created>2026-01-01"},
            [("query", f"leave out created: {LEAVE_OUT}")],
        ),
        (
            {**GOOD, "query": "tags:checkout\nstatus:open"},
            [("query", "write the search on one line, without control characters")],
        ),
        (
            {**GOOD, "query": "x" * (MAX_QUERY + 1)},
            [("query", f"write at most {MAX_QUERY} characters, not {MAX_QUERY + 1}")],
        ),
        (
            {**GOOD, "environment": "production"},
            [
                (
                    "environment",
                    "unknown setting; the settings are subdomain, url, email, token, "
                    "token_env, query",
                )
            ],
        ),
    ],
    ids=[
        "empty",
        "subdomain-not-a-name",
        "subdomain-and-url",
        "url-with-api-path",
        "url-placeholder",
        "email-without-at",
        "email-with-token-suffix",
        "two-tokens",
        "token-variable-unset",
        "token-variable-name",
        "token-with-space",
        "query-blank",
        "query-unknown-placeholder",
        "query-type",
        "query-created",
        "query-two-lines",
        "query-too-long",
        "unknown-setting",
    ],
)
def test_problems__wrong_settings__say_what_to_write(
    settings: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    settings = {key: value for key, value in settings.items() if value is not None}
    assert _problems(settings) == expected


def test_problems__words_that_merely_contain_type_or_created__are_accepted() -> None:
    assert _problems({**GOOD, "query": "subtype:x recreated tags:prototype"}) == []
