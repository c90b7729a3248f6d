"""What a change request changes, for the people who review it on its page: the target
before and after in the words the flag page uses ("25% of users by default", "if plan IN
pro"), each line marked kept, removed or added. A policy request also brings its own
words (``domain.policy_diff``: what is weaker) and the unified diff of its
``shipwise.toml``, as ``shipwise change show`` prints it."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shipwise.domain.change_requests import ChangeRequest, RequestKind, text_diff
from shipwise.server.web.flag_words import (
    constraint_words,
    dependency_words,
    strategy_words,
    variant_words,
)

__all__ = ["Mark", "WordLine", "policy_source_diff", "words_diff"]


class Mark(StrEnum):
    KEPT = "kept"
    REMOVED = "removed"
    ADDED = "added"


@dataclass(frozen=True, slots=True)
class WordLine:
    mark: Mark
    text: str


def _rules_words(rules: Mapping[str, Any]) -> list[str]:
    lines = ["on" if rules.get("enabled") else "off"]
    for strategy in rules.get("strategies") or []:
        # A segment is named by its number here: the request stores what the API stores.
        head, *conditions = strategy_words(strategy, {})
        lines += [f"serves {head}", *(f"  {c}" for c in conditions)]
    lines += [f"variant {variant_words(v)}" for v in rules.get("variants") or []]
    lines += [f"only when {dependency_words(d)}" for d in rules.get("dependencies") or []]
    return lines


def _segment_words(segment: Mapping[str, Any]) -> list[str]:
    lines = [f"description: {segment.get('description') or '(none)'}"]
    lines += [f"if {constraint_words(c)}" for c in segment.get("constraints") or []]
    return lines


def _marked(before: list[str], after: list[str]) -> list[WordLine]:
    lines: list[WordLine] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [WordLine(Mark.KEPT, text) for text in before[i1:i2]]
            continue
        lines += [WordLine(Mark.REMOVED, text) for text in before[i1:i2]]
        lines += [WordLine(Mark.ADDED, text) for text in after[j1:j2]]
    return lines


def words_diff(request: ChangeRequest) -> list[WordLine]:
    """The flag's or segment's state before and after, line by line; a policy request's
    own words (``domain.policy_diff``), each an added line."""
    if request.kind is RequestKind.FLAG:
        return _marked(_rules_words(request.before), _rules_words(request.change))
    if request.kind is RequestKind.SEGMENT:
        return _marked(_segment_words(request.before), _segment_words(request.change))
    return [WordLine(Mark.ADDED, str(line)) for line in request.change.get("diff") or ()]


def policy_source_diff(request: ChangeRequest) -> list[str]:
    """A policy request's ``shipwise.toml``, in force and proposed, as a unified diff."""
    if request.kind is not RequestKind.POLICY:
        return []
    before = str(request.before.get("source") or "")
    after = str(request.change.get("source") or "")
    return text_diff(before, after, "shipwise.toml (in force)", "shipwise.toml (proposed)")
