"""RE2 regular expressions for the ``REGEX`` operator, run by RE2 itself (``google-re2``).

The Unleash ``REGEX`` operator uses RE2 syntax (as its Rust and Go engines do), so RE2
decides what a pattern means and whether it is valid: no look-around, no
back-references, POSIX classes like ``[[:alpha:]]``, Unicode classes (``\\pL``), flags
such as ``(?i)`` applying to the rest of their group, ASCII-only ``\\w \\d \\s \\b`` but
Unicode case folding, ``$`` matching only at the very end unless ``(?m)``, at most 1000
repetitions. RE2 runs in time linear in the input: no pattern can make a match
backtrack (Python's ``re`` took seconds for ``(a+)+$`` against 26 ``a`` and a ``!``).

What Shipwise adds to RE2's defaults:

- The operator searches (the pattern may match anywhere in the value), as the Unleash
  specification says; ``caseInsensitive`` switches RE2's ``case_sensitive`` option off.
- Limits, so neither compiling nor matching one pattern can take much time or memory.
  Matching costs at worst about the input's length times the compiled program's size
  (when RE2's DFA gives up on a pattern whose states explode, such as
  ``(a|b)*a(a|b){900}c`` against random ``a``/``b`` text, it falls back to simulating
  the program, instruction by instruction, per byte). So a program of more than
  ``MAX_PROGRAM_SIZE`` RE2 instructions is refused (large counted repetitions make
  them: ``x{1000}`` is 1,004; so do Unicode classes: ``\\pL`` is 1,201, ``\\p{Greek}``
  66), and the operator sees values of at most ``context.MAX_CONTEXT_VALUE_LENGTH`` characters
  (longer ones match no constraint at all). With both limits the worst pattern we found
  takes about 10 ms against a cold cache (``bench/abuse.py``); ordinary patterns take
  about a microsecond. RE2 gets ``MAX_MEMORY`` bytes per pattern for its program and
  its caches. A refusal raises ``RegexNotSupported`` with RE2's reason or ours.
- Text, not bytes: RE2 matches UTF-8. A Python string can hold a lone surrogate
  (``"\\ud800"``, e.g. from a JSON ``"\\ud800"`` escape), which has no UTF-8 form; each one
  is replaced by U+FFFD (the replacement character, ``context.utf8``) before matching, so it matches
  ``.``, ``\\x{FFFD}`` or ``[^a]``, never a letter, and never raises. A pattern holding a
  lone surrogate is not valid UTF-8 and is refused.
- Only whether the pattern matches is asked (capturing groups are not tracked), which
  lets RE2 answer from its DFA.

Memory: each compiled pattern holds at most ``MAX_MEMORY``; besides the patterns of the
loaded snapshots, ``google-re2`` keeps its last 128 compiled patterns in a cache.
"""

from __future__ import annotations

from typing import Any

import re2

from shipwise.engine.context import utf8

MAX_PROGRAM_SIZE = 1_000  # RE2 instructions: see the module docstring
MAX_MEMORY = 1 << 20  # bytes per pattern: its program and its matching caches


class RegexNotSupported(ValueError):
    """The pattern is not valid RE2 (or too large to run safely)."""


def _options(case_insensitive: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = not case_insensitive
    options.never_capture = True  # only "does it match?" is asked: groups cost time
    options.log_errors = False  # a bad pattern is reported to its author, not to stderr
    options.max_mem = MAX_MEMORY
    return options


class Re2Pattern:
    """A compiled pattern: ``matches(text)`` says whether it matches anywhere in text."""

    __slots__ = ("_search", "pattern")

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._search = compiled.search

    def matches(self, text: str) -> bool:
        return self._search(utf8(text)) is not None

    def __repr__(self) -> str:
        return f"Re2Pattern({self.pattern!r})"


def compile_re2(pattern: str, *, case_insensitive: bool = False) -> Re2Pattern:
    """Compile ``pattern`` with RE2, or raise ``RegexNotSupported`` saying why not."""
    try:
        encoded = pattern.encode("utf-8")
    except UnicodeEncodeError:
        raise RegexNotSupported(
            f"invalid regular expression {pattern!r}: it holds a lone surrogate, which is not text"
        ) from None
    try:
        compiled = re2.compile(encoded, _options(case_insensitive))
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexNotSupported(f"invalid regular expression {pattern!r}: {reason}") from None
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise RegexNotSupported(
            f"regular expression {pattern!r} is too large: {compiled.programsize} RE2 "
            f"instructions, over the limit of {MAX_PROGRAM_SIZE} (large counted "
            "repetitions such as x{1000} and Unicode classes such as \\pL make it so)"
        )
    return Re2Pattern(pattern, compiled)
