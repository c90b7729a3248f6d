"""The release services' events on the memory store: a release created, approved, waiting
for its QA sign-off, refused a promotion (with the gates), its rollback drilled, a bug fix
due soon and overdue. Each is queued once, in the unit of work of what it reports, names
the release and links to its page; a refused action tells nothing (but a refused
promotion, which is told after it, once per set of failing gates)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.services.world import (
    COMMIT,
    PROJECT,
    SteppingClock,
    World,
    green_ci,
    in_dev,
    in_staging,
    new_release,
)

from shipwise.domain.access import Role
from shipwise.server.ports import Notification
from shipwise.server.services.errors import Conflict, Forbidden
from shipwise.server.services.fix_sweep import FixSweep
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.promotion import PromotionRefused
from shipwise.server.services.release_news import Links, ReleaseNews
from shipwise.server.services.release_policy import ReleasePolicy

PAGE = "http://127.0.0.1:4242/projects/shop/releases/rel-1"  # the default public address


def _told(world: World, kind: str) -> list[Notification]:
    return [n for n in world.outbox() if n.kind == kind]


def _linked(notice: Notification) -> None:
    """The release's page, absolute, as data and as the message's last line."""
    assert notice.data["url"] == PAGE
    assert notice.text.endswith(f"Open rel-1: {PAGE}")


def _token(world: World, name: str, role: Role) -> None:
    """``name``'s api token in the project, as ``shipwise token create`` stores it."""
    project = world.projects.get(SYSTEM, PROJECT).project
    with world.store.transaction() as tx:
        tx.add_token(
            name=name,
            kind="api",
            role=role.value,
            project_id=project.id,
            environment_id=None,
            secret_hash=f"hash-{name}",
            prefix=f"sw_api_{name}",
            created_by="test",
            expires_at=None,
        )


# -- release.created ----------------------------------------------------------------------


def test_create__tells_once_what_the_release_is_with_a_link_to_its_page(world: World) -> None:
    new_release(world)

    [notice] = _told(world, "release.created")
    assert (notice.release, notice.severity) == ("rel-1", "info")
    assert notice.title == "New release rel-1 (New checkout)"
    assert "A feature owned by alice" in notice.text
    assert "It goes to dev first" in notice.text
    _linked(notice)


def test_create__refused_for_a_taken_key__tells_nothing_more(world: World) -> None:
    new_release(world)

    with pytest.raises(Conflict):
        new_release(world, title="Another")

    assert len(_told(world, "release.created")) == 1


# -- release.approved ---------------------------------------------------------------------


def test_approve__tells_who_approved_for_where_and_how_many_that_makes(world: World) -> None:
    new_release(world)
    green_ci(world)

    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")
    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")  # again: the same event

    [notice] = _told(world, "release.approved")
    assert (notice.environment, notice.title) == (
        "dev",
        "rel-1 (New checkout) approved for dev by bob",
    )
    assert "Approvals for dev: 1 of the 1 its gate asks for." in notice.text
    _linked(notice)


def test_approve__by_the_releases_author__is_refused_and_tells_nothing(world: World) -> None:
    new_release(world)

    with pytest.raises(Conflict):
        world.evidence.approve(world.person("alice"), PROJECT, "rel-1")

    assert _told(world, "release.approved") == []


# -- signoff.requested --------------------------------------------------------------------


def test_promote_into_staging__asks_for_the_qa_signoff_naming_who_can_give_it(
    world: World,
) -> None:
    _token(world, "quinn", Role.QA)
    _token(world, "carol", Role.RELEASE_MANAGER)
    _token(world, "bob", Role.DEVELOPER)

    in_staging(world)  # through dev, which is not where it is tested: one request

    [notice] = _told(world, "signoff.requested")
    assert (notice.environment, notice.title) == (
        "staging",
        "rel-1 (New checkout) waits for QA sign-off in staging",
    )
    assert "Who can sign off: carol (release-manager), quinn (qa)" in notice.text
    assert "bob" not in notice.text
    assert "`shipwise release signoff rel-1 -p shop --kind qa`" in notice.text
    _linked(notice)


def test_promote_into_staging__refused__asks_nobody_for_a_signoff(world: World) -> None:
    in_dev(world)
    world.evidence.report_deploy(world.person("ci"), PROJECT, "dev", COMMIT)

    with pytest.raises(PromotionRefused):  # no approval for staging
        world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    assert _told(world, "signoff.requested") == []


# -- promotion.refused --------------------------------------------------------------------


def test_promote__refused__tells_the_failing_gates_once_however_often_it_is_retried(
    world: World,
) -> None:
    in_dev(world)
    world.evidence.report_deploy(world.person("ci"), PROJECT, "dev", COMMIT)

    for _ in range(3):
        with pytest.raises(PromotionRefused):
            world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    [notice] = _told(world, "promotion.refused")
    assert (notice.environment, notice.severity) == ("staging", "warning")
    assert notice.title == "rel-1 (New checkout) cannot go to staging yet"
    assert "alice tried to promote it; 1 gate(s) are not met:" in notice.text
    assert "\n- approvals: " in notice.text
    assert notice.data["refused_by"] == ["approvals"]
    _linked(notice)


