"""Reading the project's Markdown as a newcomer would: the shell commands in its code
blocks (with what each is expected to answer) and the files its links point at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
# Inline links [text](target "title") and reference definitions [name]: target.
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_EXPECTED_EXIT = re.compile(r"\(exit (\d+)\)")


@dataclass(frozen=True)
class Command:
    """One line of a shell block: the text as written, its trailing comment, the line
    number in its file, and the exit code the comment states (0 when it states none)."""

    text: str
    comment: str
    line: int

    @property
    def expected_exit(self) -> int:
        stated = _EXPECTED_EXIT.search(self.comment)
        return int(stated.group(1)) if stated else 0

    @property
    def program(self) -> str:
        return self.text.split(maxsplit=1)[0]


def split_comment(line: str) -> tuple[str, str]:
    """``shipwise x --reason "a # b"   # why`` -> (the command, ``why``): a ``#`` starts a
    comment only outside quotes and after a blank, as bash reads it."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in {"'", '"'}:
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def shell_commands(path: Path) -> list[Command]:
    """The commands of every shell code block: every line of a ``bash``/``sh`` block, and
    in a ``console`` block the lines after a ``$ `` prompt (the rest is their output)."""
    commands: list[Command] = []
    fence, language = "", ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opened = _FENCE.match(raw.strip())
        if not fence:
            if opened:
                fence, language = opened.group(1), opened.group(2).lower()
            continue
        if raw.strip().startswith(fence):
            fence = ""
            continue
        if language not in SHELL_LANGUAGES:
            continue
        line = raw.strip()
        if language == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        text, comment = split_comment(line)
        if text:
            commands.append(Command(text, comment, number))
    return commands


def relative_links(path: Path) -> list[str]:
    """Link targets that are files of this repository (no scheme, no bare #anchor), with
    any #fragment cut off. Code blocks are skipped: their brackets are not links."""
    prose = _without_code_blocks(path.read_text(encoding="utf-8"))
    targets = _INLINE_LINK.findall(prose) + _REFERENCE_LINK.findall(prose)
    return [
        target.split("#", 1)[0]
        for target in targets
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and not target.startswith("#")
    ]


def inline_code(path: Path) -> list[str]:
    """The `code spans` of a file's prose."""
    return _INLINE_CODE.findall(_without_code_blocks(path.read_text(encoding="utf-8")))


def _without_code_blocks(text: str) -> str:
    kept: list[str] = []
    fence = ""
    for line in text.splitlines():
        opened = _FENCE.match(line.strip())
        if not fence and opened:
            fence = opened.group(1)
        elif fence and line.strip().startswith(fence):
            fence = ""
        elif not fence:
            kept.append(line)
    return "\n".join(kept)
