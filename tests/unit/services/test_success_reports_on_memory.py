"""After a release, on the memory store: the sweep tells the success report and asks the
owner for the learnings once per release (not again after a restart), the report is
read by anyone in the project, and learnings are saved with their version (a stale
save is refused and changes nothing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.services.world import FLAG, PROJECT, SteppingClock, World, new_release

from shipwise.domain.access import Role
from shipwise.domain.releases import ReleaseStatus
from shipwise.domain.rollout import PlanSpec, PlanState, PlanStatus, Step
from shipwise.server.ports import AuditEntry, Notification, RolloutCheck
from shipwise.server.services.errors import Conflict, Forbidden, Invalid, NotFound
from shipwise.server.services.learnings import LearningsService
from shipwise.server.services.release_news import Links, ReleaseNews
from shipwise.server.services.success_reports import SuccessReports

PAGE = "http://127.0.0.1:4242/projects/shop/releases/rel-1"
SPEC = PlanSpec(
    steps=(Step(25, min_duration=timedelta(days=1)), Step(100, min_duration=timedelta(0)))
)
ITEM = {"what": "Watch the first hour", "owner": "carol", "due": "2026-12-31"}


def _reports(world: World) -> SuccessReports:
    return SuccessReports(world.store, ReleaseNews(world.notifications, Links()))


def _released(world: World, clock: SteppingClock, *, days_ago: float = 0.0) -> None:
    """rel-1 rolled out in production by plan #1 (25% for a day, then 100%) and
    released ``days_ago``; alice started the plan."""
    new_release(world)
    start = clock.now - timedelta(days=2 + days_ago)
    with world.store.transaction() as tx:
        project = tx.get_project(PROJECT)
        assert project is not None
        release = tx.get_release(project.id, "rel-1")
        assert release is not None
        release = tx.save_release(
            replace(release, stage="production", status=ReleaseStatus.RELEASED)
        )
        flag = tx.get_flag(project.id, FLAG)
        production = next(e for e in tx.list_environments(project.id) if e.key == "production")
        assert flag is not None
        done = start + timedelta(days=2)
        state = PlanState(
            PlanStatus.RELEASED, 1, start, start + timedelta(days=1), finished_at=done
        )
        plan = tx.add_plan(
            project.id, flag.id, production.id, release.id, SPEC, state, None, "alice"
        )
        judged = {
            "verdict": "healthy",
            "summary": "errors fine",
            "details": {"treatment_units": 250, "control_units": 750},
        }
        tx.add_check(
            RolloutCheck(plan.id, start + timedelta(days=1), 1, "bake", "100%", {"errors": judged})
        )
        tx.add_check(RolloutCheck(plan.id, done, 1, "release", "baked", {}))
        tx.append_audit(
            AuditEntry(
                "token:alice (api, developer)",
                "rollout.start",
                "rollout",
                f"{FLAG}@production#{plan.id}",
                PROJECT,
                "production",
            )
        )


def _told(world: World, kind: str) -> list[Notification]:
    return [n for n in world.outbox() if n.kind == kind]


def test_sweep__released_release__tells_the_report_then_asks_its_owner_for_learnings(
    world: World, clock: SteppingClock
) -> None:
    _released(world, clock)

    queued = _reports(world).sweep()

    assert queued == 2
    [report] = _told(world, "release.report")
    [ask] = _told(world, "learnings.requested")
    assert report.title == "rel-1 (New checkout) is released: the success report"
    assert report.environment == "production"
    assert "- step 1, 25% for 1d: 1d; 250 exposures with the feature, 750 without" in report.text
    assert "Who acted: alice" in report.text
    assert report.text.endswith(f"Open rel-1: {PAGE}")
    assert ask.title == "rel-1 (New checkout): alice, please write its learnings"
    assert f"Learnings form: {PAGE}/learnings" in ask.text
    assert ask.data["owner"] == "alice"


def test_sweep__again_and_after_a_restart__tells_nothing_twice(
    world: World, clock: SteppingClock
) -> None:
    _released(world, clock)
    _reports(world).sweep()
    before = len(world.outbox())

    again = _reports(world)  # a new instance: a restart, or a second server
    again.sweep()
    again.sweep()

    assert len(world.outbox()) == before
    assert len(_told(world, "release.report")) == 1


def test_sweep__release_in_progress_or_released_long_ago__tells_nothing(
    world: World, clock: SteppingClock
) -> None:
    _released(world, clock, days_ago=30)
    new_release(world, key="rel-2")

    assert _reports(world).sweep() == 0
    assert _told(world, "release.report") == []


def test_report__of_a_release_without_a_plan__is_not_found_naming_the_way(world: World) -> None:
    new_release(world)

    with pytest.raises(NotFound, match="rel-1 has no rollout plan yet"):
        _reports(world).report(world.person("vic", Role.VIEWER), PROJECT, "rel-1")


def test_learnings__saved_then_read__with_the_timeline_from_the_audit(
    world: World, clock: SteppingClock
) -> None:
    _released(world, clock)
    service = LearningsService(world.store)

    saved = service.save(
        world.person("alice"), PROJECT, "rel-1", {"went_well": "calm", "action_items": [ITEM]}, 0
    )

    shown = service.show(world.person("vic", Role.VIEWER), PROJECT, "rel-1")
    assert (saved.version, shown.version, shown.updated_by) == (1, 1, "alice")
    assert shown.draft.went_well == "calm"
    assert [(line.who, line.what) for line in shown.timeline] == [
        ("alice", "created the release"),
        ("alice", "started the rollout plan in production"),
        ("alice", "wrote the learnings"),
    ]
    [record] = world.audit(action="release.learnings")
    assert record.entry.after == {"version": 1, "action_items": 1, "timeline_lines": 0}


def test_learnings__stale_save__is_refused_naming_who_saved_and_changes_nothing(
    world: World, clock: SteppingClock
) -> None:
    _released(world, clock)
    service = LearningsService(world.store)
    service.save(
        world.person("carol", Role.RELEASE_MANAGER), PROJECT, "rel-1", {"went_well": "first"}, 0
    )

    with pytest.raises(Conflict, match="changed by carol") as refused:
        service.save(world.person("alice"), PROJECT, "rel-1", {"went_well": "second"}, 0)

    assert refused.value.field == "version"
    assert service.show(world.person("alice"), PROJECT, "rel-1").draft.went_well == "first"
    assert len(world.audit(action="release.learnings")) == 1


def test_learnings__bad_field_or_a_viewer__is_refused_and_changes_nothing(world: World) -> None:
    new_release(world)
    service = LearningsService(world.store)

    with pytest.raises(Invalid) as invalid:
        service.save(
            world.person("alice"), PROJECT, "rel-1", {"action_items": [ITEM | {"due": "later"}]}, 0
        )
    with pytest.raises(Forbidden):
        service.save(world.person("vic", Role.VIEWER), PROJECT, "rel-1", {}, 0)

    assert invalid.value.field == "action_items[0].due"
    assert service.show(world.person("alice"), PROJECT, "rel-1").version == 0
    assert world.audit(action="release.learnings") == []
