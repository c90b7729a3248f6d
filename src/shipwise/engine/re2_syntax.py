"""RE2 regular expressions, run on Python's ``re``.

The Unleash ``REGEX`` operator uses RE2 syntax (as its Rust and Go engines do): no
look-around, no back-references, POSIX classes like ``[[:alpha:]]``, flags such as
``(?i)`` anywhere in a pattern applying to the rest of their group (each branch of an
alternation), ASCII-only ``\\w \\d \\s \\b`` but Unicode case folding, ``$`` matching only
at the very end unless ``(?m)``, and at most 1000 repetitions. ``translate`` rewrites
such a pattern into an equivalent Python pattern, or raises ``RegexNotSupported`` for
what RE2 rejects, so a rule behaves the same whichever SDK evaluates it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "0-9A-Za-z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\t\n\v\f\r ",
    "blank": r"\t ",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "xdigit": "0-9A-Fa-f",
    "word": "0-9A-Za-z_",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
    "ascii": r"\x00-\x7f",
}
# Perl classes are ASCII in RE2; spelled out so the pattern needs no re.ASCII (which
# would also limit case folding to ASCII). Value: (set, negated?).
_PERL_CLASSES = {
    "d": (_POSIX_CLASSES["digit"], False),
    "w": (_POSIX_CLASSES["word"], False),
    "s": (r"\t\n\f\r ", False),
    "D": (_POSIX_CLASSES["digit"], True),
    "W": (_POSIX_CLASSES["word"], True),
    "S": (r"\t\n\f\r ", True),
}
_WORD = "[0-9A-Za-z_]"
_WORD_BOUNDARY = rf"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NOT_WORD_BOUNDARY = rf"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"
_FLAG_GROUP = re.compile(r"\(\?([a-zA-Z-]+)(\)|:)")
_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
MAX_REPEAT = 1000
MAX_NESTING = 200


class RegexNotSupported(ValueError):
    """The pattern is not valid RE2 (or too large to run safely)."""


def compile_re2(pattern: str, *, case_insensitive: bool = False) -> re.Pattern[str]:
    try:
        return re.compile(translate(pattern), re.IGNORECASE if case_insensitive else 0)
    except (re.error, OverflowError, RecursionError) as error:
        raise RegexNotSupported(f"invalid regular expression {pattern!r}: {error}") from None


def _char_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression at ``pattern[start] == '['``; returns the Python
    text and the index after it. Negated classes inside (``[:^alpha:]``, ``\\D``) become
    an alternation, since Python cannot subtract inside brackets."""
    i = start + 1
    negated = pattern.startswith("^", i)
    i += negated
    items: list[str] = []
    excluded: list[str] = []  # sets whose complement belongs to the class
    if pattern.startswith("]", i):
        items.append(r"\]")
        i += 1
    while i < len(pattern):
        char = pattern[i]
        if char == "]":
            return _assemble_class(negated, "".join(items), excluded), i + 1
        if char == "\\":
            escape = pattern[i + 1 : i + 2]
            if escape in _PERL_CLASSES:
                members, inverse = _PERL_CLASSES[escape]
                (excluded if inverse else items).append(members)
            elif escape in ("p", "P"):
                raise RegexNotSupported(f"\\{escape} classes are not supported")
            else:
                items.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end != -1 else ""
            inverse = name.startswith("^")
            posix = _POSIX_CLASSES.get(name.removeprefix("^"))
            if posix is None:
                raise RegexNotSupported(f"unknown character class [:{name}:]")
            (excluded if inverse else items).append(posix)
            i = end + 2
            continue
        items.append(r"\[" if char == "[" else char)
        i += 1
    raise RegexNotSupported("missing closing ]")


def _assemble_class(negated: bool, members: str, excluded: list[str]) -> str:
    if not excluded:
        return f"[{'^' if negated else ''}{members}]"
    if not negated:  # members, or anything outside one of the excluded sets
        options = ([f"[{members}]"] if members else []) + [f"[^{e}]" for e in excluded]
        return "(?:" + "|".join(options) + ")"
    # not (members or outside e1 or ...) == inside every excluded set and not a member
    guard = f"(?![{members}])" if members else ""
    inside = "".join(f"(?=[{e}])" for e in excluded[:-1])
    return f"(?:{guard}{inside}[{excluded[-1]}])"


