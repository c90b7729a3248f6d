"""Context text helpers: UTF-8 that never raises, and explanations that say when a value
is too long for any constraint."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shipwise.engine.context import (
    MAX_CONTEXT_VALUE_LENGTH,
    describe_value,
    oversized,
    utf8,
)


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text(st.characters(exclude_categories=("Cs",))))
def test_utf8__valid_text__is_its_plain_utf8_bytes(text: str) -> None:
    assert utf8(text) == text.encode("utf-8")


def test_utf8__lone_surrogates__each_become_a_replacement_character() -> None:
    assert utf8("a\ud83d\ude00b\x00\udfff") == "a\ufffd\ufffdb\x00\ufffd".encode()


def test_oversized__counts_characters_against_the_limit() -> None:
    assert oversized(None) is False
    assert oversized("é" * MAX_CONTEXT_VALUE_LENGTH) is False
    assert oversized("é" * (MAX_CONTEXT_VALUE_LENGTH + 1)) is True


def test_describe_value__ordinary_value__is_quoted() -> None:
    assert describe_value("pro") == "'pro'"
    assert describe_value(None) == "None"


def test_describe_value__oversized_value__shows_its_start_length_and_the_limit() -> None:
    text = describe_value("a" * 5_000)
    assert text.startswith("'" + "a" * 40 + "'…")
    assert "5,000 characters" in text
    assert f"over the limit of {MAX_CONTEXT_VALUE_LENGTH:,}" in text
    assert len(text) < 200