def test_promote__refused_by_another_set_of_gates__tells_again(world: World) -> None:
    new_release(world)
    with pytest.raises(PromotionRefused):  # neither CI nor an approval
        world.promotion.promote(world.person("alice"), PROJECT, "rel-1")
    green_ci(world)

    with pytest.raises(PromotionRefused):  # CI is green now: only the approval
        world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    refused = [n.data["refused_by"] for n in _told(world, "promotion.refused")]
    assert refused == [["approvals", "ci"], ["approvals"]]


def test_promote__that_goes_through__tells_no_refusal(world: World) -> None:
    in_dev(world)

    assert _told(world, "promotion.refused") == []


# -- drill.done ---------------------------------------------------------------------------


def test_drill__in_staging__tells_it_passed_with_a_link(world: World) -> None:
    in_staging(world)

    report = world.rollback.drill(world.person("carol", Role.RELEASE_MANAGER), PROJECT, "rel-1")

    assert report.succeeded
    [notice] = _told(world, "drill.done")
    assert (notice.environment, notice.severity, notice.data["succeeded"]) == (
        "staging",
        "info",
        True,
    )
    assert notice.title == "Rollback drill of rel-1 (New checkout) passed in staging"
    _linked(notice)


def test_drill__where_the_flag_is_already_off__tells_it_failed_and_why(world: World) -> None:
    new_release(world)  # never promoted: the flag is off in staging

    report = world.rollback.drill(world.person("carol", Role.RELEASE_MANAGER), PROJECT, "rel-1")

    assert not report.succeeded
    [notice] = _told(world, "drill.done")
    assert (notice.severity, notice.data["succeeded"]) == ("warning", False)
    assert "'checkout' is already off in staging" in notice.text
    assert "stays closed until one passes" in notice.text


def test_drill__recorded_by_hand__tells_it_once(world: World) -> None:
    new_release(world)
    carol = world.person("carol", Role.RELEASE_MANAGER)

    world.evidence.record_drill(carol, PROJECT, "rel-1", None, True, "flags off for all users")

    [notice] = _told(world, "drill.done")
    assert "Flags off for all users." in notice.text
    _linked(notice)


def test_drill__refused_to_a_viewer__tells_nothing(world: World) -> None:
    in_staging(world)

    with pytest.raises(Forbidden):
        world.rollback.drill(world.person("vic", Role.VIEWER), PROJECT, "rel-1")

    assert _told(world, "drill.done") == []


# -- fix.due_soon, fix.overdue -------------------------------------------------------------


def _high_fix(world: World) -> None:
    new_release(world, title="Fix totals", kind="bugfix", severity="high")  # due in 24 h


def test_sweep__tells_a_high_fix_due_soon_in_its_last_six_hours_then_overdue_once_each(
    world: World, clock: SteppingClock
) -> None:
    _high_fix(world)
    created = clock.now
    clock.set(created + timedelta(hours=17))
    assert world.fix_sweep.sweep() == 0  # 7 hours left: not yet

    clock.set(created + timedelta(hours=19))
    world.fix_sweep.sweep()
    world.fix_sweep.sweep()

    [soon] = _told(world, "fix.due_soon")
    assert (soon.severity, soon.title) == ("warning", "Fix rel-1 (Fix totals) is due in 5 h")
    assert "high-severity fix is due at 2025-03-04T09:00+00:00" in soon.text
    _linked(soon)
    assert _told(world, "fix.overdue") == []

    clock.set(created + timedelta(hours=27))
    world.fix_sweep.sweep()
    world.fix_sweep.sweep()

    [overdue] = _told(world, "fix.overdue")
    assert (overdue.severity, overdue.title) == ("critical", "Fix rel-1 (Fix totals) is overdue")
    assert "was due at 2025-03-04T09:00+00:00, 3 h ago" in overdue.text
    _linked(overdue)


def test_sweep__after_a_restart__tells_nothing_twice(world: World, clock: SteppingClock) -> None:
    _high_fix(world)
    clock.set(clock.now + timedelta(hours=30))
    world.fix_sweep.sweep()

    news = ReleaseNews(world.notifications, Links())
    restarted = FixSweep(world.store, ReleasePolicy(), news)
    restarted.sweep()

    assert len(_told(world, "fix.overdue")) == 1


def test_sweep__of_a_fix_no_longer_in_progress__tells_nothing(
    world: World, clock: SteppingClock
) -> None:
    _high_fix(world)
    world.releases.abandon(world.person("alice"), PROJECT, "rel-1", "fixed elsewhere")
    clock.set(clock.now + timedelta(days=3))

    assert world.fix_sweep.sweep() == 0
    assert _told(world, "fix.overdue") == []


def test_sweep__of_a_feature__tells_nothing(world: World, clock: SteppingClock) -> None:
    new_release(world)
    clock.set(clock.now + timedelta(days=30))

    assert world.fix_sweep.sweep() == 0
