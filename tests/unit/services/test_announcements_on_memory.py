"""In-app announcements as the services make, end and serve them, on the memory store:
who may make one, what is refused (naming the field), what each user is served, and
that every change is audited on its release in the same unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.services.world import FLAG, PROJECT, SteppingClock, World, new_release

from shipwise.domain.access import Role
from shipwise.domain.announcements import AnnouncementDraft
from shipwise.server.services.announcements import AnnouncementService, AnnouncementState
from shipwise.server.services.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from shipwise.server.services.principal import SYSTEM


@pytest.fixture
def service(world: World) -> AnnouncementService:
    _released_to(world, "production")  # rel-1, behind flag checkout
    return AnnouncementService(world.store)


def _released_to(world: World, stage: str) -> None:
    """rel-1 as if promoted through its gates into ``stage``."""
    release = new_release(world)
    with world.store.transaction() as tx:
        tx.save_release(replace(release, stage=stage))


def _draft(clock: SteppingClock, **fields: object) -> AnnouncementDraft:
    wanted: dict[str, object] = {
        "flag": FLAG,
        "title": "A faster checkout",
        "body": "Pay in **one** step. <script>alert(1)</script>",
        "starts_at": clock.now + timedelta(hours=1),
        "ends_at": clock.now + timedelta(days=7),
        "link": "https://example.com/new-checkout",
    }
    return AnnouncementDraft(**(wanted | fields))  # type: ignore[arg-type]


def _environment_id(world: World, key: str = "production") -> int:
    return world.projects.environment(SYSTEM, PROJECT, key).id


def test_create__by_a_developer__stores_it_for_production_with_sanitised_html_and_audits_it(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    made = service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))

    assert made.environment == "production"  # the pipeline's last environment
    assert made.release == "rel-1"
    assert made.html == "<p>Pay in <strong>one</strong> step. </p>"
    assert service.state(made) is AnnouncementState.SCHEDULED
    [record] = world.audit(action="release.announcement.add")
    assert record.entry.target_key == "rel-1"
    assert record.entry.environment == "production"
    assert record.entry.after is not None
    assert record.entry.after["announcement"] == made.id


def test_create__by_a_viewer__is_forbidden_and_stores_nothing(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    with pytest.raises(Forbidden):
        service.create(world.person("vic", Role.VIEWER), PROJECT, "rel-1", _draft(clock))

    assert service.of_release(SYSTEM, PROJECT, "rel-1") == []
    assert world.audit(action="release.announcement.add") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"flag": "search"}, "flag", id="a-flag-the-release-does-not-name"),
        pytest.param({"title": "x" * 121}, "title", id="a-title-over-120"),
        pytest.param({"title": "two\nlines"}, "title", id="a-title-of-two-lines"),
        pytest.param({"body": " \n "}, "body", id="an-empty-body"),
        pytest.param({"body": "x" * 10_001}, "body", id="a-body-over-10000"),
        pytest.param({"link": "javascript:alert(1)"}, "link", id="a-javascript-link"),
        pytest.param({"link": "https://" + "a" * 2_000}, "link", id="a-link-over-2000"),
        pytest.param({"link": "/relative"}, "link", id="a-link-without-host"),
    ],
)
def test_create__with_bad_input__is_refused_naming_the_field_and_stores_nothing(
    world: World,
    service: AnnouncementService,
    clock: SteppingClock,
    fields: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(Invalid) as refused:
        service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock, **fields))

    assert refused.value.field == field
    assert service.of_release(SYSTEM, PROJECT, "rel-1") == []


def test_create__ending_before_it_starts_or_already_over__is_refused_on_ends_at(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    backwards = _draft(clock, ends_at=clock.now + timedelta(minutes=30))
    over = _draft(clock, starts_at=clock.now - timedelta(days=2), ends_at=clock.now)

    for draft in (backwards, over):
        with pytest.raises(Invalid) as refused:
            service.create(world.person("alice"), PROJECT, "rel-1", draft)
        assert refused.value.field == "ends_at"


def test_showing_to__in_its_window__serves_users_with_the_flag_on_who_did_not_dismiss_it(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    made = service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))
    production = _environment_id(world)
    on_for = {"u-on", "u-other"}

    def seen(user: str) -> list[int]:
        shown = service.showing_to(production, user, lambda flag: user in on_for)
        return [a.id for a in shown]

    assert seen("u-on") == []  # not started yet
    clock.set(clock.now + timedelta(hours=1))
    assert seen("u-on") == [made.id]
    assert seen("u-off") == []
    assert service.dismiss(production, made.id, "u-on") is True
    assert service.dismiss(production, made.id, "u-on") is False  # once is enough
    assert seen("u-on") == []
    assert seen("u-other") == [made.id]
    assert service.dismissals(production, "u-on") == [made.id]
    clock.set(made.ends_at)
    assert seen("u-other") == []  # its end is exclusive


def test_dismiss__with_another_environments_key__is_not_found_and_remembers_nothing(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    made = service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))

    with pytest.raises(NotFound):
        service.dismiss(_environment_id(world, "staging"), made.id, "u-1")

    assert service.dismissals(_environment_id(world), "u-1") == []


def test_end__by_a_developer__ends_it_now_for_everyone_and_a_second_end_is_a_conflict(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    made = service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))
    clock.set(clock.now + timedelta(hours=2))

    ended = service.end(world.person("bob"), PROJECT, "rel-1", made.id)

    assert ended.ends_at == clock.now
    assert ended.ended_by == "token:bob (api, developer)"
    assert service.state(ended) is AnnouncementState.ENDED
    assert service.showing_to(_environment_id(world), "u-1", lambda flag: True) == []
    assert service.serving(_environment_id(world)).announcements == ()
    with pytest.raises(Conflict):
        service.end(world.person("bob"), PROJECT, "rel-1", made.id)
    assert len(world.audit(action="release.announcement.end")) == 1


def test_remove__forgets_it_and_its_dismissals_and_a_viewer_may_not(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    made = service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))
    service.dismiss(_environment_id(world), made.id, "u-1")
    with pytest.raises(Forbidden):
        service.remove(world.person("vic", Role.VIEWER), PROJECT, "rel-1", made.id)

    service.remove(world.person("bob"), PROJECT, "rel-1", made.id)

    assert service.of_release(SYSTEM, PROJECT, "rel-1") == []
    with pytest.raises(NotFound):
        service.show(SYSTEM, PROJECT, "rel-1", made.id)
    with world.store.read() as tx:
        assert tx.dismissed("u-1", [made.id]) == set()
    assert len(world.audit(action="release.announcement.remove")) == 1


def test_create__of_an_abandoned_release__is_a_conflict(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    world.releases.abandon(world.person("alice"), PROJECT, "rel-1", "not needed")

    with pytest.raises(Conflict):
        service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))


def _move_to(world: World, stage: str | None) -> None:
    with world.store.transaction() as tx:
        project = tx.get_project(PROJECT)
        assert project is not None
        found = tx.get_release(project.id, "rel-1")
        assert found is not None
        tx.save_release(replace(found, stage=stage))


@pytest.mark.parametrize("stage", ["staging", None])
def test_create__for_production_before_the_release_passed_its_gates_there__is_refused(
    world: World, service: AnnouncementService, clock: SteppingClock, stage: str | None
) -> None:
    # Given rel-1 has not reached production (protected: only a release that passed its
    # gates there, or a change request, shows something new to its users)
    _move_to(world, stage)

    # When a developer announces it to production's users
    with pytest.raises(Refused) as refused:
        service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock))

    # Then nothing is stored, and the refusal says what gets there
    assert "production" in str(refused.value)
    assert "shipwise release promote rel-1" in str(refused.value)
    assert service.of_release(SYSTEM, PROJECT, "rel-1") == []
    assert world.audit(action="release.announcement.add") == []


def test_create__for_an_unprotected_environment__needs_no_promotion(
    world: World, service: AnnouncementService, clock: SteppingClock
) -> None:
    _move_to(world, None)

    made = service.create(world.person("alice"), PROJECT, "rel-1", _draft(clock), "staging")

    assert made.environment == "staging"