@dataclass
class _Group:
    """One open group: its multiline state and the inline flags opened inside it."""

    multiline: bool
    inline_flags: list[str] = field(default_factory=list)


def _with_flags(multiline: bool, letters: str) -> bool:
    on, _, off = letters.partition("-")
    if "U" in letters:
        raise RegexNotSupported("the U (ungreedy) flag is not supported")
    if "m" in off:
        return False
    return multiline or "m" in on


def translate(pattern: str) -> str:  # noqa: PLR0915 - one scanner, read top to bottom
    out: list[str] = []
    groups = [_Group(multiline=False)]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        group = groups[-1]
        if char == "\\":
            escape = pattern[i + 1 : i + 2]
            if escape == "":
                raise RegexNotSupported("trailing backslash")
            if escape.isdigit() and escape != "0":
                raise RegexNotSupported("back-references are not supported")
            if escape in "pPCZ":
                raise RegexNotSupported(f"\\{escape} is not supported")
            if escape == "Q":
                end = pattern.find("\\E", i + 2)
                end = len(pattern) if end == -1 else end
                out.append(re.escape(pattern[i + 2 : end]))
                i = end + 2
                continue
            if escape in _PERL_CLASSES:
                members, inverse = _PERL_CLASSES[escape]
                out.append(f"[{'^' if inverse else ''}{members}]")
            elif escape in ("b", "B"):
                out.append(_WORD_BOUNDARY if escape == "b" else _NOT_WORD_BOUNDARY)
            else:
                out.append(r"\Z" if escape == "z" else pattern[i : i + 2])
            i += 2
        elif char == "[":
            text, i = _char_class(pattern, i)
            out.append(text)
        elif char == "(":
            if len(groups) > MAX_NESTING:
                raise RegexNotSupported(f"groups nested deeper than {MAX_NESTING}")
            if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!", "(?>"), i):
                raise RegexNotSupported("look-around and atomic groups are not supported")
            flag_group = _FLAG_GROUP.match(pattern, i)
            named = _NAMED_GROUP.match(pattern, i)
            if flag_group:
                letters = flag_group.group(1)
                multiline = _with_flags(group.multiline, letters)
                out.append(f"(?{letters}:")
                if flag_group.group(2) == ")":  # (?i) — to the end of the enclosing group
                    group.inline_flags.append(letters)
                    group.multiline = multiline
                else:  # (?i:...) — its own group
                    groups.append(_Group(multiline))
                i = flag_group.end()
            elif named:
                out.append(f"(?P<{named.group(1)}>")
                groups.append(_Group(group.multiline))
                i = named.end()
            else:
                out.append("(")
                groups.append(_Group(group.multiline))
                i += 1
        elif char == ")":
            if len(groups) == 1:
                raise RegexNotSupported("unbalanced )")
            out.append(")" * len(groups.pop().inline_flags) + ")")
            i += 1
        elif char == "|":
            # Inline flags end with their branch and start again in the next one.
            flags = group.inline_flags
            out.append(")" * len(flags) + "|" + "".join(f"(?{f}:" for f in flags))
            i += 1
        elif char in "*+?" and pattern[i + 1 : i + 2] == "+":
            raise RegexNotSupported("possessive quantifiers are not supported")
        elif char == "{" and (repeat := _REPEAT.match(pattern, i)):
            counts = [int(n) for n in (repeat.group(1), repeat.group(3)) if n]
            if max(counts) > MAX_REPEAT:
                raise RegexNotSupported(f"repetition count over RE2's limit of {MAX_REPEAT}")
            if pattern.startswith("+", repeat.end()):
                raise RegexNotSupported("possessive quantifiers are not supported")
            out.append(repeat.group(0))
            i = repeat.end()
        elif char == "$":
            out.append("$" if group.multiline else r"\Z")
            i += 1
        else:
            out.append(char)
            i += 1
    if len(groups) != 1:
        raise RegexNotSupported("missing )")
    out.append(")" * len(groups[0].inline_flags))
    return "".join(out)
