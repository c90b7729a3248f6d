"""Semantic Versioning 2.0.0 parsing and ordering, for the SEMVER_* constraint operators.

Strict: ``v1.2.3`` and ``1.2`` are not versions (the Unleash specification agrees), and
build metadata (``+build.5``) does not take part in ordering.
"""

from __future__ import annotations

import re

_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?",
    re.ASCII,  # \d is 0-9 only: "1٣.0.0" is not a version
)

# (major, minor, patch, is_release, pre-release identifiers). A release sorts after all
# of its pre-releases; numeric identifiers sort before alphanumeric ones.
SemverKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def parse_semver(text: str) -> SemverKey | None:
    """The ordering key of ``text``, or None when it is not a semantic version."""
    match = _SEMVER.fullmatch(text)  # fullmatch: no trailing newline either
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (int(major), int(minor), int(patch), 0, identifiers)
