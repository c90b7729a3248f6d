"""The ``[[stage]]`` settings of ``shipwise.toml``: PRODUCT.md's defaults for a pipeline,
and one stage read and written back.

A stage's gate switches (``require_ci``, ``business_hours``, … every true/false field of
``StageGates`` but ``protected``) are read and written by one loop, with the defaults
``StageGates`` declares: a gate that reads existing evidence needs only its definition
in ``domain.gates`` and its field on ``StageGates`` (written after the others in the
file). The settings that are more than a switch have a reader and a writer each here;
``protected`` and ``testers`` are ``policy_protection``'s.

Examples in messages name the pipeline's own environments: the stage before production
(``pipeline.stage_before_production``), not a "staging" the pipeline may not have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from datetime import time
from typing import Any

from shipwise.domain import policy_protection as protection
from shipwise.domain.pipeline import key_problem, stage_before_production
from shipwise.domain.policy_model import ApprovalRule, HotfixPolicy, Policy, StageGates, Window
from shipwise.domain.policy_reading import Table
from shipwise.domain.policy_sections import read_approvals, read_branch
from shipwise.domain.policy_toml import approvals_value, toml_value
from shipwise.domain.releases import DEFAULT_FIX_WITHIN, ApproverRole, Severity

__all__ = [
    "DEFAULT_ENVIRONMENTS",
    "STAGE_KEYS",
    "SWITCHES",
    "default_policy",
    "dump_stage",
    "read_stage",
    "testing_example",
]

# PRODUCT.md's pipeline: (environment, the branch that deploys it), in promotion order.
DEFAULT_ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    ("dev", "dev"),
    ("staging", "staging"),
    ("production", "main"),
)
_DEFAULT_TESTED = stage_before_production([name for name, _ in DEFAULT_ENVIRONMENTS]) or "dev"
_ANY_APPROVER = frozenset(ApproverRole)

# -- the defaults --------------------------------------------------------------------------


def default_policy(
    environments: Sequence[tuple[str, str]] = DEFAULT_ENVIRONMENTS, timezone: str = "UTC"
) -> Policy:
    """PRODUCT.md's process for ``environments`` ((environment, branch) in promotion order):
    the first gets dev's gates, the last production's, any between staging's. Whatever a
    stage does not set takes ``StageGates``' default (CI is required everywhere)."""
    names = [environment for environment, _ in environments]
    if not names:
        raise ValueError("default_policy needs at least one (environment, branch)")
    if len(set(names)) != len(names):
        raise ValueError(f"default_policy: an environment is listed twice in {names}")
    stages: list[StageGates] = []
    for index, (environment, branch) in enumerate(environments):
        previous = names[index - 1] if index else None
        if index == len(names) - 1:
            stages.append(_production_stage(environment, branch, previous))
        elif previous is None:
            code_owner = ApprovalRule(1, frozenset({ApproverRole.CODE_OWNER}))
            stages.append(StageGates(environment, branch, approvals=code_owner))
        else:
            approval = ApprovalRule(1, _ANY_APPROVER)
            stages.append(
                StageGates(environment, branch, approvals=approval, require_previous_deploy=True)
            )
    return Policy(
        timezone=timezone,
        stages=tuple(stages),
        window=Window(frozenset(range(5)), time(9, 0), time(17, 0)),
        freezes=(),
        one_feature_per_release=True,
        max_feature_rollouts=1,
        hotfix=HotfixPolicy(
            severities=frozenset({Severity.CRITICAL}),
            branch=environments[-1][1],
            approvals=ApprovalRule(
                2, frozenset({ApproverRole.CODE_OWNER, ApproverRole.RELEASE_MANAGER})
            ),
            require_justification=True,
            label="HOTFIX",
        ),
        fix_within=dict(DEFAULT_FIX_WITHIN),
        code_owners=(),
    )


def _production_stage(environment: str, branch: str, previous: str | None) -> StageGates:
    return StageGates(
        environment,
        branch,
        approvals=ApprovalRule(2, _ANY_APPROVER),
        signoffs=(("qa", previous),) if previous else (),
        require_previous_deploy=previous is not None,
        require_rollback_plan=True,
        rollback_drill_in=previous,
        business_hours=True,
        respect_freezes=True,
        one_feature_rolling_out=True,
        protected=True,
        testers=None,
    )


# -- the keys ------------------------------------------------------------------------------

# Every true/false gate switch of a stage, with its default, in StageGates' order.
SWITCHES: dict[str, bool] = {
    f.name: f.default
    for f in fields(StageGates)
    if isinstance(f.default, bool) and f.name not in protection.STAGE_KEYS
}
# The order the file lists a stage's keys in (messages name them in it). A switch added
# to StageGates later follows these, before the protection keys.
_ORDER = (
    "environment",
    "branch",
    "require_ci",
    "require_previous_deploy",
    "approvals",
    "signoffs",
    "checklist",
    "require_rollback_plan",
    "rollback_drill_in",
    "business_hours",
    "respect_freezes",
    "one_feature_rolling_out",
)
STAGE_KEYS = (
    *_ORDER,
    *(name for name in SWITCHES if name not in _ORDER),
    *protection.STAGE_KEYS,
)
_SIGNOFF_KEYS = ("kind", "environment")
_unwritten = {f.name for f in fields(StageGates)} - set(STAGE_KEYS)
if _unwritten:  # a setting the file could not hold: fail at import, not in a round trip
    raise ValueError(f"StageGates settings with no [[stage]] key: {sorted(_unwritten)}")


