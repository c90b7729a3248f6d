"""What a new policy loosens compared with the one in force, in words, so a weakening
waits for a second person's review (a strengthening takes effect at once).

``weakenings(old, new)`` compares the values, rule by rule: fewer approvals or more
kinds of approver, a gate switched off, a wider window, a freeze removed or shortened,
an environment no longer protected, longer fix-by times, more code owners. Anything
that might let more through counts, so a change nobody can judge at a glance (a new
time zone, a rollback drill moved to another environment) is reviewed too.
``diff(old, new)`` is the readable diff of the two files as ``dump_policy`` writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time, timedelta

from shipwise.domain.change_requests import text_diff
from shipwise.domain.durations import format_duration
from shipwise.domain.policy import dump_policy
from shipwise.domain.policy_model import (
    ApprovalRule,
    Freeze,
    HotfixPolicy,
    Policy,
    StageGates,
)
from shipwise.domain.releases import ApproverRole, Severity

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Gates that hold a promotion back while on: switching one off weakens the stage.
_STAGE_SWITCHES = (
    "require_ci",
    "require_previous_deploy",
    "require_rollback_plan",
    "business_hours",
    "respect_freezes",
    "one_feature_rolling_out",
    "require_help_docs",
)


def weakenings(old: Policy, new: Policy) -> list[str]:
    """Every way ``new`` lets through what ``old`` held back, in words; [] when none."""
    found: list[str] = []
    for check in _CHECKS:
        found.extend(check(old, new))
    return found


def diff(old: Policy, new: Policy) -> list[str]:
    """The unified diff of the two policies as shipwise.toml."""
    return text_diff(dump_policy(old), dump_policy(new), "policy in force", "proposed policy")


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def _roles(roles: frozenset[ApproverRole]) -> str:
    return ", ".join(r.value for r in ApproverRole if r in roles)


def _approvals(where: str, old: ApprovalRule | None, new: ApprovalRule | None) -> Iterator[str]:
    if old is None:
        return
    if new is None or new.count <= 0:
        yield f"{where}: approvals no longer required (was {old.count})"
        return
    if new.count < old.count:
        yield f"{where}: approvals {old.count} → {new.count}"
    wider = new.roles - old.roles
    if wider:
        yield f"{where}: approvals now also count {_roles(frozenset(wider))}"


def _stage(old: StageGates, new: StageGates) -> Iterator[str]:
    where = old.environment
    yield from _approvals(where, old.approvals, new.approvals)
    for kind, tested in old.signoffs:
        if (kind, tested) not in new.signoffs:
            yield f"{where}: {kind} sign-off on {tested} removed"
    for item in old.checklist:
        if item not in new.checklist:
            yield f"{where}: checklist item {item!r} removed"
    for name in _STAGE_SWITCHES:
        if getattr(old, name) and not getattr(new, name):
            yield f"{where}: {name} switched off"
    if old.rollback_drill_in is not None and new.rollback_drill_in != old.rollback_drill_in:
        if new.rollback_drill_in is None:
            yield f"{where}: rollback drill in {old.rollback_drill_in} no longer required"
        else:
            yield (
                f"{where}: rollback drill in {new.rollback_drill_in} "
                f"instead of {old.rollback_drill_in}"
            )
    if old.protected and not new.protected:
        yield f"{where} is no longer protected"
    if new.testers == "everyone" and old.testers != "everyone":
        was = "nobody" if old.testers is None else f"segment {old.testers!r}"
        yield f"{where}: a promoted release is switched on for everyone (was {was})"


def _stages(old: Policy, new: Policy) -> Iterator[str]:
    for stage in old.stages:
        after = new.stage(stage.environment)
        if after is None:
            yield f"stage {stage.environment!r} removed: its gates no longer apply"
        else:
            yield from _stage(stage, after)


def _window(old: Policy, new: Policy) -> Iterator[str]:
    before, after = old.window, new.window
    for day in sorted(after.weekdays - before.weekdays):
        yield f"window: adds {_DAYS[day]}"
    if after.start < before.start:
        yield f"window: starts {_clock(after.start)} instead of {_clock(before.start)}"
    if after.end > before.end:
        yield f"window: ends {_clock(after.end)} instead of {_clock(before.end)}"
    if new.timezone != old.timezone:
        yield f"timezone: {new.timezone} instead of {old.timezone} (the window moves)"


def _covers(freeze: Freeze, other: Freeze) -> bool:
    return freeze.start <= other.start and freeze.end >= other.end


def _freezes(old: Policy, new: Policy) -> Iterator[str]:
    for freeze in old.freezes:
        kept = [f for f in new.freezes if f.name == freeze.name]
        if not kept:
            yield f"freeze {freeze.name!r} removed"
        elif not any(_covers(f, freeze) for f in kept):
            now = kept[0]
            yield (
                f"freeze {freeze.name!r} shortened: {now.start} to {now.end} "
                f"instead of {freeze.start} to {freeze.end}"
            )


def _releases(old: Policy, new: Policy) -> Iterator[str]:
    if old.one_feature_per_release and not new.one_feature_per_release:
        yield "one_feature_per_release switched off"
    if new.max_feature_rollouts > old.max_feature_rollouts:
        yield f"max_feature_rollouts {old.max_feature_rollouts} → {new.max_feature_rollouts}"


def _hotfix(old: Policy, new: Policy) -> Iterator[str]:
    before: HotfixPolicy = old.hotfix
    after: HotfixPolicy = new.hotfix
    yield from _approvals("hotfix", before.approvals, after.approvals)
    wider = after.severities - before.severities
    if wider:
        added = ", ".join(s.value for s in Severity if s in wider)
        yield f"hotfix: severities widened to {added} (they skip staging)"
    if before.require_justification and not after.require_justification:
        yield "hotfix: require_justification switched off"


def _sla(old: Policy, new: Policy) -> Iterator[str]:
    for severity in Severity:
        before, after = old.fix_within.get(severity), new.fix_within.get(severity)
        if before is not None and (after is None or after > before):
            shown = "no deadline" if after is None else format_duration(after)
            yield f"sla {severity.value}: {shown} instead of {format_duration(before)}"


def _code_owners(old: Policy, new: Policy) -> Iterator[str]:
    if not old.code_owners:
        return  # no list: every developer reviews as a code owner already; none is wider
    if not new.code_owners:
        yield "code_owners emptied: every developer now counts as a code owner"
        return
    added = [person for person in new.code_owners if person not in old.code_owners]
    if added:
        yield f"code_owners adds {', '.join(added)} (more people count as code owners)"


def _change_requests(old: Policy, new: Policy) -> Iterator[str]:
    before, after = old.change_approvals, new.change_approvals
    if after.count < before.count:
        yield f"change requests: {before.count} approvals → {after.count}"
    if before.roles and (not after.roles or after.roles - before.roles):
        yield "change requests: approvals now count " + (
            _roles(after.roles) if after.roles else "anyone who may change flags"
        )


def _watch(old: Policy, new: Policy) -> Iterator[str]:
    """Watching rollouts less (a shorter close watch or bake, rarer readings) lets a
    regression run longer before a guardrail sees it."""
    before, after = old.watch, new.watch
    for key, less in (("close_for", -1), ("close_every", 1), ("then_every", 1), ("bake", -1)):
        was, now = getattr(before, key), getattr(after, key)
        if (now - was) * less > timedelta(0):
            yield f"watch {key}: {format_duration(now)} instead of {format_duration(was)}"


_CHECKS: tuple[Callable[[Policy, Policy], Iterator[str]], ...] = (
    _stages,
    _window,
    _freezes,
    _releases,
    _hotfix,
    _sla,
    _code_owners,
    _change_requests,
    _watch,
)
