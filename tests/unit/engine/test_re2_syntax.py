"""RE2 patterns, run by RE2: what RE2 accepts behaves as RE2 documents it
(https://github.com/google/re2/wiki/Syntax), what RE2 rejects raises
``RegexNotSupported`` instead of quietly meaning something else, matching takes time
linear in the input, and text holding lone surrogates is matched, never raises."""

from __future__ import annotations

import pytest

from shipwise.engine.re2_syntax import MAX_PROGRAM_SIZE, RegexNotSupported, compile_re2


def _finds(pattern: str, text: str, *, case_insensitive: bool = False) -> bool:
    return compile_re2(pattern, case_insensitive=case_insensitive).matches(text)


# -- POSIX classes --------------------------------------------------------------------

# class, a member, a non-member (POSIX / RE2 definitions: ASCII only)
POSIX = [
    ("alpha", "q", "1"),
    ("digit", "7", "a"),
    ("alnum", "Z", "_"),
    ("upper", "Q", "q"),
    ("lower", "q", "Q"),
    ("space", "\v", "x"),
    ("blank", "\t", "\n"),
    ("punct", "]", "a"),
    ("xdigit", "f", "g"),
    ("word", "_", "-"),
    ("cntrl", "\x1f", " "),
    ("print", " ", "\x7f"),
    ("graph", "~", " "),
    ("ascii", "\x7f", "é"),
]


@pytest.mark.parametrize(("name", "member", "other"), POSIX, ids=[p[0] for p in POSIX])
def test_posix_class__matches_its_members_only(name: str, member: str, other: str) -> None:
    pattern = f"^[[:{name}:]]$"
    assert _finds(pattern, member) is True
    assert _finds(pattern, other) is False


def test_posix_class__combined_with_others_in_one_bracket() -> None:
    pattern = "^[[:digit:][:upper:]_]+$"
    assert _finds(pattern, "AB_12") is True
    assert _finds(pattern, "AB_12c") is False


def test_posix_class__negated_bracket__excludes_the_class() -> None:
    assert _finds("^[^[:digit:]]+$", "abc") is True
    assert _finds("^[^[:digit:]]+$", "ab1") is False


def test_posix_class__negated_class_syntax__excludes_the_class() -> None:
    # RE2 syntax: "[[:^alpha:]]  negated ASCII character class"
    assert _finds("^[[:^alpha:]]+$", "123!") is True
    assert _finds("^[[:^alpha:]]+$", "12a") is False


def test_posix_class__unknown_name__is_rejected() -> None:
    with pytest.raises(RegexNotSupported):
        compile_re2("[[:vowel:]]")


# -- flags --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("a(?i)b", "aB", True, id="(?i) applies after it"),
        pytest.param("a(?i)b", "AB", False, id="(?i) does not apply before it"),
        pytest.param("(a(?i)b)c", "aBc", True, id="in a group: applies to the rest of it"),
        pytest.param("(a(?i)b)c", "aBC", False, id="in a group: ends with the group"),
        pytest.param("x(?i:y)z", "xYz", True, id="scoped group applies inside"),
        pytest.param("x(?i:y)z", "xYZ", False, id="scoped group ends at its )"),
        pytest.param("(?i)a(?-i)b", "Ab", True, id="(?-i) switches it off again"),
        pytest.param("(?i)a(?-i)b", "AB", False, id="(?-i) applies after it"),
        pytest.param("a(?i)b|c", "C", True, id="flag carries across | in its group"),
        pytest.param("a(?i)b|c", "Ab", False, id="flag never reaches back across |"),
    ],
)
def test_inline_flag__applies_to_the_rest_of_its_group_only(
    pattern: str, text: str, expected: bool
) -> None:
    assert _finds(pattern, text) is expected


def test_case_insensitive_option__applies_to_the_whole_pattern() -> None:
    assert _finds("^abc$", "AbC") is False
    assert _finds("^abc$", "AbC", case_insensitive=True) is True


def test_case_insensitive__folds_letters_beyond_ascii_like_re2() -> None:
    # RE2 folds case by Unicode rules: (?i)é matches É.
    assert _finds("(?i)élodie", "Élodie") is True
    assert _finds("élodie", "Élodie", case_insensitive=True) is True


# -- anchors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("abc$", "abc", True, id="$ at the end"),
        pytest.param("abc$", "abc\n", False, id="$ not before a trailing newline"),
        pytest.param("abc$", "abc\nx", False, id="$ not before an inner newline"),
        pytest.param("(?m)abc$", "abc\nx", True, id="(?m) $ before a newline"),
        pytest.param(r"abc\z", "abc", True, id=r"\z at the end"),
        pytest.param(r"abc\z", "abc\n", False, id=r"\z not before a trailing newline"),
        pytest.param(r"(?m)abc\z", "abc\n", False, id=r"\z ignores (?m)"),
        pytest.param("(?m:a$)|b$", "b\n", False, id="$ outside a (?m:...) group stays strict"),
        pytest.param("^b", "a\nb", False, id="^ only at the start"),
        pytest.param("(?m)^b", "a\nb", True, id="(?m) ^ after a newline"),
    ],
)
def test_anchor__end_means_end_unless_multiline(pattern: str, text: str, expected: bool) -> None:
    assert _finds(pattern, text) is expected


