"""The fixtures of the service tests: a clock set by hand and the services wired over a
memory store (``world.py``), with the project ``shop`` and its flag ``checkout``."""

from __future__ import annotations

import pytest
from tests.support.store_backend import START
from tests.unit.services.world import FLAG, PROJECT, SteppingClock, World, build_world

from shipwise.server.services.principal import SYSTEM


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(START)  # Monday 09:00 UTC: inside the default business hours


@pytest.fixture
def world(clock: SteppingClock) -> World:
    world = build_world(clock)
    world.projects.create(SYSTEM, PROJECT, "Shop")
    world.flags.create(SYSTEM, PROJECT, FLAG)
    return world
