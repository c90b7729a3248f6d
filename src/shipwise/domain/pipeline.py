"""A project's pipeline: its environments in promotion order, each fed by a branch."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipwise.domain.keys import KEY, key_problem

# The lowercase rule of every key but a flag's (domain.keys), for callers that match it.
KEY_PATTERN = re.compile(KEY.pattern)
KEY_RULE = KEY.rule


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


__all__ = ["DEFAULT_PIPELINE", "KEY_PATTERN", "KEY_RULE", "Stage", "key_problem"]
