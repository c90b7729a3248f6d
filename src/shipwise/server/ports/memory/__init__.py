"""A ``Store`` that lives in a process's memory: the same semantics as the SQL store
(``KeyTaken`` on a taken key, ids in order, the audit hash chain, a unit of work that
fails leaves nothing), with plain dicts and lists. For tests of the services, which
then need no database; ``tests/integration/storage/test_store_contract.py`` holds it to
the SQL store's behaviour.

A write unit of work works on a copy of the tables, kept when it ends well and dropped
when it raises; writers take turns (one lock, as SQLite's single writer)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from shipwise.server.ports.bus import Change, ChangeBus
from shipwise.server.ports.errors import StorageHealth
from shipwise.server.ports.memory.announcements import AnnouncementQueries
from shipwise.server.ports.memory.calendar_feeds import CalendarFeedQueries
from shipwise.server.ports.memory.catalog import CatalogQueries
from shipwise.server.ports.memory.channels import ChannelQueries
from shipwise.server.ports.memory.learnings import LearningsQueries
from shipwise.server.ports.memory.ledger import LedgerQueries
from shipwise.server.ports.memory.mailouts import MailoutQueries
from shipwise.server.ports.memory.release_notes import ReleaseNotesQueries
from shipwise.server.ports.memory.releases import ReleaseQueries
from shipwise.server.ports.memory.requests import RequestQueries
from shipwise.server.ports.memory.rollouts import RolloutQueries
from shipwise.server.ports.memory.sessions import SessionQueries
from shipwise.server.ports.memory.subscriptions import SubscriptionQueries
from shipwise.server.ports.memory.tables import Tables
from shipwise.server.ports.memory.vercel import VercelQueries
from shipwise.server.ports.store import Clock, Store

__all__ = ["MemoryStore", "MemoryTransaction"]


class MemoryTransaction(
    CatalogQueries,
    LedgerQueries,
    ReleaseQueries,
    RolloutQueries,
    RequestQueries,
    SessionQueries,
    ChannelQueries,
    ReleaseNotesQueries,
    SubscriptionQueries,
    MailoutQueries,
    AnnouncementQueries,
    CalendarFeedQueries,
    LearningsQueries,
    VercelQueries,
):
    """The whole ``Transaction`` port over one copy of the tables."""


class MemoryStore:
    """The ``Store`` port in memory. ``clock`` stamps what the store stamps (the wall
    clock in UTC by default); ``bus`` hears of every committed revision bump."""

    def __init__(self, clock: Clock | None = None, bus: ChangeBus | None = None) -> None:
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._bus = bus
        self._tables = Tables()
        self._write_lock = threading.Lock()

    def attach_bus(self, bus: ChangeBus) -> None:
        self._bus = bus

    def now(self) -> datetime:
        """The injected clock every unit of work stamps with (``Store``)."""
        return self._clock()

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        """A write unit of work; its revision bumps are published after it is kept."""
        with self._write_lock:
            working = copy.deepcopy(self._tables)
            changes: list[Change] = []
            yield MemoryTransaction(working, self._clock, changes)
            self._tables = working  # reached only when the block did not raise
        if changes and self._bus is not None:
            self._bus.publish(changes)

    @contextmanager
    def read(self) -> Iterator[MemoryTransaction]:
        """A read-only unit of work over a copy: nothing done in it is kept."""
        yield MemoryTransaction(copy.deepcopy(self._tables), self._clock, None)

    def health(self) -> StorageHealth:
        return StorageHealth(ok=True, readable=True)

    def cached_health(self) -> StorageHealth | None:
        return self.health()


def _is_a_store(store: MemoryStore) -> Store:
    """mypy's proof that ``MemoryStore`` is a ``Store`` (never called)."""
    return store
