"""Text people type and other people read: what a name may hold, and how to show any
text so that it cannot disguise itself.

A name, key or title is one visible line. It may not hold control characters (``Cc``:
NUL, tab, newline, escape, the C1 range), line or paragraph separators (U+2028,
U+2029), lone surrogate halves, or format characters (``Cf``): the bidirectional
controls (U+202A to U+202E, U+2066 to U+2069, U+200E/U+200F, U+061C) reorder what follows
them on screen, so ``deploy-\\u202etxt.exe`` reads as ``deploy-exe.txt``; the zero-width
ones (U+200B, U+2060, the byte-order mark U+FEFF) make two different names look alike.
The only format characters kept are ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER
between two visible characters: Persian, the Indic scripts and emoji sequences need
them, and they reorder nothing. A name must also show something: whitespace alone (or
the invisible Hangul and Braille fillers) is refused.

``inert`` is for the other direction: text already stored (written before these rules,
or free text such as reasons and descriptions, which may hold what names may not) is
shown with every such character escaped, ``\\u202e`` for U+202E, so it can neither
reorder a line, nor start a forged one, nor drive the terminal. Newlines may be kept
where the text is meant to have them. Backslashes are shown as they are: a stored
``\\u202e`` typed as six characters looks like an escaped one, and is just as harmless.

Pure: ``unicodedata`` for categories and names, nothing else.
"""

from __future__ import annotations

import unicodedata

# Joiners shape the letters around them (Persian, Devanagari, emoji ZWJ sequences).
_JOINERS = frozenset({"\u200c", "\u200d"})
# Letters that draw nothing: a name made of them (and spaces) looks empty.
_BLANK_LETTERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})
# Categories never allowed in a one-line name: controls, format characters (but see
# _JOINERS), line and paragraph separators, surrogate halves.
_REFUSED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# What a joiner may stand between: letters, marks, numbers, symbols.
_VISIBLE = frozenset("LMNS")
# Control characters have no Unicode name (only aliases); these are the ones people meet.
_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def character_name(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: the code point and its Unicode name."""
    code = ord(char)
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(code, "")
    if not name:
        category = unicodedata.category(char)
        name = {"Cc": "CONTROL CHARACTER", "Cs": "SURROGATE HALF"}.get(category, "UNNAMED")
    return f"U+{code:04X} {name}"


def _joiner_between_visible(value: str, index: int) -> bool:
    if index == 0 or index == len(value) - 1:
        return False
    before, after = value[index - 1], value[index + 1]
    return all(unicodedata.category(c)[0] in _VISIBLE for c in (before, after))


def _refused_in_name(value: str, index: int) -> bool:
    char = value[index]
    if unicodedata.category(char) not in _REFUSED:
        return False
    return not (char in _JOINERS and _joiner_between_visible(value, index))


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name, key or title, in words that point at the culprit
    (positions count characters from 1), or None when it can."""
    for index in range(len(value)):
        if _refused_in_name(value, index):
            where = f"at position {index + 1}"
            return f"contains {character_name(value[index])} {where}; remove it"
    if all(c.isspace() or c in _BLANK_LETTERS for c in value):
        shown = "is empty" if not value else "is only whitespace"
        return f"{shown}; write something people can see"
    return None


def _hidden(char: str, keep_newlines: bool) -> bool:
    if char in _JOINERS:  # harmless on screen, and needed to draw some words right
        return False
    if keep_newlines and char in "\n\t":
        return False
    return unicodedata.category(char) in _REFUSED


def _escaped(char: str) -> str:
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def inert(value: str, *, keep_newlines: bool = False) -> str:
    """``value`` safe to show on a terminal or in a log line: every control, format,
    separator or surrogate character escaped (``\\u202e``, ``\\n``). With
    ``keep_newlines`` the line feeds (and tabs) of free text stay as they are; a
    carriage return never does, since it rewrites the line it is on."""
    if not any(_hidden(c, keep_newlines) for c in value):
        return value
    return "".join(_escaped(c) if _hidden(c, keep_newlines) else c for c in value)


def inert_pieces(value: str, *, keep_newlines: bool = False) -> list[str]:
    """``inert`` character by character: piece ``i`` is what character ``i`` becomes,
    for callers that must move styling spans along with the text."""
    return [_escaped(c) if _hidden(c, keep_newlines) else c for c in value]
