"""Key rules per kind of key: flag keys are Unleash's feature names (case-sensitive,
URL-friendly, at most 100), every other kind stays lowercase (at most 63); a refusal
names the culprit, states the rule in words and suggests a key that would do."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipwise.domain.keys import (
    ENVIRONMENT_KEY,
    FLAG_KEY,
    KEY,
    PROJECT_KEY,
    RELEASE_KEY,
    SEGMENT_NAME,
    TAG,
    TEMPLATE_NAME,
    KeyRule,
    key_problem,
)

RULES = [FLAG_KEY, PROJECT_KEY, ENVIRONMENT_KEY, RELEASE_KEY, SEGMENT_NAME, TAG, TEMPLATE_NAME, KEY]
FLAG_RULE = (
    "flag keys may use letters, digits, '-', '_', '.', '~', '!', '*', \"'\", '(' and ')', "
    "at most 100 characters"
)


def lowercase_rule(plural: str) -> str:
    return (
        f"{plural} are lowercase letters, digits, '.', '_' and '-', starting with a letter or "
        "digit, at most 63 characters"
    )


def encode_uri_component_keeps(text: str) -> bool:
    """JavaScript's ``encodeURIComponent(text) === text``, the test Unleash's
    ``nameType`` applies: everything but ``A-Z a-z 0-9 - _ . ! ~ * ' ( )`` is escaped."""
    return quote(text, safe="!*'()") == text


# -- what each kind allows ---------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["newCheckout", "Feature.C", "a~b", "Promo(2024)!*'", "x" * 100, "...", ".env", "-x", "0"],
)
def test_flag_key__names_unleash_accepts__allowed(key: str) -> None:
    assert FLAG_KEY.problem(key) is None


@pytest.mark.parametrize("key", ["new checkout", "a/b", "a%20b", "ü", "", ".", "..", "x" * 101])
def test_flag_key__names_unleash_refuses__refused(key: str) -> None:
    assert FLAG_KEY.problem(key) is not None


@pytest.mark.parametrize("rule", [r for r in RULES if r is not FLAG_KEY], ids=lambda r: str(r.noun))
@pytest.mark.parametrize("key", ["newCheckout", "Feature.C", "a~b", "-x", "x" * 64])
def test_lowercase_kinds__what_only_flag_keys_may_hold__refused(rule: KeyRule, key: str) -> None:
    assert rule.problem(key) is not None


@pytest.mark.parametrize("rule", RULES, ids=lambda r: str(r.noun))
@pytest.mark.parametrize("key", ["rel-7", "staging", "beta.testers_2", "0", "x" * 63])
def test_every_kind__lowercase_keys__allowed(rule: KeyRule, key: str) -> None:
    assert rule.problem(key) is None


_NAME_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=110
)  # storable text: no lone surrogate halves


@given(_NAME_TEXT)
def test_flag_key__any_text__allowed_exactly_when_unleash_allows_it(text: str) -> None:
    unleash_allows = encode_uri_component_keeps(text) and len(text) <= 100
    unleash_allows = unleash_allows and text not in {".", ".."}
    assert FLAG_KEY.allows(text) is unleash_allows
    assert (FLAG_KEY.problem(text) is None) is unleash_allows


@given(st.sampled_from(RULES), _NAME_TEXT)
def test_pattern__any_text__documents_the_same_rule_as_the_check(rule: KeyRule, text: str) -> None:
    assert (re.fullmatch(rule.pattern, text) is not None) is rule.allows(text)


@given(st.sampled_from(RULES), st.text(max_size=300))
def test_suggestion__any_text__is_a_key_the_rule_allows(rule: KeyRule, text: str) -> None:
    assert rule.allows(rule.suggestion(text))