def test_capital_z_escape__is_not_re2__and_is_rejected() -> None:
    with pytest.raises(RegexNotSupported):
        compile_re2(r"abc\Z")


# -- what RE2 refuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("foo(?=bar)", id="look-ahead"),
        pytest.param("foo(?!bar)", id="negative look-ahead"),
        pytest.param("(?<=foo)bar", id="look-behind"),
        pytest.param("(?<!foo)bar", id="negative look-behind"),
        pytest.param("(?>foo)bar", id="atomic group"),
        pytest.param(r"(a)\1", id="back-reference"),
        pytest.param(r"(?P<x>a)(b)\2", id="back-reference to a second group"),
        pytest.param("a++", id="possessive +"),
        pytest.param("a*+", id="possessive *"),
        pytest.param("a?+", id="possessive ?"),
        pytest.param("a{2}+", id="possessive {n}"),
        pytest.param("a{1001}", id="repetition over RE2's limit of 1000"),
        pytest.param("(abc", id="unclosed group"),
        pytest.param("abc)", id="unopened group"),
        pytest.param("[abc", id="unclosed bracket"),
        pytest.param("abc\\", id="trailing backslash"),
    ],
)
def test_translate__syntax_re2_rejects__raises_regex_not_supported(pattern: str) -> None:
    with pytest.raises(RegexNotSupported):
        compile_re2(pattern)


def test_regex_not_supported__is_a_value_error() -> None:
    assert issubclass(RegexNotSupported, ValueError)


# -- groups, escapes, ASCII classes -------------------------------------------------------


def test_named_group__angle_bracket_form__is_a_group() -> None:
    pattern = r"^(?<year>\d{4})-(?<month>\d{2})$"
    assert _finds(pattern, "2024-05") is True
    assert _finds(pattern, "2024-5") is False


def test_named_group__python_form__is_a_group_too() -> None:
    assert _finds(r"^v(?P<major>\d+)\.", "v12.3") is True
    assert _finds(r"^v(?P<major>\d+)\.", "v.3") is False


def test_non_capturing_group__is_kept() -> None:
    assert _finds("^(?:ab)+$", "abab") is True
    assert _finds("^(?:ab)+$", "aba") is False


def test_quoted_literal__between_q_and_e__is_taken_literally() -> None:
    assert _finds(r"^\Qa.b*\E$", "a.b*") is True
    assert _finds(r"^\Qa.b*\E$", "axbbb") is False


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param(r"^\d$", "٣", False, id=r"\d is ASCII digits only"),
        pytest.param(r"^\w$", "é", False, id=r"\w is ASCII word characters only"),
        pytest.param(r"x\b", "xé", True, id=r"\b sees a boundary before a non-ASCII letter"),
        pytest.param(r"x\b", "xy", False, id=r"\b sees none between ASCII letters"),
    ],
)
def test_perl_classes__are_ascii_only__as_in_re2(pattern: str, text: str, expected: bool) -> None:
    assert _finds(pattern, text) is expected


def test_repetition_count_too_large_to_read__is_literal_text__as_re2_reads_it() -> None:
    # RE2 reads "{99999999999}" as literal braces (not a count), so it says so here too.
    assert _finds("^a{99999999999}$", "a{99999999999}") is True
    assert _finds("^a{99999999999}$", "aaa") is False


def test_unicode_class__is_re2s() -> None:
    assert _finds(r"^\p{Greek}+$", "αβγ") is True
    assert _finds(r"^\p{Greek}+$", "abc") is False


# -- what Shipwise adds: limits, surrogates, linear time ---------------------------------


def test_pattern_over_the_program_size_limit__is_refused_naming_the_limit() -> None:
    # "x{1000}" is valid RE2 syntax but compiles to more than MAX_PROGRAM_SIZE instructions.
    with pytest.raises(RegexNotSupported, match=f"over the limit of {MAX_PROGRAM_SIZE}"):
        compile_re2("x{1000}")


def test_pattern_with_a_lone_surrogate__is_refused() -> None:
    with pytest.raises(RegexNotSupported, match="lone surrogate"):
        compile_re2("a\ud800")


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("^.$", "\ud800", True, id="a lone surrogate is one character"),
        pytest.param("^\\x{FFFD}$", "\udfff", True, id="it reads as U+FFFD"),
        pytest.param("^a.b$", "a\ud83db", True, id="between letters"),
        pytest.param("^[a-z]+$", "ab\ud800", False, id="never a letter"),
        pytest.param("x", "\u0000\ud800x", True, id="with NUL before it"),
    ],
)
def test_text_with_lone_surrogates__is_matched_as_replacement_characters(
    pattern: str, text: str, expected: bool
) -> None:
    assert _finds(pattern, text) is expected


def test_catastrophic_pattern__answers_in_linear_time() -> None:
    # Python's re backtracks 2**n times here: 26 "a"s took 4.8 s, each one more doubles
    # it, so 60 would take years. RE2 answers at once; no timing is asserted, the test
    # would simply never end on a backtracking engine.
    assert _finds("(a+)+$", "a" * 60 + "!") is False
    assert _finds("(a+)+$", "a" * 60) is True
