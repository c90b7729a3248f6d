"""A promotion into an unprotected stage shows the release to that stage's testers.

PRODUCT.md's QA "tests on staging", and the rollback drill there must have something to
switch off, so promoting a release into dev or staging switches each of its flags on
there for the policy's ``testers``: everyone, or the members of one segment. Each flag
change goes through ``apply_change_in`` inside the promotion's transaction, so it is
versioned and audited and commits with the promotion or not at all. A protected stage's
flags are left to the release's rollout plan.
"""

from __future__ import annotations

from typing import Any

from shipwise.domain.access import Action
from shipwise.domain.policy_model import StageGates
from shipwise.domain.releases import Release
from shipwise.server.ports import FlagConfig, Project
from shipwise.server.services.errors import Conflict
from shipwise.server.services.flag_changes import (
    ConfigChange,
    FlagChangeTx,
    Target,
    apply_change_in,
)
from shipwise.server.services.principal import Principal

# Marks the strategy a promotion adds, so promoting again replaces it instead of adding
# a second one, and a person reading the rules sees where it came from.
TESTERS_TITLE = "release testers"


def switch_on_for_testers(
    tx: FlagChangeTx,
    principal: Principal,
    project: Project,
    release: Release,
    stage: StageGates | None,
) -> list[str]:
    """Switch ``release``'s flags on in ``stage`` for its testers; the flags switched on
    (none when the stage is protected or its testers are "none"). Raises Conflict, before
    changing anything, when the testers' segment does not exist."""
    if stage is None or stage.protected or stage.testers is None or not release.flags:
        return []
    segment_ids: list[int] = []
    if stage.testers != "everyone":
        segment = tx.get_segment(project.id, stage.testers)
        if segment is None:
            raise Conflict(
                f"{release.key} cannot go to {stage.environment}: the policy shows "
                f"{stage.environment}'s releases to the segment {stage.testers!r} "
                f"([[stage]] testers), which does not exist in project {project.key!r}. "
                f"Create it (`shipwise segment create {stage.testers} …`) or change testers "
                "in shipwise.toml (`shipwise policy apply shipwise.toml`); nothing changed",
                field="testers",
            )
        segment_ids.append(segment.id)

    def for_testers(current: FlagConfig) -> dict[str, Any]:
        kept = [dict(s) for s in current.strategies if s.get("title") != TESTERS_TITLE]
        testers = {
            "name": "default",
            "title": TESTERS_TITLE,
            "parameters": {},
            "constraints": [],
            "segments": segment_ids,
        }
        return {**current.rules(), "enabled": True, "strategies": [testers, *kept]}

    who = "everyone" if not segment_ids else f"segment {stage.testers}"
    change = ConfigChange(
        "release.promote",
        for_testers,
        reason=f"{release.key} promoted into {stage.environment}: on for {who}",
        needs=Action.PROMOTE,
        authority=f"release {release.key} promoted",
    )
    for flag in release.flags:
        apply_change_in(tx, principal, Target(project.key, flag, stage.environment), change)
    return list(release.flags)
