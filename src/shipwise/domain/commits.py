"""What a commit identity is, once, for every edge a commit enters by.

Gates compare commits exactly: the release's commit against those CI and deploys were
reported for (in SQL too). So every edge stores the one spelling git prints: the full
SHA in lower case, 40 hex digits (SHA-1) or 64 (SHA-256 repositories). Upper case is
lowered, surrounding whitespace dropped. A short SHA is refused rather than kept: it
would never equal the full SHA CI reports, so the release's CI gate could never turn
green, and only git can resolve it (it may be ambiguous); Shipwise has no repository.

Pure: ``re`` only.
"""

from __future__ import annotations

import re

FULL_LENGTHS = (40, 64)
_HEX = re.compile(r"^[0-9a-f]+$")


def commit_problem(value: str) -> str | None:
    """Why ``value`` is not a commit SHA Shipwise can compare, in words; None if it is."""
    text = value.strip().lower()
    shown = value.strip()[:80]
    if not text or not _HEX.match(text):
        return (
            f"commit {shown!r} is not a commit SHA: give the full 40-character SHA "
            "(e.g. `git rev-parse HEAD`)"
        )
    if len(text) < FULL_LENGTHS[0]:
        return (
            f"commit {shown!r} is short: give the full 40-character SHA "
            f"(e.g. `git rev-parse {shown}`), since the gates compare whole commits"
        )
    if len(text) not in FULL_LENGTHS:
        return (
            f"commit {shown!r} has {len(text)} hex digits: a SHA has 40 (or 64 in a "
            "SHA-256 repository)"
        )
    return None


def normalize_commit(value: str) -> str:
    """``value`` as stored and compared: the full SHA in lower case. Raises ValueError
    (the words of ``commit_problem``) for anything else, a short SHA included."""
    if problem := commit_problem(value):
        raise ValueError(problem)
    return value.strip().lower()
