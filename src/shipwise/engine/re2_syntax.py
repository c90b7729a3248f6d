"""RE2 regular expressions, run on Python's ``re``.

The Unleash ``REGEX`` operator uses RE2 syntax (as its Rust and Go engines do): no
look-around, no back-references, POSIX classes like ``[[:alpha:]]``, flags such as
``(?i)`` anywhere in the pattern applying to the rest of their group, ASCII ``\\w \\d
\\b``, and ``$`` matching only at the very end unless ``(?m)``. ``translate`` turns such a
pattern into an equivalent Python pattern, or raises ``RegexNotSupported`` for what RE2
rejects, so a rule behaves the same whichever SDK evaluates it.
"""

from __future__ import annotations

import re

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
_FLAG_GROUP = re.compile(r"\(\?([imsU-]+)(\)|:)")
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")


class RegexNotSupported(ValueError):
    """The pattern is not valid RE2."""


def compile_re2(pattern: str, *, case_insensitive: bool = False) -> re.Pattern[str]:
    flags = re.ASCII | (re.IGNORECASE if case_insensitive else 0)
    try:
        return re.compile(translate(pattern), flags)
    except re.error as error:
        raise RegexNotSupported(f"invalid regular expression {pattern!r}: {error}") from None


def _char_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression starting at ``pattern[start] == '['``."""
    out = ["["]
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        out.append(r"\]")
        i += 1
    while i < len(pattern):
        char = pattern[i]
        if char == "]":
            out.append("]")
            return "".join(out), i + 1
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end != -1 else ""
            if name not in _POSIX_CLASSES:
                raise RegexNotSupported(f"unknown character class [:{name}:]")
            out.append(_POSIX_CLASSES[name])
            i = end + 2
            continue
        if char == "[":
            out.append(r"\[")
        else:
            out.append(char)
        i += 1
    raise RegexNotSupported("missing closing ]")


def translate(pattern: str) -> str:  # noqa: PLR0915 - one scanner, read top to bottom
    multiline = bool(re.search(r"\(\?[a-zA-Z-]*m", pattern))
    out: list[str] = []
    # For each open group, how many ")" its inline flags still owe at its end.
    pending: list[int] = [0]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt == "":
                raise RegexNotSupported("trailing backslash")
            if nxt.isdigit() and nxt != "0":
                raise RegexNotSupported("back-references are not supported")
            if nxt in "pPCZ":
                raise RegexNotSupported(f"\\{nxt} is not supported")
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                end = len(pattern) if end == -1 else end
                out.append(re.escape(pattern[i + 2 : end]))
                i = end + 2
                continue
            out.append(r"\Z" if nxt == "z" else pattern[i : i + 2])
            i += 2
        elif char == "[":
            text, i = _char_class(pattern, i)
            out.append(text)
        elif char == "(":
            if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!", "(?>"), i):
                raise RegexNotSupported("look-around and atomic groups are not supported")
            flag_group = _FLAG_GROUP.match(pattern, i)
            named = _NAMED_GROUP.match(pattern, i)
            if flag_group:
                letters = flag_group.group(1)
                if "U" in letters:
                    raise RegexNotSupported("the U (ungreedy) flag is not supported")
                out.append(f"(?{letters}:")
                if flag_group.group(2) == ")":
                    pending[-1] += 1  # close at the end of the enclosing group
                else:
                    pending.append(0)
                i = flag_group.end()
            elif named:
                out.append(f"(?P<{named.group(1)}>")
                pending.append(0)
                i = named.end()
            else:
                out.append("(")
                pending.append(0)
                i += 1
        elif char == ")":
            if len(pending) == 1:
                raise RegexNotSupported("unbalanced )")
            out.append(")" * pending.pop() + ")")
            i += 1
        elif char in "*+?}" and pattern[i + 1 : i + 2] == "+":
            raise RegexNotSupported("possessive quantifiers are not supported")
        elif char == "$" and not multiline:
            out.append(r"\Z")
            i += 1
        else:
            out.append(char)
            i += 1
    if len(pending) != 1:
        raise RegexNotSupported("missing )")
    out.append(")" * pending[0])
    return "".join(out)
