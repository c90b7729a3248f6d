"""The hotfix path's own gates: the release qualifies for it, and someone wrote why it
cannot wait for the normal path. (Its approvals and CI are the ordinary gates, judged
with the hotfix path's rule.)"""

from __future__ import annotations

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_route import between, is_hotfix_eligible, next_environment
from shipwise.domain.releases import ChangeKind, Severity
from shipwise.domain.wording import first_line, names

__all__ = ["HOTFIX_PATH", "JUSTIFICATION", "QUALIFIES"]

HOTFIX_PATH = "hotfix-path"  # the id of the gate that the release qualifies for the path


def severities(policy: Policy) -> str:
    return " or ".join(s.value for s in Severity if s in policy.hotfix.severities) or "none"


def _qualifies(judging: Judging, _item: Item) -> Judged:
    release, target, policy = judging.release, judging.target, judging.policy
    hotfix = policy.hotfix
    if is_hotfix_eligible(release, policy):
        skipped = between(policy, release.stage, target)
        goes = f"straight to {target}" + (f", skipping {names(skipped)}" if skipped else "")
        severity = release.severity.value if release.severity else ""
        found = f"a {severity} {release.kind.value} based on {hotfix.branch}"
        return ok(f"{found}: the hotfix path goes {goes}")
    problems = []
    if release.kind is ChangeKind.FEATURE:
        problems.append("a feature never takes the hotfix path")
    if release.severity not in hotfix.severities:
        severity = release.severity.value if release.severity else "no severity"
        problems.append(f"severity {severity} is not {severities(policy)}")
    if release.branch != hotfix.branch:
        problems.append(f"it is based on {release.branch or 'no branch'}, not {hotfix.branch}")
    expected = next_environment(policy, release.stage)
    remedy = (
        f"take the normal path: {commands.promote(release, expected)}"
        if expected
        else "take the normal path"
    )
    if release.kind is not ChangeKind.FEATURE and release.severity in hotfix.severities:
        branch = commands.set_branch(release, hotfix.branch)
        remedy = f"branch the fix from {hotfix.branch} ({branch}), or {remedy}"
    return no("; ".join(problems), remedy)


def _justification(judging: Judging, _item: Item) -> Judged:
    release = judging.release
    text = (release.justification or "").strip()
    if text:
        return ok(f"written: {first_line(text)}")
    write = commands.write_justification(release)
    remedy = (
        "write why this cannot wait for the normal path (what is broken, for whom, since "
        f"when): {write}"
    )
    return no("no justification written for skipping the pipeline", remedy)


def _on_the_path(where: Where) -> bool:
    return where.hotfix


QUALIFIES = Gate(
    HOTFIX_PATH,
    "Hotfix path",
    applies=_on_the_path,
    describe=lambda where, _item: (
        f"a {severities(where.policy)} fix based on {where.policy.hotfix.branch}"
    ),
    judge=_qualifies,
)
JUSTIFICATION = Gate(
    "justification",
    "Justification written",
    applies=lambda where: where.hotfix and where.policy.hotfix.require_justification,
    describe=lambda _where, _item: "a written justification for skipping the pipeline",
    judge=_justification,
)
