"""Rolling a release back on the memory store (no database, no server): its flags go off
in every environment it reached, in one step, audited and announced; whoever may not
switch flags off is refused and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.services.world import FLAG, PROJECT, World, in_staging

from shipwise.domain.access import Role, TokenKind
from shipwise.domain.releases import ReleaseStatus
from shipwise.server.services.errors import Conflict, Forbidden
from shipwise.server.services.principal import SYSTEM, Principal

ENVIRONMENTS = ("dev", "staging", "production")
REASON = "error rate 4% on checkout"


def _state(world: World) -> tuple[Any, ...]:
    """What a refused rollback must leave as it was."""
    configs = [world.flags.config(SYSTEM, PROJECT, FLAG, e) for e in ENVIRONMENTS]
    return world.release("rel-1"), configs, world.audit(limit=1000), world.outbox()


def _enabled(world: World) -> dict[str, bool]:
    return {e: world.flags.config(SYSTEM, PROJECT, FLAG, e).enabled for e in ENVIRONMENTS}


def test_rollback__of_a_release_in_staging__switches_its_flags_off_where_it_reached(
    world: World,
) -> None:
    in_staging(world)  # promoting switched the flag on for dev's and staging's testers
    assert _enabled(world) == {"dev": True, "staging": True, "production": False}

    report = world.rollback.rollback(world.person("bob"), PROJECT, "rel-1", REASON)

    assert report.switched_off == [(FLAG, "dev"), (FLAG, "staging")]
    assert _enabled(world) == {"dev": False, "staging": False, "production": False}
    assert report.release.status is ReleaseStatus.ROLLED_BACK
    assert world.release("rel-1").status is ReleaseStatus.ROLLED_BACK


def test_rollback__is_audited_with_its_reason_and_announced(world: World) -> None:
    in_staging(world)

    world.rollback.rollback(world.person("bob"), PROJECT, "rel-1", REASON)

    [record] = world.audit(action="release.rollback")
    entry = record.entry
    assert (entry.actor, entry.target_key, entry.reason) == (
        "token:bob (api, developer)",
        "rel-1",
        REASON,
    )
    assert entry.after is not None
    assert (entry.after["status"], entry.after["flags_off"]) == (
        "rolled-back",
        [f"{FLAG}@dev", f"{FLAG}@staging"],
    )
    switched = world.audit(target_type="flag", target_key=FLAG, actor="bob")
    assert sorted(r.entry.environment or "" for r in switched) == ["dev", "staging"]
    assert all(r.entry.reason == REASON for r in switched)
    notice = world.outbox()[-1]
    assert (notice.kind, notice.release, notice.severity) == (
        "release.rolled-back",
        "rel-1",
        "critical",
    )
    assert f"Reason: {REASON}" in notice.text


def _viewer(world: World) -> Principal:
    return world.person("vic", Role.VIEWER)


def _sdk_key(world: World) -> Principal:
    project = world.projects.get(SYSTEM, PROJECT).project
    return Principal(actor="token:web (server)", kind=TokenKind.SERVER, project_id=project.id)


def _other_projects_admin(world: World) -> Principal:
    other = world.projects.create(SYSTEM, "blog", "Blog").project
    return Principal(
        actor="token:olga (api, admin)",
        kind=TokenKind.API,
        role=Role.ADMIN,
        project_id=other.id,
        person="olga",
    )


@pytest.mark.parametrize(
    ("who", "says"),
    [
        pytest.param(_viewer, "role viewer may not kill in project 'shop'", id="viewer"),
        pytest.param(_sdk_key, "a server SDK key cannot use the admin API", id="SDK key"),
        pytest.param(_other_projects_admin, "no access to project 'shop'", id="other project"),
    ],
)
def test_rollback__by_someone_who_may_not_switch_flags_off__is_refused_and_changes_nothing(
    world: World, who: Any, says: str
) -> None:
    in_staging(world)
    principal = who(world)
    before = _state(world)

    with pytest.raises(Forbidden, match=says):
        world.rollback.rollback(principal, PROJECT, "rel-1", REASON)

    assert _state(world) == before


def test_rollback__of_a_release_already_rolled_back__is_a_conflict_and_changes_nothing(
    world: World,
) -> None:
    in_staging(world)
    world.rollback.rollback(world.person("bob"), PROJECT, "rel-1", REASON)
    before = _state(world)

    with pytest.raises(Conflict, match="rel-1 is already rolled-back"):
        world.rollback.rollback(world.person("carol", Role.RELEASE_MANAGER), PROJECT, "rel-1", "x")

    assert _state(world) == before
