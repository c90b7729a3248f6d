"""The unit of work (every store capability at once) and the store that opens one.

A service types the store it is given as ``StoreOf[ItsTx]``, ``ItsTx`` being the store
Protocols it uses: its units of work then offer only those, so mypy holds the service
to them. Any ``Store`` is a ``StoreOf`` every narrower unit of work (the type parameter
is covariant), so ``bootstrap`` and the tests pass the one store they have."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, TypeVar

from shipwise.server.ports.announcements import AnnouncementStore
from shipwise.server.ports.audit import AuditStore
from shipwise.server.ports.calendar_feeds import CalendarFeedStore
from shipwise.server.ports.change_requests import ChangeRequestStore
from shipwise.server.ports.channels import ChannelStore
from shipwise.server.ports.deliveries import GitHubDeliveryStore
from shipwise.server.ports.errors import StorageHealth
from shipwise.server.ports.exposures import ExposureStore
from shipwise.server.ports.flags import FlagStore
from shipwise.server.ports.learnings import LearningsStore
from shipwise.server.ports.mailout import MailoutStore
from shipwise.server.ports.outbox import OutboxStore
from shipwise.server.ports.projects import ProjectStore
from shipwise.server.ports.release_notes import ReleaseNotesStore
from shipwise.server.ports.releases import ReleaseStore
from shipwise.server.ports.rollouts import RolloutStore
from shipwise.server.ports.segments import SegmentStore
from shipwise.server.ports.sessions import SessionStore
from shipwise.server.ports.snapshots import SnapshotStore
from shipwise.server.ports.subscriptions import SubscriptionStore
from shipwise.server.ports.tokens import TokenStore
from shipwise.server.ports.vercel import VercelDrainStore

Clock = Callable[[], datetime]

Work_co = TypeVar("Work_co", covariant=True)


class Clocked(Protocol):
    def now(self) -> datetime:
        """The store's injected clock (simulated under ``shipwise simulate``), never the
        wall clock: what a service stamps must agree with what the store stamps."""
        ...


class Transaction(
    Clocked,
    ProjectStore,
    FlagStore,
    SegmentStore,
    SnapshotStore,
    TokenStore,
    AuditStore,
    ExposureStore,
    ReleaseStore,
    RolloutStore,
    OutboxStore,
    GitHubDeliveryStore,
    ChangeRequestStore,
    SessionStore,
    ChannelStore,
    ReleaseNotesStore,
    SubscriptionStore,
    MailoutStore,
    AnnouncementStore,
    CalendarFeedStore,
    LearningsStore,
    VercelDrainStore,
    Protocol,
):
    """One unit of work: everything done through it commits together, or not at all.
    A service that needs only part of it takes the narrower store Protocols."""


class StoreOf(Protocol[Work_co]):
    """A store as a service sees it: units of work offering ``Work_co``."""

    def transaction(self) -> AbstractContextManager[Work_co]:
        """A write unit of work: everything done in it commits together, or nothing."""
        ...

    def read(self) -> AbstractContextManager[Work_co]:
        """A read-only unit of work (no audit, no revision bumps)."""
        ...


class Store(StoreOf[Transaction], Clocked, Protocol):
    """The whole store: every capability in each unit of work, its health, and its
    clock (what each unit of work's ``now`` reads; the one source of time, also for the
    few readers of time outside any unit of work, such as the token cache)."""

    def health(self) -> StorageHealth:
        """Probe the database (cheap: meant to be called every second); may block."""
        ...

    def cached_health(self) -> StorageHealth | None:
        """The last probe's answer while still current, without blocking; else None."""
        ...
