"""What every part of the memory transaction shares: the tables and the clock."""

from __future__ import annotations

from datetime import datetime

from shipwise.server.ports.bus import Change
from shipwise.server.ports.memory.tables import Tables
from shipwise.server.ports.store import Clock


class MemoryBase:
    def __init__(self, tables: Tables, clock: Clock, changes: list[Change] | None) -> None:
        self._t = tables
        self._clock = clock
        self._changes = changes  # None: a read-only unit of work

    def _now(self) -> datetime:
        return self._clock()

    def now(self) -> datetime:
        return self._clock()
