"""Who may show a feature to more users, as ``shipwise.toml`` says it: ``protected`` and
``testers`` on each ``[[stage]]``, and the ``[change_requests]`` table. ``policy.py``
calls these readers and writers; docs/policy.md describes the keys.

``protected`` is the one stage setting whose default is on (for the last stage), so a
custom pipeline is never left open by leaving the key out.
"""

from __future__ import annotations

from typing import NoReturn, Protocol

from shipwise.domain.pipeline import key_problem
from shipwise.domain.policy_model import ApprovalRule

EVERYONE = "everyone"
NOBODY = "none"  # in the file; None in the model: promotion leaves the flags alone
STAGE_KEYS = ("protected", "testers")
CHANGE_REQUEST_KEYS = ("approvals",)


class Section(Protocol):
    """The part of ``policy._Table`` these readers use."""

    def has(self, name: str) -> bool: ...

    def boolean(self, name: str, default: bool) -> bool: ...

    def text(self, name: str, example: str) -> str: ...

    def fail(self, name: str, problem: str) -> NoReturn: ...


def read_protection(section: Section, environment: str, *, last: bool) -> tuple[bool, str | None]:
    """(protected, testers) of one ``[[stage]]``; ``last``: the pipeline's last stage."""
    protected = section.boolean("protected", last)
    if not section.has("testers"):
        return protected, None if protected else EVERYONE
    testers = section.text("testers", f'"{EVERYONE}"')
    if testers == NOBODY:
        return protected, None
    if protected:
        section.fail(
            "testers",
            f'"{environment}" is protected: its rollout plan decides who sees the feature; '
            "remove testers or set protected = false",
        )
    if testers != EVERYONE and (problem := key_problem(testers)):
        section.fail(
            "testers",
            f'{problem}; write testers = "{EVERYONE}", "{NOBODY}" or a segment\'s name, '
            'e.g. "qa-team"',
        )
    return protected, testers


def change_requests_lines(rule: ApprovalRule, approvals: str) -> list[str]:
    """``[change_requests]``; ``approvals`` is the rule written as an approvals table."""
    anyone = "  # roles left out: anyone who may change flags" if not rule.roles else ""
    return [
        "",
        "[change_requests]  # exposing a flag in a protected environment outside a release",
        f"approvals = {approvals}{anyone}",
    ]
