"""One source of time: every service, handed a memory store whose clock is simulated,
stamps what it records with that clock's time (read from its unit of work), and reads
it once per decision, so the parts of one decision agree even when the clock moves
between reads. A service reading the wall clock, or a clock of its own, would stamp
another time."""

from __future__ import annotations

from datetime import timedelta

from tests.support.store_backend import START
from tests.unit.services.world import (
    COMMIT,
    PROJECT,
    SteppingClock,
    World,
    in_staging,
    new_release,
)

from shipwise.domain.access import Role
from shipwise.server.services.principal import SYSTEM

LATER = START + timedelta(days=30, hours=1)  # Wednesday 2025-04-02 10:00 UTC
FEWER_APPROVALS = """
[change_requests]
approvals = { count = 1 }
"""  # the default asks two people: one weakens it, so it waits for a change request


def test_rollback__on_a_simulated_clock__stamps_its_notice_with_that_time(
    world: World, clock: SteppingClock
) -> None:
    in_staging(world)
    clock.set(LATER)

    world.rollback.rollback(world.person("bob"), PROJECT, "rel-1", "error rate 4%")

    [notice] = [n for n in world.outbox() if n.kind == "release.rolled-back"]
    assert notice.at == LATER
    [record] = world.audit(action="release.rollback")
    assert record.at == LATER


def test_github_ci_result__on_a_simulated_clock__is_received_and_recorded_at_that_time(
    world: World, clock: SteppingClock
) -> None:
    new_release(world)
    clock.set(LATER)

    world.deliver("status", "status", delivery="s-1")

    [ci] = world.releases.show(SYSTEM, PROJECT, "rel-1").evidence.ci
    assert (ci.commit, ci.at) == (COMMIT, LATER)
    again = world.deliver("status", "status", delivery="s-1")
    assert again.duplicate
    assert "was received at 2025-04-02 10:00:00Z" in again.skipped[0]


def test_weakening_policy__on_a_simulated_clock__opens_its_change_request_at_that_time(
    world: World, clock: SteppingClock
) -> None:
    clock.set(LATER)

    outcome = world.policies.apply(
        world.person("carol", Role.RELEASE_MANAGER), PROJECT, FEWER_APPROVALS
    )

    assert outcome.request is not None
    assert outcome.request.request.created_at == LATER
    [notice] = [n for n in world.outbox() if n.kind == "change-request.opened"]
    assert notice.at == LATER


def test_change_request_approval__on_a_clock_that_moves_on_every_read__is_stamped_once(
    world: World, clock: SteppingClock
) -> None:
    """The approval and its notice are one decision: with a clock an hour further on
    every read, both still carry the one time the transition read."""
    manager = world.person("carol", Role.RELEASE_MANAGER)
    opened = world.policies.apply(manager, PROJECT, FEWER_APPROVALS).request
    assert opened is not None
    clock.set(LATER)
    clock.step = timedelta(hours=1)

    approved = world.change_requests.approve(
        world.person("dora", Role.RELEASE_MANAGER), PROJECT, opened.request.id
    ).request

    [notice] = [n for n in world.outbox() if n.kind == "change-request.approved"]
    assert approved.updated_at is not None
    assert approved.updated_at >= LATER
    assert notice.at == approved.updated_at