# -- the messages, exactly ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "key", "message"),
    [
        pytest.param(
            FLAG_KEY,
            "new checkout",
            f"'new checkout' is not a valid flag key: ' ' at position 4 is not allowed; "
            f"{FLAG_RULE}: try 'new-checkout'",
            id="flag: a space",
        ),
        pytest.param(
            FLAG_KEY,
            "checkout/v2",
            f"'checkout/v2' is not a valid flag key: '/' at position 9 is not allowed; "
            f"{FLAG_RULE}: try 'checkout-v2'",
            id="flag: a slash",
        ),
        pytest.param(
            FLAG_KEY,
            ".",
            f"'.' is not a valid flag key: '.' and '..' are steps in a path, not names; "
            f"{FLAG_RULE}: try 'new-checkout'",
            id="flag: a path step",
        ),
        pytest.param(
            FLAG_KEY,
            "",
            f"'' is not a valid flag key: it is empty; {FLAG_RULE}: try 'new-checkout'",
            id="flag: empty",
        ),
        pytest.param(
            FLAG_KEY,
            "A" * 2000,
            f"'{'A' * 40}'… (2000 characters) is not a valid flag key: it is 2000 characters "
            f"long; {FLAG_RULE}: try '{'A' * 100}'",
            id="flag: far too long, refused for its length alone",
        ),
        pytest.param(
            FLAG_KEY,
            "new\u202echeckout",
            "'new\\u202echeckout' is not a valid flag key: it contains U+202E RIGHT-TO-LEFT "
            "OVERRIDE at position 4; remove it",
            id="flag: a hidden character is named",
        ),
        pytest.param(
            RELEASE_KEY,
            "Rel-7",
            "'Rel-7' is not a valid release key: 'R' at position 1 is uppercase; "
            f"{lowercase_rule('release keys')}: try 'rel-7'",
            id="release: a capital",
        ),
        pytest.param(
            RELEASE_KEY,
            "_rel",
            "'_rel' is not a valid release key: it starts with '_'; "
            f"{lowercase_rule('release keys')}: try 'rel'",
            id="release: starts with punctuation",
        ),
        pytest.param(
            RELEASE_KEY,
            "~~",
            "'~~' is not a valid release key: '~' at position 1 is not allowed; "
            f"{lowercase_rule('release keys')}: try 'rel-7'",
            id="release: nothing usable, so the example",
        ),
        pytest.param(
            PROJECT_KEY,
            "Web Shop",
            "'Web Shop' is not a valid project key: 'W' at position 1 is uppercase; "
            f"{lowercase_rule('project keys')}: try 'web-shop'",
            id="project",
        ),
        pytest.param(
            ENVIRONMENT_KEY,
            "e" * 64,
            f"'{'e' * 40}'… (64 characters) is not a valid environment key: it is 64 "
            f"characters long; {lowercase_rule('environment keys')}: try '{'e' * 63}'",
            id="environment: one too long",
        ),
        pytest.param(
            SEGMENT_NAME,
            "Beta Testers",
            "'Beta Testers' is not a valid segment name: 'B' at position 1 is uppercase; "
            f"{lowercase_rule('segment names')}: try 'beta-testers'",
            id="segment",
        ),
        pytest.param(
            TAG,
            "team:pay",
            "'team:pay' is not a valid tag: ':' at position 5 is not allowed; "
            f"{lowercase_rule('tags')}: try 'team-pay'",
            id="tag",
        ),
        pytest.param(
            TEMPLATE_NAME,
            "Weekly",
            "'Weekly' is not a valid template name: 'W' at position 1 is uppercase; "
            f"{lowercase_rule('template names')}: try 'weekly'",
            id="template",
        ),
        pytest.param(
            KEY,
            "QA!",
            "'QA!' is not a valid key: 'Q' at position 1 is uppercase; "
            f"{lowercase_rule('keys')}: try 'qa'",
            id="any other key",
        ),
    ],
)
def test_problem__bad_key__names_the_culprit_states_the_rule_and_suggests_a_key(
    rule: KeyRule, key: str, message: str
) -> None:
    assert rule.problem(key) == message
    assert key_problem(key, rule) == message
    assert "[" not in message  # the rule in words, never a pattern
