"""``text``: which names are refused and why (the message names the character and where
it is), and ``inert``, which shows any stored text with nothing left that could reorder
a line, start a forged one or drive a terminal."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipwise.domain.text import character_name, inert, inert_pieces, name_problem

REFUSED = [
    pytest.param("ab\u202ecd", "U+202E RIGHT-TO-LEFT OVERRIDE at position 3", id="RLO"),
    pytest.param("\u202aab", "U+202A LEFT-TO-RIGHT EMBEDDING at position 1", id="LRE"),
    pytest.param("ab\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE at position 3", id="LRI"),
    pytest.param("a\u2069b", "U+2069 POP DIRECTIONAL ISOLATE at position 2", id="PDI"),
    pytest.param("a\u200eb", "U+200E LEFT-TO-RIGHT MARK at position 2", id="LRM"),
    pytest.param("a\u200fb", "U+200F RIGHT-TO-LEFT MARK at position 2", id="RLM"),
    pytest.param("a\u061cb", "U+061C ARABIC LETTER MARK at position 2", id="ALM"),
    pytest.param("one\u2028two", "U+2028 LINE SEPARATOR at position 4", id="line-separator"),
    pytest.param("one\u2029two", "U+2029 PARAGRAPH SEPARATOR at position 4", id="paragraph"),
    pytest.param("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE at position 1", id="lone-BOM"),
    pytest.param("ch\u200beck", "U+200B ZERO WIDTH SPACE at position 3", id="zero-width-space"),
    pytest.param("a\u2060b", "U+2060 WORD JOINER at position 2", id="word-joiner"),
    pytest.param("a\nb", "U+000A LINE FEED at position 2", id="newline"),
    pytest.param("a\rb", "U+000D CARRIAGE RETURN at position 2", id="carriage-return"),
    pytest.param("a\tb", "U+0009 CHARACTER TABULATION at position 2", id="tab"),
    pytest.param("\x1b[2Jx", "U+001B ESCAPE at position 1", id="escape"),
    pytest.param("a\x85b", "U+0085 NEXT LINE at position 2", id="C1-next-line"),
    pytest.param("a\x9bb", "U+009B CONTROL CHARACTER at position 2", id="C1-CSI"),
    pytest.param("a\x00", "U+0000 NULL at position 2", id="NUL"),
    pytest.param("a\ud800", "U+D800 SURROGATE HALF at position 2", id="surrogate"),
    pytest.param("\u200dab", "U+200D ZERO WIDTH JOINER at position 1", id="joiner-at-start"),
    pytest.param("ab \u200c", "U+200C ZERO WIDTH NON-JOINER at position 4", id="joiner-at-end"),
    pytest.param("a\U000e0041b", "U+E0041 TAG LATIN CAPITAL LETTER A at position 2", id="tag"),
]


@pytest.mark.parametrize(("value", "culprit"), REFUSED)
def test_name_problem__with_a_hidden_character__names_it_and_where_it_is(
    value: str, culprit: str
) -> None:
    assert name_problem(value) == f"contains {culprit}; remove it"


@pytest.mark.parametrize(
    "value",
    ["   ", "\u3000", "\u00a0", " \u3164 ", "\u2800"],
    ids=["spaces", "ideographic-space", "no-break-space", "hangul-filler", "braille-blank"],
)
def test_name_problem__with_nothing_visible__asks_for_something_visible(value: str) -> None:
    assert name_problem(value) == "is only whitespace; write something people can see"


def test_name_problem__with_an_empty_string__says_it_is_empty() -> None:
    assert name_problem("") == "is empty; write something people can see"


@pytest.mark.parametrize(
    "value",
    [
        "New checkout",
        "Café — 2ª fase",
        "تسجيل الدخول الجديد",  # Arabic letters: right-to-left by nature, no control
        "נסיון בטא",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian needs ZWNJ between letters
        "\U0001f469\u200d\U0001f4bb coders",  # an emoji ZWJ sequence
        "\u2764\ufe0f\u200d\U0001f525 hot",  # a joiner after a variation selector
        "[red]x[/red]",  # markup is the printer's business, not a name rule
        "C:\\path",
    ],
    ids=[
        "ascii",
        "accents",
        "arabic",
        "hebrew",
        "persian-zwnj",
        "emoji-zwj",
        "emoji-vs",
        "markup",
        "backslash",
    ],
)
def test_name_problem__with_ordinary_text_in_any_script__accepts_it(value: str) -> None:
    assert name_problem(value) is None


def test_character_name__of_an_unnamed_control__says_control_character() -> None:
    assert character_name("\x01") == "U+0001 CONTROL CHARACTER"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("deploy-\u202etxt.exe", "deploy-\\u202etxt.exe"),
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),
        ("ok\nFORGED LINE", "ok\\nFORGED LINE"),
        ("ok\u2028FORGED", "ok\\u2028FORGED"),
        ("ok\rFORGED", "ok\\rFORGED"),
        ("\x1b[31mred", "\\u001b[31mred"),
        ("\ufeff", "\\ufeff"),
        ("a\U000e0041", "a\\U000e0041"),
        ("plain", "plain"),
    ],
    ids=[
        "RLO",
        "isolates",
        "newline",
        "line-separator",
        "carriage-return",
        "escape",
        "BOM",
        "tag",
        "plain",
    ],
)
def test_inert__escapes_what_could_reorder_or_forge_a_line(value: str, shown: str) -> None:
    assert inert(value) == shown


def test_inert__keeping_newlines__keeps_line_feeds_and_tabs_but_not_carriage_returns() -> None:
    assert inert("first\n\tsecond\r\n\u202e", keep_newlines=True) == "first\n\tsecond\\r\n\\u202e"


def test_inert__keeps_joiners_that_draw_words_and_emoji() -> None:
    assert inert("\U0001f469\u200d\U0001f4bb") == "\U0001f469\u200d\U0001f4bb"


def _dangerous(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Cs"} and char not in (
        "\u200c\u200d"
    )


@given(st.text(alphabet=st.characters(codec=None, categories=None)))
def test_inert__of_any_text__leaves_no_dangerous_character_and_loses_no_visible_one(
    value: str,
) -> None:
    shown = inert(value)
    assert not any(_dangerous(c) for c in shown)
    assert [c for c in shown if not c.isascii()] == [
        c for c in value if not c.isascii() and not _dangerous(c)
    ]
    assert "".join(inert_pieces(value)) == shown


@given(st.text(alphabet=st.characters(codec=None, categories=None)))
def test_name_problem__of_any_text__accepts_only_text_with_nothing_dangerous(value: str) -> None:
    problem = name_problem(value)
    dangerous = [c for c in value if _dangerous(c)]
    if dangerous:
        assert problem is not None
        assert problem.startswith("contains U+")
    elif problem is None:
        assert value.strip()
