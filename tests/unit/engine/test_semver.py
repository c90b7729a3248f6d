"""Semantic Versioning 2.0.0 (https://semver.org): precedence per §11, build metadata
ignored per §10, and anything outside the §9 grammar is not a version."""

from __future__ import annotations

import itertools
import random

import pytest

from shipwise.engine.semver import SemverKey, parse_semver

# The precedence example of semver.org §11, lowest first.
SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]
# §11.2: major, minor and patch compare numerically.
CORE_ORDER = ["1.0.0", "2.0.0", "2.1.0", "2.1.1", "2.10.0", "10.0.0"]


def _key(text: str) -> SemverKey:
    key = parse_semver(text)
    assert key is not None, f"{text!r} should parse"
    return key


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        pytest.param(a, b, id=f"{a} < {b}")
        for order in (SPEC_ORDER, CORE_ORDER)
        for a, b in itertools.combinations(order, 2)
    ],
)
def test_parse_semver__keys_order_as_semver_org_section_11(lower: str, higher: str) -> None:
    assert _key(lower) < _key(higher)
    assert not _key(higher) < _key(lower)


def test_parse_semver__sorting_shuffled_versions__restores_spec_order() -> None:
    shuffled = SPEC_ORDER[::-1]
    random.Random(11).shuffle(shuffled)
    assert sorted(shuffled, key=_key) == SPEC_ORDER


@pytest.mark.parametrize(
    ("with_build", "without"),
    [
        ("1.0.0+build.5", "1.0.0"),
        ("1.0.0+20130313144700", "1.0.0"),
        ("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta"),
        ("1.0.0-rc.1+build.1-aef.1", "1.0.0-rc.1"),
    ],
)
def test_parse_semver__build_metadata__does_not_take_part_in_ordering(
    with_build: str, without: str
) -> None:
    assert _key(with_build) == _key(without)


@pytest.mark.parametrize(
    "text",
    [
        "0.0.0",
        "1.2.3-0",
        "1.2.3-0a",
        "1.2.3--",
        "1.2.3-x-y-z.--",
        "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
        "99999999999999999999.0.0",
    ],
)
def test_parse_semver__valid_edge_cases__parse(text: str) -> None:
    assert parse_semver(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("v1.2.3", id="leading v"),
        pytest.param("1.2", id="two parts"),
        pytest.param("1.2.3.4", id="four parts"),
        pytest.param("01.2.3", id="leading zero major"),
        pytest.param("1.02.3", id="leading zero minor"),
        pytest.param("1.2.03", id="leading zero patch"),
        pytest.param("1.2.3-01", id="leading zero numeric pre-release"),
        pytest.param("1.2.3-", id="empty pre-release"),
        pytest.param("1.2.3+", id="empty build"),
        pytest.param("1.2.3-alpha..1", id="empty pre-release identifier"),
        pytest.param("1.2.3-béta", id="non-ASCII pre-release"),
        pytest.param(" 1.2.3", id="leading space"),
        pytest.param("1.2.3 ", id="trailing space"),
        pytest.param("1.2.3\n", id="trailing newline"),
        pytest.param("1\u0663.0.0", id="Arabic-Indic digit in major"),
        pytest.param("1.2.\uff13", id="fullwidth digit in patch"),
    ],
)
def test_parse_semver__invalid_text__gives_none(text: str) -> None:
    assert parse_semver(text) is None


def test_parse_semver__numeric_identifiers__sort_before_alphanumeric_ones() -> None:
    # §11.4.3, with "1" < "1a" < "a" < "b" in ASCII order for the alphanumeric ones
    versions = ["1.0.0-b", "1.0.0-1a", "1.0.0-a", "1.0.0-999", "1.0.0-2"]
    assert sorted(versions, key=_key) == [
        "1.0.0-2",
        "1.0.0-999",
        "1.0.0-1a",
        "1.0.0-a",
        "1.0.0-b",
    ]
