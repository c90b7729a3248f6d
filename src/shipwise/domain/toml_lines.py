"""Where each key of a TOML text is written: tomllib keeps no positions, so error
messages that name a line need this second, light walk over the text.

    TomlLines(text).run().line_of("stage[1].approvals.count") -> 7 (or None)

Paths are dotted, with array elements and ``[[tables]]`` indexed from 0:
``stage[1].signoffs[0].environment``. Pure: the standard library only.
"""

from __future__ import annotations

import bisect
import re

__all__ = ["TomlLines", "join_key", "parent_key"]


def join_key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def parent_key(path: str) -> str:
    return path[: max(path.rfind("."), path.rfind("["), 0)]


class TomlLines:
    """The line of every key, table header and array element of valid TOML text, by
    dotted path (``stage[1].approvals.count``). tomllib keeps no positions, so this walks
    the text once; it trusts tomllib to have rejected anything malformed."""

    _BARE = re.compile(r"[A-Za-z0-9_-]*")
    _SCALAR_END = frozenset(",]}#\r\n")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.lines: dict[str, int] = {}
        self.tables: dict[str, int] = {}  # array-of-tables path → elements so far

    def line_of(self, key: str | None) -> int | None:
        """The line that writes ``key``, or else its nearest written parent."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = parent_key(key)
        return None

    def run(self) -> TomlLines:
        table = ""
        while self._blank(newlines=True):
            if self._peek() == "[":
                table = self._header()
            else:
                self._keyval(table)
        return self

    def _peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def _line(self) -> int:
        return bisect.bisect_left(self.newlines, self.pos) + 1

    def _record(self, path: str, line: int) -> None:
        self.lines.setdefault(path, line)

    def _blank(self, *, newlines: bool) -> bool:
        """Skip spaces (and newlines and comments); whether any text is left."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            else:
                return True
        return False

    def _resolve(self, parts: list[str]) -> str:
        path = ""
        for part in parts:
            path = join_key(path, part)
            if path in self.tables:
                path = f"{path}[{self.tables[path] - 1}]"
        return path

    def _header(self) -> str:
        line = self._line()
        double = self._peek(2) == "[["
        self.pos += 2 if double else 1
        parts = self._key()
        self.pos += 2 if double else 1
        if not double:
            path = self._resolve(parts)
        else:
            base = join_key(self._resolve(parts[:-1]), parts[-1])
            index = self.tables.get(base, 0)
            self.tables[base] = index + 1
            path = f"{base}[{index}]"
        for prefix in _prefixes(path):
            self._record(prefix, line)
        return path

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._blank(newlines=False)
            quote = self._peek()
            if quote in "\"'" and quote:
                start = self.pos + 1
                self._string()
                parts.append(self.text[start : self.pos - 1])
            else:
                match = self._BARE.match(self.text, self.pos)
                parts.append(match.group() if match else "")
                self.pos = match.end() if match else self.pos
            self._blank(newlines=False)
            if self._peek() != ".":
                return parts
            self.pos += 1

    def _keyval(self, table: str) -> None:
        line = self._line()
        path = table
        for part in self._key():
            path = join_key(path, part)
            self._record(path, line)
        self.pos += 1  # "="
        self._blank(newlines=False)
        self._value(path)

    def _value(self, path: str) -> None:
        char = self._peek()
        if char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        elif char in "\"'" and char:
            self._string()
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in self._SCALAR_END:
                self.pos += 1

    def _array(self, path: str) -> None:
        self.pos += 1
        index = 0
        while self._blank(newlines=True) and self._peek() != "]":
            before = self.pos
            element = f"{path}[{index}]"
            self._record(element, self._line())
            self._value(element)
            index += 1
            self._blank(newlines=True)
            if self._peek() == "," or self.pos == before:  # the second: never loop forever
                self.pos += 1
        self.pos += 1

    def _inline_table(self, path: str) -> None:
        self.pos += 1
        while self._blank(newlines=True) and self._peek() != "}":
            self._keyval(path)
            self._blank(newlines=True)
            if self._peek() == ",":
                self.pos += 1
        self.pos += 1

    def _string(self) -> None:
        text = self.text
        quote = text[self.pos]
        delimiter = quote * 3 if self._peek(3) == quote * 3 else quote
        self.pos += len(delimiter)
        while self.pos < len(text):
            if quote == '"' and text[self.pos] == "\\":
                self.pos += 2
            elif text.startswith(delimiter, self.pos):
                self.pos += len(delimiter)
                while len(delimiter) == 3 and self._peek() == quote:  # """a"""" is a"
                    self.pos += 1
                return
            else:
                self.pos += 1


def _prefixes(path: str) -> list[str]:
    found = []
    while path:
        found.append(path)
        path = parent_key(path)
    return found[::-1]
