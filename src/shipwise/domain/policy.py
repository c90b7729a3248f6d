"""The release policy as code: ``shipwise.toml`` read into a ``Policy`` and written back.

    default_policy(environments, timezone) -> Policy   PRODUCT.md's process (table below)
    parse_policy(text, known_environments=…) -> Policy  validated; omitted sections default
    dump_policy(policy) -> str                          the same layout, every setting spelled
                                                        out: parse_policy(dump_policy(p)) == p

The layout is documented, with a full example, in ``docs/policy.md``. Pure: the standard
library only (``tomllib`` reads, ``zoneinfo`` checks time zone names).

Errors::

    PolicyError (ValueError)   the file is not TOML, or says something unknown, mistyped or
                               impossible. ``problems`` lists every one found, each with its
                               line and key (``stage[2].approvals.count``); ``line`` (1-based,
                               None when no line says it), ``key`` and ``problem`` are the
                               first's. Each message says what to write instead.

Where the parts live: ``toml_lines`` finds the line of a key, ``policy_reading`` is the
toolkit (typed values, the problems collector, ``PolicyError``), ``policy_sections`` reads
the sections other than the stages, ``policy_stages`` holds the stage defaults and reads
and writes one ``[[stage]]``, ``policy_stage_checks`` checks the stages as a pipeline,
``policy_toml`` writes TOML values; durations are ``domain.durations``'.

PRODUCT.md, sentence by sentence, and the default setting that carries it out (for the
default pipeline dev → staging → production; with other environments the first takes dev's
gates, the last production's, those between staging's)::

    PRODUCT.md                                         default_policy()
    -------------------------------------------------  ----------------------------------------
    feature → dev → staging → main; "each merge        stages dev (branch dev), staging
      auto-deploys its environment"                      (staging), production (main), in order
    1. "code written and tests passing"                dev: require_ci
    1. "approval from a code owner"                    dev: approvals 1 of code-owner
    2. "test on DEV … verify stable"; 3. "PR dev →     staging: require_previous_deploy (the
      staging"                                           same commit deployed to dev), require_ci
    3. "one approval"                                  staging: approvals 1 of code-owner, qa
                                                         or release-manager
    4. "QA team tests on staging … QA sign-off"        production: signoffs qa on staging
    5. "PR staging → main; two approvals"              production: approvals 2 of code-owner,
                                                         qa or release-manager; require_ci;
                                                         protected (the last stage): only the
                                                         release or a change request with
                                                         [change_requests] approvals 2 (anyone)
                                                         shows a feature to more users there
    2. "test on DEV"; 4. "QA team tests on staging"    dev, staging: testers "everyone" (a
                                                         promotion switches the flags on there)
    "test in staging first"                            production: require_previous_deploy
                                                         (the same commit deployed to staging)
    "release during business hours"                    production: business_hours; window
                                                         Mon-Fri 09:00-17:00 in ``timezone``
    "release when team is available" (seed guide)      production: respect_freezes (no freeze
                                                         periods until the file names some)
    "have rollback ready": "document the steps"        production: require_rollback_plan
    "test the rollback in dev/staging and verify it    production: rollback_drill_in staging
      works"                                             (a successful drill since the change)
    "one feature per release"                          one_feature_per_release = true
    "keep releases focused"; "start at 10% in          production: one_feature_rolling_out,
      production … monitor"                              max_feature_rollouts = 1
    "critical: hotfix branch from main, PR labelled    hotfix: severities critical, branch
      HOTFIX, expedited review with 2 approvals"         main, label HOTFIX, approvals 2 of
                                                         code-owner or release-manager,
                                                         require_justification
    "non-critical: branch from dev … normal flow"      hotfix.severities is critical only
    critical now, high 24 h, medium a week, low        sla (``DEFAULT_FIX_WITHIN``): 0h, 24h,
      when convenient                                    7d, none
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TypeVar

from shipwise.domain import policy_protection as protection
from shipwise.domain.durations import format_duration
from shipwise.domain.policy_model import (
    HotfixPolicy,
    Policy,
    StageGates,
)
from shipwise.domain.policy_notes import notes_lines, read_notes
from shipwise.domain.policy_reading import Context, PolicyError, Table, listing, syntax_error
from shipwise.domain.policy_sections import (
    read_change_requests,
    read_freezes,
    read_hotfix,
    read_max_rollouts,
    read_sla,
    read_timezone,
    read_window,
)
from shipwise.domain.policy_stage_checks import check_stages
from shipwise.domain.policy_stages import (
    DEFAULT_ENVIRONMENTS,
    default_policy,
    dump_stage,
    read_stage,
    testing_example,
)
from shipwise.domain.policy_toml import WEEKDAYS, approvals_value, clock_text, toml_value
from shipwise.domain.policy_watch import read_watch, watch_lines
from shipwise.domain.releases import Severity
from shipwise.domain.toml_lines import TomlLines

__all__ = ["DEFAULT_ENVIRONMENTS", "PolicyError", "default_policy", "dump_policy", "parse_policy"]

_T = TypeVar("_T")

# -- the sections --------------------------------------------------------------------------

_TOP_KEYS = (
    "timezone",
    "one_feature_per_release",
    "max_feature_rollouts",
    "code_owners",
    "window",
    "freeze",
    "sla",
    "hotfix",
    "change_requests",
    "notes",
    "watch",
    "stage",
)
# -- the whole file ------------------------------------------------------------------------


def parse_policy(
    text: str,
    *,
    known_environments: Sequence[str] | None = None,
    defaults: Policy | None = None,
    source: str = "shipwise.toml",
) -> Policy:
    """The policy ``text`` (a ``shipwise.toml``) describes. Sections it leaves out, and keys
    it leaves out of ``[window]``, ``[sla]`` and ``[hotfix]``, take ``defaults`` (PRODUCT.md's
    process: ``default_policy()``); a ``[[stage]]`` list replaces the default stages whole.
    ``known_environments`` are the project's environments in promotion order: when given,
    the stages must be exactly those, in that order. Raises ``PolicyError`` naming every
    problem found (a syntax error stops the reading: nothing after it can be trusted)."""
    base = default_policy() if defaults is None else defaults
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise syntax_error(text, error, source) from None
    context = Context(source, TomlLines(text).run())
    root = Table(context, data, "", "the top level")
    root.only(_TOP_KEYS)
    timezone = _setting(root, "timezone", partial(read_timezone, root), base.timezone)
    one_feature = root.boolean("one_feature_per_release", base.one_feature_per_release)
    rollouts = _setting(
        root, "max_feature_rollouts", partial(read_max_rollouts, root), base.max_feature_rollouts
    )
    owners = _setting(
        root, "code_owners", lambda: tuple(root.texts("code_owners", '["alice", "bob"]')), None
    )
    window = _setting(
        root,
        "window",
        lambda: read_window(
            root.table("window", "[window]", "write [window] (single brackets)"), base.window
        ),
        base.window,
    )
    freezes = _setting(root, "freeze", partial(read_freezes, root), base.freezes)
    fix_within = _setting(
        root,
        "sla",
        lambda: read_sla(
            root.table("sla", "[sla]", "write [sla] (single brackets)"), base.fix_within
        ),
        dict(base.fix_within),
    )
    stages: tuple[StageGates, ...] | None = base.stages
    if root.has("stage"):
        stages = root.attempt(partial(_read_stages, root, known_environments), None)
    else:
        _default_stages(context, base.stages, known_environments)
    hotfix = _hotfix(root, base.hotfix, stages)
    change_approvals = _setting(
        root,
        "change_requests",
        partial(read_change_requests, root, base.change_approvals),
        base.change_approvals,
    )
    notes_exclude = _setting(
        root, "notes", partial(read_notes, root, base.notes_exclude), base.notes_exclude
    )
    watch = _setting(root, "watch", partial(read_watch, root, base.watch), base.watch)
    context.finish()
    return Policy(
        timezone=timezone,
        stages=base.stages if stages is None else stages,  # None only with a problem
        window=window,
        freezes=freezes,
        one_feature_per_release=one_feature,
        max_feature_rollouts=rollouts,
        hotfix=hotfix,
        fix_within=fix_within,
        code_owners=base.code_owners if owners is None else owners,
        change_approvals=change_approvals,
        notes_exclude=notes_exclude,
        watch=watch,
    )


def _setting(root: Table, name: str, read: Callable[[], _T], otherwise: _T) -> _T:
    """``read()`` when the file has ``name``; ``otherwise`` when it has not, or when what it
    says cannot be read (the problem is kept, and the rest of the file is still read)."""
    return root.attempt(read, otherwise) if root.has(name) else otherwise


def _default_stages(
    context: Context, stages: tuple[StageGates, ...], known: Sequence[str] | None
) -> None:
    environments = [stage.environment for stage in stages]
    if known is not None and environments != list(known):
        context.note(
            "stage",
            f"there is no [[stage]], and the default stages ({' → '.join(environments)}) are "
            f"not this project's environments ({' → '.join(known)}); write one [[stage]] per "
            "environment, in that order",
        )


def _hotfix(root: Table, base: HotfixPolicy, stages: tuple[StageGates, ...] | None) -> HotfixPolicy:
    """The hotfix path; its branch, unless written, is the last stage's (production's).
    ``stages`` is None when they could not be read: then the branch is not checked."""
    found = len(root.context.problems)
    branch = base.branch if stages is None else stages[-1].branch
    hotfix = base
    if root.has("hotfix"):
        section = partial(root.table, "hotfix", "[hotfix]", "write [hotfix] (single brackets)")
        hotfix = root.attempt(lambda: read_hotfix(section(), base, branch), base)
    elif root.has("stage"):
        hotfix = replace(base, branch=branch)
    branches = [] if stages is None else [stage.branch for stage in stages]
    if branches and hotfix.branch not in branches and root.context.clean_since(found):
        root.note(
            "hotfix.branch",
            f'"{hotfix.branch}" is not the branch of any stage; write one of '
            f'{listing(branches)} (hotfixes start from production\'s, "{branches[-1]}")',
        )
    return hotfix


def _read_stages(root: Table, known: Sequence[str] | None) -> tuple[StageGates, ...] | None:
    """The ``[[stage]]`` list, each stage read on its own; checked as a pipeline only when
    every stage read cleanly (None when one did not)."""
    example = "write one [[stage]] table per environment (double brackets)"
    sections = root.tables("stage", "[[stage]]", example)
    if not sections:
        root.fail("stage", f"is empty; {example}, in promotion order")
    found = len(root.context.problems)
    last, tested = len(sections) - 1, testing_example(sections, known)
    read = [
        root.attempt(partial(read_stage, s, last=n == last, tested=tested), None)
        for n, s in enumerate(sections)
    ]
    stages = tuple(stage for stage in read if stage is not None)
    if not root.context.clean_since(found) or len(stages) != len(read):
        return None
    check_stages(root, stages, known)
    return stages


# -- writing -------------------------------------------------------------------------------


def _fix_by(value: timedelta | None) -> str:
    return "none" if value is None else format_duration(value)


def dump_policy(policy: Policy) -> str:
    """``policy`` in the ``shipwise.toml`` layout, every setting written out."""
    window = policy.window
    lines = [
        "# Shipwise release policy; the layout is described in docs/policy.md",
        f"timezone = {toml_value(policy.timezone)}",
        f"one_feature_per_release = {toml_value(policy.one_feature_per_release)}",
        f"max_feature_rollouts = {policy.max_feature_rollouts}",
        f"code_owners = {toml_value(policy.code_owners)}",
    ]
    if not policy.freezes:
        lines.append("freeze = []  # no freeze periods")
    lines += [
        "",
        "[window]  # when stages with business_hours = true may be promoted into",
        f"weekdays = {toml_value([WEEKDAYS[day] for day in sorted(window.weekdays)])}",
        f'start = "{clock_text(window.start)}"',
        f'end = "{clock_text(window.end)}"  # exclusive',
        "",
        "[sla]  # fix-by time per bug severity",
        *(f'{s.value} = "{_fix_by(policy.fix_within.get(s))}"' for s in Severity),
        "",
        "[hotfix]",
        f"severities = {toml_value([s.value for s in Severity if s in policy.hotfix.severities])}",
        f"branch = {toml_value(policy.hotfix.branch)}",
        f"approvals = {approvals_value(policy.hotfix.approvals)}",
        f"require_justification = {toml_value(policy.hotfix.require_justification)}",
        f"label = {toml_value(policy.hotfix.label)}",
    ]
    lines += protection.change_requests_lines(
        policy.change_approvals, approvals_value(policy.change_approvals)
    )
    lines += notes_lines(policy.notes_exclude)
    lines += watch_lines(policy.watch)
    for freeze in policy.freezes:
        lines += ["", "[[freeze]]", f"name = {toml_value(freeze.name)}"]
        lines += [f"start = {toml_value(freeze.start)}", f"end = {toml_value(freeze.end)}"]
    for stage in policy.stages:
        lines += dump_stage(stage)
    return "\n".join(lines) + "\n"
