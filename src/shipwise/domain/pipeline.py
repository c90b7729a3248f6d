"""A project's pipeline: its environments in promotion order, each fed by a branch."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipwise.domain.text import name_problem

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
KEY_RULE = (
    "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63"
)


@dataclass(frozen=True, slots=True)
class Stage:
    key: str
    name: str
    branch: str


# PRODUCT.md: feature → dev (DEV) → staging (STAGING) → main (PRODUCTION).
DEFAULT_PIPELINE = (
    Stage("dev", "Development", "dev"),
    Stage("staging", "Staging", "staging"),
    Stage("production", "Production", "main"),
)


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a project, environment, flag or segment, or None."""
    if KEY_PATTERN.fullmatch(key):
        return None
    hidden = name_problem(key) if len(key) <= 1000 else None  # name what cannot be seen
    if hidden is not None:
        return f"{key!r} is not a valid key: it {hidden}"
    return f"{key!r} is not a valid key: use {KEY_RULE} characters"
