"""``[notes]`` of ``shipwise.toml``: what release notes leave out.

    [notes]
    exclude = ["chore", "ci", "^Merge branch"]

A rule that looks like a type name (lower-case letters, digits, dashes) leaves out the
entries of that conventional type; any other rule is an RE2 regular expression searched
in an entry's headline (the commit's subject, or the pull request's title). At most
``MAX_EXCLUDE_RULES`` rules of ``MAX_RULE_LENGTH`` characters each, each checked here so
a bad one is reported with its line before the policy is applied.
"""

from __future__ import annotations

from shipwise.domain.policy_reading import Table
from shipwise.domain.policy_toml import toml_value
from shipwise.domain.release_notes import MAX_EXCLUDE_RULES, rule_problem

__all__ = ["NOTES_KEYS", "notes_lines", "read_notes"]

NOTES_KEYS = ("exclude",)
_EXAMPLE = '["chore", "ci", "^Merge branch"]'


def read_notes(root: Table, base: tuple[str, ...]) -> tuple[str, ...]:
    section = root.table("notes", "[notes]", "write [notes] (single brackets)")
    section.only(NOTES_KEYS)
    if not section.has("exclude"):
        return base
    rules = section.texts("exclude", _EXAMPLE)
    if len(rules) > MAX_EXCLUDE_RULES:
        section.fail("exclude", f"lists {len(rules)} rules; keep at most {MAX_EXCLUDE_RULES}")
    for index, rule in enumerate(rules):
        if problem := rule_problem(rule):
            section.note(f"exclude[{index}]", f'"{rule[:80]}" {problem}')
        if rule in rules[:index]:
            section.note(f"exclude[{index}]", f'"{rule[:80]}" is listed twice; write it once')
    return tuple(rules)


def notes_lines(exclude: tuple[str, ...]) -> list[str]:
    return [
        "",
        "[notes]  # what release notes leave out: conventional types, or RE2 patterns",
        f"exclude = {toml_value(list(exclude))}",
    ]
