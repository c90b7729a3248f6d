"""What the store-contract tests get: a store (memory, SQLite or PostgreSQL) and the
clock it stamps with, set by hand from ``START``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tests.support.clock import ManualClock

from shipwise.server.ports import Store

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class Backend:
    store: Store
    clock: ManualClock
    name: str
