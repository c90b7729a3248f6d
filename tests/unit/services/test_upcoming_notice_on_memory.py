"""The upcoming-release notice on the memory store: the approval that completes the
production approvals gate tells the team, once per content version, what ships, the
notes (or why there are none), who approved, the rollback plan and the monitoring
schedule with its dates; an approval that leaves the gate short, a repeat, a third
approval and an approval for another environment tell nothing more."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.unit.services.world import COMMIT, PROJECT, World, in_dev, in_staging

from shipwise.domain import rollout
from shipwise.domain.access import Role
from shipwise.domain.release_notes import NoteEntry
from shipwise.server.ports import Notification, RolloutCheck, StoredNotes
from shipwise.server.ports.memory import MemoryTransaction
from shipwise.server.services.principal import SYSTEM

PAGE = "http://127.0.0.1:4242/projects/shop/releases/rel-1"
CALENDAR = "http://127.0.0.1:4242/projects/shop/releases/rel-1/schedule.ics"


def _upcoming(world: World) -> list[Notification]:
    return [n for n in world.outbox() if n.kind == "release.upcoming"]


def _approve_for_production(world: World, *people: tuple[str, Role]) -> None:
    for name, role in people:
        world.evidence.approve(world.person(name, role), PROJECT, "rel-1", "production")


def test_second_production_approval__sends_one_notice_with_notes_approvers_rollback_and_schedule(
    world: World,
) -> None:
    # Given rel-1 in staging, and bob's approval for production (one of the two asked)
    in_staging(world)
    _approve_for_production(world, ("bob", Role.DEVELOPER))
    assert _upcoming(world) == []

    # When carol, a release manager, gives the second, on Wednesday at 14:30
    world.clock.set(datetime.fromisoformat("2025-03-05T14:30:00+00:00"))
    _approve_for_production(world, ("carol", Role.RELEASE_MANAGER))

    # Then exactly one notice, for production, with every part and both links
    [notice] = _upcoming(world)
    assert notice.title == "Upcoming in production: rel-1 (New checkout)"
    assert (notice.environment, notice.severity) == ("production", "info")
    text = notice.text
    assert "What ships: the feature rel-1 (New checkout), owned by alice." in text
    assert "Flags: checkout." in text
    assert f"Commit: {COMMIT[:12]} on feature/new-checkout." in text
    assert "Release notes: none, the project has no git repository set" in text
    assert (
        "Approved for production by bob (code-owner); carol (code-owner, release-manager)." in text
    )
    assert "Rollback plan: Switch checkout off, then revert the merge." in text
    assert "Rollback drill: none done for this content." in text
    # The default plan, estimated from the notice: a week a step, then a 24-hour bake
    assert "from the default rollout template, estimated from 2025-03-05 14:30 UTC" in text
    assert (
        "- Step 1: 10% + beta-testers: Wed 2025-03-05 14:30 UTC → Wed 2025-03-12 14:30 UTC"
        " at the earliest" in text
    )
    assert "- Step 2: 25%: Wed 2025-03-12 14:30 UTC → Wed 2025-03-19 14:30 UTC" in text
    assert "- Step 3: 50%: Wed 2025-03-19 14:30 UTC → Wed 2025-03-26 14:30 UTC" in text
    assert "- Bake: 1d at 100%: Wed 2025-03-26 14:30 UTC → Thu 2025-03-27 14:30 UTC" in text
    assert "guardrails checked every 1m for the first 1h of each step, then every 5m" in text
    assert "Watching: alice, bob, carol." in text
    assert f"Calendar: {CALENDAR}" in text
    assert text.endswith(f"Open rel-1: {PAGE}")
    assert notice.data["approvers"] == ["bob", "carol"]
    assert len(notice.title) + len(text) < 3000  # one Slack message, never cut


def test_repeat_or_third_production_approval__sends_nothing_more(world: World) -> None:
    in_staging(world)
    _approve_for_production(world, ("bob", Role.DEVELOPER), ("carol", Role.RELEASE_MANAGER))

    _approve_for_production(world, ("carol", Role.RELEASE_MANAGER))  # a repeat
    _approve_for_production(world, ("quinn", Role.QA))  # a third

    assert len(_upcoming(world)) == 1
    approved = [n for n in world.outbox() if n.kind == "release.approved"]
    assert [n.data["by"] for n in approved if n.environment == "production"] == [
        "bob",
        "carol",
        "quinn",
    ]


def test_approval_for_staging__sends_no_notice(world: World) -> None:
    in_dev(world)
    world.evidence.report_deploy(world.person("ci"), PROJECT, "dev", COMMIT)

    world.evidence.approve(world.person("bob"), PROJECT, "rel-1", "staging")
    world.evidence.approve(world.person("carol", Role.RELEASE_MANAGER), PROJECT, "rel-1", "staging")

    assert _upcoming(world) == []
    assert any(n.kind == "release.approved" for n in world.outbox())


def test_content_change__withdraws_the_approvals_and_the_next_full_set_is_news_again(
    world: World,
) -> None:
    in_staging(world)
    _approve_for_production(world, ("bob", Role.DEVELOPER), ("carol", Role.RELEASE_MANAGER))

    world.releases.update(world.person("alice"), PROJECT, "rel-1", {"rollback_plan": "Kill it."})
    _approve_for_production(world, ("bob", Role.DEVELOPER), ("carol", Role.RELEASE_MANAGER))

    first, second = _upcoming(world)
    assert "Rollback plan: Switch checkout off" in first.text
    assert "Rollback plan: Kill it." in second.text


def test_notice__lists_ten_entries_of_stored_notes_then_how_many_more(world: World) -> None:
    in_staging(world)
    release = world.release("rel-1")
    entries = tuple(
        NoteEntry(f"commit-{i:040x}", "feat", None, False, f"change number {i}", (f"{i:040x}",))
        for i in range(14)
    )
    with world.store.transaction() as tx:
        tx.set_repository(
            world.projects.get(SYSTEM, PROJECT).project.id, "/srv/git/shop.git", tx.now()
        )
        tx.save_release_notes(StoredNotes(release.id, None, COMMIT, entries, (), tx.now(), "test"))

    _approve_for_production(world, ("bob", Role.DEVELOPER), ("carol", Role.RELEASE_MANAGER))

    [notice] = _upcoming(world)
    assert "Release notes (14 changes):" in notice.text
    assert notice.text.count("\n- feat: change number") == 10
    assert "… and 4 more" in notice.text
    assert "Read the full notes: `shipwise release notes rel-1 -p shop`." in notice.text


def test_notice__with_a_plan_running__dates_the_steps_it_reached_as_they_happened(
    world: World,
) -> None:
    # Given rel-1's plan already at its second step in production when the gate completes
    in_staging(world)
    started = world.clock.now
    with world.store.transaction() as tx:
        _running_plan(tx, world, started)

    _approve_for_production(world, ("bob", Role.DEVELOPER), ("carol", Role.RELEASE_MANAGER))

    [notice] = _upcoming(world)
    assert "(from rollout plan #1 of checkout (running))" in notice.text
    assert "- Step 1: 10% + beta-testers: Mon 2025-03-03 09:00 UTC → Tue 2025-03-11 09:00 UTC" in (
        notice.text
    )
    assert "(done)" in notice.text
    assert "- Step 2: 25%: Tue 2025-03-11 09:00 UTC → Tue 2025-03-18 09:00 UTC" in notice.text


def _running_plan(tx: MemoryTransaction, world: World, started: datetime) -> None:
    """A plan of the default steps on checkout in production for rel-1, started at
    ``started``, that entered step 2 eight days later (its first step ran long)."""
    project = world.projects.get(SYSTEM, PROJECT).project
    environment = tx.get_environment(project.id, "production")
    flag = tx.get_flag(project.id, "checkout")
    release = tx.get_release(project.id, "rel-1")
    assert environment is not None
    assert flag is not None
    assert release is not None
    spec = rollout.DEFAULT_PLAN
    state = rollout.start(spec, started)
    plan = tx.add_plan(project.id, flag.id, environment.id, release.id, spec, state, None, "x")
    entered = started + timedelta(days=8)
    moved = rollout.PlanState(rollout.PlanStatus.RUNNING, 1, started, entered)
    tx.add_check(RolloutCheck(plan.id, entered, 1, "advance", "step conditions met", {}))
    tx.save_plan(plan, moved, None)


def _to_main(data: dict[str, Any]) -> None:
    data["pull_request"]["base"]["ref"] = "main"  # the branch that feeds production


def test_github_review__completing_the_production_gate__tells_approved_and_upcoming(
    world: World,
) -> None:
    # Given rel-1 in staging, its pull request #42 (into main) linked, carol's approval
    in_staging(world)
    world.deliver("pull_request", "pull_request.opened", _to_main)
    _approve_for_production(world, ("carol", Role.RELEASE_MANAGER))
    assert _upcoming(world) == []

    # When bob approves #42 on GitHub, for production
    summary = world.deliver("pull_request_review", "pull_request_review.submitted", _to_main)

    # Then his approval is told as one through the API is, and it completes the gate
    assert summary.applied == ("rel-1: bob approved it for production (code owner)",)
    told = [n for n in world.outbox() if n.kind == "release.approved"]
    assert [n.title for n in told][-1] == "rel-1 (New checkout) approved for production by bob"
    [notice] = _upcoming(world)
    assert "Approved for production by carol (code-owner, release-manager); bob (code-owner)." in (
        notice.text
    )
