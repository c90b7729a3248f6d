"""``JsonUrlSource.problems`` and the path language it checks (``JsonPath``)."""

from __future__ import annotations

from typing import Any

import pytest

from shipwise.server.metrics.json_url import JsonPath, JsonUrlSource, PathError

GOOD = {"url": "https://status.example.com/api", "path": "data.error_rate"}


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("error_rate", ("error_rate",)),
        ("data.checkout.error_rate", ("data", "checkout", "error_rate")),
        ("items[0].value", ("items", 0, "value")),
        ("[2][-1]", (2, -1)),
        ('stats["p99.9"].ms', ("stats", "p99.9", "ms")),
        (r'["say \"hi\""]', ('say "hi"',)),
        ("$meta.@count.error-rate", ("$meta", "@count", "error-rate")),
    ],
    ids=["one-name", "names", "index", "indexes-at-the-top", "quoted", "escaped-quote", "marks"],
)
def test_parse__good_path__its_steps_and_back(text: str, steps: tuple[str | int, ...]) -> None:
    path = JsonPath.parse(text)

    assert path.steps == steps
    assert JsonPath.parse(str(path)) == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the path is empty; write e.g. data.error_rate or items[0].value"),
        (
            "data..rate",
            "character 6 of 'data..rate': expected a field name, found '.'; names are "
            'letters, digits, _ and -, other keys go in quoted brackets: ["a key"]',
        ),
        (
            "data.",
            "character 6 of 'data.': expected a field name, found the end; names are "
            'letters, digits, _ and -, other keys go in quoted brackets: ["a key"]',
        ),
        (
            "items[first]",
            "character 6 of 'items[first]': a bracket holds a list index or a quoted name, "
            'e.g. items[0] or stats["p99.9"]',
        ),
        (
            'stats["p99',
            "character 6 of 'stats[\"p99': a bracket holds a list index or a quoted name, "
            'e.g. items[0] or stats["p99.9"]',
        ),
        ("items[0]value", "character 9 of 'items[0]value': expected . or [ after items[0]"),
        (
            "data rate",
            "character 5 of 'data rate': expected . or [ after data",
        ),
    ],
    ids=["empty", "two-dots", "ends-in-dot", "word-index", "unclosed-quote", "no-dot", "space"],
)
def test_parse__bad_path__says_where_and_what_to_write(text: str, message: str) -> None:
    with pytest.raises(PathError) as raised:
        JsonPath.parse(text)

    assert str(raised.value) == message


@pytest.mark.parametrize(
    "settings",
    [
        GOOD,
        {
            "url": "https://status.example.com/flags/{flag}?env={environment}&p={project}",
            "path": "items[-1].value",
            "sample_path": 'stats["requests"]',
            "headers": {"X-Api-Key": "k"},
        },
    ],
    ids=["minimal", "everything"],
)
def test_problems__good_settings__none(settings: dict[str, Any]) -> None:
    assert JsonUrlSource().problems(settings) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {},
            [("url", "required"), ("path", "required: e.g. data.error_rate or items[0].value")],
        ),
        (
            {**GOOD, "path": "data..rate"},
            [
                (
                    "path",
                    "character 6 of 'data..rate': expected a field name, found '.'; names are "
                    'letters, digits, _ and -, other keys go in quoted brackets: ["a key"]',
                )
            ],
        ),
        (
            {**GOOD, "sample_path": 3},
            [("sample_path", "write the path as text, not the number 3")],
        ),
        (
            {**GOOD, "url": "https://status.example.com/{release}"},
            [
                (
                    "url",
                    "unknown placeholder {release}: write one of {flag}, {environment}, {project}",
                )
            ],
        ),
        (
            {**GOOD, "url": "https://status.example.com/a b"},
            [("url", "a URL has no spaces; write %20 for a space")],
        ),
        (
            {**GOOD, "field": "rate"},
            [("field", "unknown setting; the settings are url, path, sample_path, headers")],
        ),
    ],
    ids=["empty", "bad-path", "sample-path-not-text", "unknown-placeholder", "space", "unknown"],
)
def test_problems__wrong_settings__say_what_to_write(
    settings: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert JsonUrlSource().problems(settings) == expected
