"""A project's pipeline: its environments in promotion order, each fed by a branch."""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def stage_before_production(
    environments: Sequence[str], production: str | None = None
) -> str | None:
    """Where a release is tried before production: the environment just before
    ``production`` (the last one when None), since pipelines name their stages freely
    (dev → qa → prod tests in qa, not in a "staging" it lacks). A one-stage pipeline, or a
    production that comes first, is its own; None for no environments."""
    if not environments:
        return None
    position = environments.index(production) if production in environments else -1
    position = position % len(environments)
    return environments[position - 1] if position > 0 else environments[position]


__all__ = [
    "DEFAULT_PIPELINE",
    "KEY_PATTERN",
    "KEY_RULE",
    "Stage",
    "key_problem",
    "stage_before_production",
]
