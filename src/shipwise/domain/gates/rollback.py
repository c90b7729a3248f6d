"""Gates about getting back out: a written rollback plan, and the rollback rehearsed in
an earlier environment since the last change."""

from __future__ import annotations

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok, stage_setting
from shipwise.domain.wording import names

__all__ = ["ROLLBACK_DRILL", "ROLLBACK_PLAN"]


def _plan(judging: Judging, _item: Item) -> Judged:
    plan = (judging.release.rollback_plan or "").strip()
    if plan:
        lines = len(plan.splitlines())
        return ok(f"written ({lines} line{'s' if lines > 1 else ''})")
    flags = judging.release.flags
    how = f"how to disable {names(flags)}" if flags else "how to disable the change"
    remedy = (
        f"write the rollback plan ({how}, how to revert the code, and who to notify): "
        f"{commands.write_rollback_plan(judging.release)}"
    )
    return no("no rollback plan written", remedy)


def _drill_environment(where: Where) -> str:
    drill_in = where.stage.rollback_drill_in
    if drill_in is None:  # not asked for: `applies` keeps the registry from getting here
        raise ValueError(f"{where.target} asks for no rollback drill")
    return drill_in


def _drill(judging: Judging, _item: Item) -> Judged:
    """The latest drill in the drill environment since the last content change must have
    succeeded; a drill of earlier content rehearsed something else."""
    where, release = _drill_environment(judging), judging.release
    drills = sorted(
        (d for d in judging.evidence.drills if d.environment == where), key=lambda d: d.at
    )
    current = [
        d
        for d in drills
        if d.content_version == release.content_version and d.at >= release.content_changed_at
    ]
    if current and current[-1].succeeded:
        found = f"rehearsed in {where} at {judging.at(current[-1].at)}"
        return ok(f"{found}: {current[-1].detail}" if current[-1].detail else found)
    drill = commands.drill(release, where)
    remedy = f"rehearse the rollback plan in {where}, which records the drill: {drill}"
    if not (release.rollback_plan or "").strip():
        remedy = f"write the rollback plan ({commands.write_rollback_plan(release)}), then {remedy}"
    if current:
        detail = f"the last rollback drill in {where} failed at {judging.at(current[-1].at)}"
        detail += f": {current[-1].detail}" if current[-1].detail else ""
        remedy = f"fix what failed, then {remedy}"
    elif drills:
        detail = (
            f"the last rollback drill in {where} ({judging.at(drills[-1].at)}) predates the "
            f"change at {judging.at(release.content_changed_at)} "
            f"(content version {release.content_version})"
        )
    else:
        detail = f"the rollback has not been rehearsed in {where}"
    return no(detail, remedy)


ROLLBACK_PLAN = Gate(
    "rollback-plan",
    "Rollback plan written",
    applies=stage_setting("require_rollback_plan"),
    describe=lambda _where, _item: "a written rollback plan",
    judge=_plan,
)
ROLLBACK_DRILL = Gate(
    "rollback-drill",
    "Rollback rehearsed",
    applies=stage_setting("rollback_drill_in"),
    describe=lambda where, _item: (
        f"the rollback rehearsed in {_drill_environment(where)} since the last change"
    ),
    judge=_drill,
)