def testing_example(sections: Sequence[Table], known: Sequence[str] | None) -> str:
    """The environment messages suggest for a sign-off or a drill: the pipeline's stage
    before production (before the first stage written protected, else the last), taken
    from ``known`` or, when not given, from the environments the stages name."""
    written = [s.data.get("environment") for s in sections]
    names = list(known) if known is not None else [e for e in written if isinstance(e, str)]
    protected = next(
        (e for s, e in zip(sections, written, strict=True) if s.data.get("protected") is True),
        None,
    )
    found = stage_before_production(names, protected if isinstance(protected, str) else None)
    return found or _DEFAULT_TESTED  # no stage names an environment: any example will do


# -- reading -------------------------------------------------------------------------------


def read_stage(section: Table, *, last: bool, tested: str) -> StageGates:
    """One ``[[stage]]``; ``last``: the pipeline's last stage; ``tested``: the environment
    examples suggest for sign-offs and drills."""
    section.only(STAGE_KEYS)
    environment = section.text("environment", '"production"')
    protected, testers = protection.read_protection(section, environment, last=last)
    branch = read_branch(section, "branch")
    approvals = read_approvals(section, "approvals") if section.has("approvals") else None
    signoffs: list[tuple[str, str]] = []
    if section.has("signoffs"):
        example = f"[{{ kind = {toml_value('qa')}, environment = {toml_value(tested)} }}]"
        for signoff in section.tables("signoffs", "a sign-off", f"write signoffs = {example}"):
            signoff.only(_SIGNOFF_KEYS)
            kind = signoff.text("kind", '"qa"')
            if problem := key_problem(kind):
                signoff.fail("kind", f'{problem}, e.g. "qa"')
            signoffs.append((kind, signoff.text("environment", toml_value(tested))))
    checklist: list[str] = []
    if section.has("checklist"):
        checklist = section.texts("checklist", '["Release notes shared with the team"]')
        for index, item in enumerate(checklist):
            if item in checklist[:index]:
                section.fail(f"checklist[{index}]", f'"{item}" is listed twice; write it once')
    drill = None
    if section.has("rollback_drill_in"):
        drill = section.text("rollback_drill_in", toml_value(tested))
    stage = StageGates(
        environment,
        branch,
        approvals=approvals,
        signoffs=tuple(signoffs),
        checklist=tuple(checklist),
        rollback_drill_in=drill,
        protected=protected,
        testers=testers,
    )
    # Any: the switches are StageGates' bool fields, by name, which mypy cannot follow.
    switches: dict[str, Any] = {name: section.boolean(name, d) for name, d in SWITCHES.items()}
    return replace(stage, **switches)


# -- writing -------------------------------------------------------------------------------


def _approvals_line(stage: StageGates) -> list[str]:
    if stage.approvals is None:
        return ["# no approvals required"]
    return [f"approvals = {approvals_value(stage.approvals)}"]


def _signoffs_line(stage: StageGates) -> list[str]:
    if not stage.signoffs:
        return []
    signoffs = ", ".join(
        f"{{ kind = {toml_value(kind)}, environment = {toml_value(environment)} }}"
        for kind, environment in stage.signoffs
    )
    return [f"signoffs = [{signoffs}]"]


def _protection_lines(stage: StageGates) -> list[str]:
    lines = [f"protected = {toml_value(stage.protected)}"]
    if not stage.protected:  # a protected stage's rollout plan decides who sees a feature
        testers = protection.NOBODY if stage.testers is None else stage.testers
        lines.append(
            f"testers = {toml_value(testers)}  # who sees its flags once a release is here"
        )
    return lines


# How each key that is not a switch is written; None: written with another key.
_WRITERS: dict[str, Callable[[StageGates], list[str]] | None] = {
    "environment": lambda stage: [f"environment = {toml_value(stage.environment)}"],
    "branch": lambda stage: [f"branch = {toml_value(stage.branch)}"],
    "approvals": _approvals_line,
    "signoffs": _signoffs_line,
    "checklist": lambda stage: (
        [f"checklist = {toml_value(stage.checklist)}"] if stage.checklist else []
    ),
    "rollback_drill_in": lambda stage: (
        []
        if stage.rollback_drill_in is None
        else [f"rollback_drill_in = {toml_value(stage.rollback_drill_in)}"]
    ),
    "protected": _protection_lines,
    "testers": None,
}


def dump_stage(stage: StageGates) -> list[str]:
    """``stage`` as a ``[[stage]]`` table, every key in ``STAGE_KEYS`` order."""
    lines = ["", "[[stage]]"]
    for key in STAGE_KEYS:
        if key in SWITCHES:
            lines.append(f"{key} = {toml_value(getattr(stage, key))}")
        elif (write := _WRITERS[key]) is not None:
            lines += write(stage)
    return lines
