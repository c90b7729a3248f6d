"""The board is made once and reused while nothing changed (every change writes an audit
record, so the audit chain's head says whether anything did), and made again at once
after a change, or when it is older than ``REUSE_FOR`` of the store's time (what time
alone changes: a business-hours gate, a fix falling overdue)."""

from __future__ import annotations

from tests.unit.services.world import PROJECT, SteppingClock, World, green_ci, new_release

from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.release_board import REUSE_FOR, Board, BoardFilter


def _blocking(board: Board, key: str) -> str | None:
    for column in board.columns:
        for card in column.cards:
            if card.release.key == key:
                return None if card.blocking is None else card.blocking.gate
    raise AssertionError(f"{key} is on no card")


def test_board__asked_again_with_nothing_changed__is_the_same_board(world: World) -> None:
    new_release(world)
    first = world.board.board(SYSTEM, PROJECT)

    again = world.board.board(world.person("vic"), PROJECT)

    assert again is first


def test_board__after_a_change__is_made_again_at_once(world: World) -> None:
    new_release(world)
    green_ci(world)
    before = world.board.board(SYSTEM, PROJECT)
    assert _blocking(before, "rel-1") == "approvals"

    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")
    after = world.board.board(SYSTEM, PROJECT)

    assert after is not before
    assert _blocking(after, "rel-1") != "approvals"


def test_board__older_than_its_reuse_time__is_made_again(
    world: World, clock: SteppingClock
) -> None:
    new_release(world)
    first = world.board.board(SYSTEM, PROJECT)

    clock.set(clock.now + REUSE_FOR + REUSE_FOR / 10)
    later = world.board.board(SYSTEM, PROJECT)

    assert later is not first
    assert later.now > first.now


def test_board__each_filter__is_its_own_board(world: World) -> None:
    new_release(world)
    every = world.board.board(SYSTEM, PROJECT)

    bugfixes = world.board.board(SYSTEM, PROJECT, BoardFilter(kind="bugfix"))

    assert bugfixes is not every
    assert bugfixes.shown == 0
    assert every.shown == 1
