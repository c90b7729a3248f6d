"""What the services need from the outside world, as Protocols, and the records that
cross those boundaries. Adapters (``storage``, ``notify``, ``metrics``) implement them;
only ``bootstrap`` wires adapters to services.

One module per capability, each store Protocol beside its records: a service takes the
stores it uses (``FlagStore``, ``AuditStore``, ...); ``Transaction`` is all of them in
one unit of work. ``memory`` is a store that lives in a process's memory, for tests."""

from __future__ import annotations

from shipwise.server.ports.audit import AuditEntry, AuditFilter, AuditRecord, AuditStore
from shipwise.server.ports.bus import Change, ChangeBus
from shipwise.server.ports.change_requests import ChangeRequestStore
from shipwise.server.ports.channels import (
    ChannelConfig,
    ChannelRecord,
    ChannelSender,
    ChannelSenders,
    ChannelStore,
    Delivered,
)
from shipwise.server.ports.deliveries import GitHubDelivery, GitHubDeliveryStore
from shipwise.server.ports.digests import Digest, DigestSender
from shipwise.server.ports.errors import (
    KeyTaken,
    StorageHealth,
    StorageProblem,
    StorageUnavailable,
)
from shipwise.server.ports.exposures import ExposureCount, ExposureStore
from shipwise.server.ports.flags import FlagConfig, FlagRecord, FlagStore
from shipwise.server.ports.locks import RunnerLock
from shipwise.server.ports.metrics import (
    MetricDefinition,
    MetricSource,
    MetricUnavailable,
    MetricWindow,
)
from shipwise.server.ports.notify import Notification, NotificationFailed, Notifier
from shipwise.server.ports.outbox import Delivery, DeliveryState, OutboxItem, OutboxStore
from shipwise.server.ports.projects import Environment, Project, ProjectStore
from shipwise.server.ports.release_notes import (
    GitHistory,
    GitUnavailable,
    ReleaseNotesStore,
    StoredNotes,
)
from shipwise.server.ports.releases import PolicySourceStore, ReleaseStore
from shipwise.server.ports.rollouts import (
    EventTotals,
    MetricDefinitionStore,
    ObservationStore,
    RolloutCheck,
    RolloutPlanRecord,
    RolloutPlanStore,
    RolloutStore,
    TemplateStore,
    TrackedEvent,
)
from shipwise.server.ports.secrets import SecretBox, SecretsUnavailable
from shipwise.server.ports.segments import SegmentRecord, SegmentStore
from shipwise.server.ports.sessions import SessionStore, SignInLinkRecord, WebSessionRecord
from shipwise.server.ports.snapshots import EnvironmentState, SnapshotStore
from shipwise.server.ports.store import Clock, Clocked, Store, StoreOf, Transaction
from shipwise.server.ports.subscriptions import SubscriptionRecord, SubscriptionStore
from shipwise.server.ports.tokens import TokenRecord, TokenStore

__all__ = [
    "AuditEntry",
    "AuditFilter",
    "AuditRecord",
    "AuditStore",
    "Change",
    "ChangeBus",
    "ChangeRequestStore",
    "ChannelConfig",
    "ChannelRecord",
    "ChannelSender",
    "ChannelSenders",
    "ChannelStore",
    "Clock",
    "Clocked",
    "Delivered",
    "Delivery",
    "DeliveryState",
    "Digest",
    "DigestSender",
    "Environment",
    "EnvironmentState",
    "EventTotals",
    "ExposureCount",
    "ExposureStore",
    "FlagConfig",
    "FlagRecord",
    "FlagStore",
    "GitHistory",
    "GitHubDelivery",
    "GitHubDeliveryStore",
    "GitUnavailable",
    "KeyTaken",
    "MetricDefinition",
    "MetricDefinitionStore",
    "MetricSource",
    "MetricUnavailable",
    "MetricWindow",
    "Notification",
    "NotificationFailed",
    "Notifier",
    "ObservationStore",
    "OutboxItem",
    "OutboxStore",
    "PolicySourceStore",
    "Project",
    "ProjectStore",
    "ReleaseNotesStore",
    "ReleaseStore",
    "RolloutCheck",
    "RolloutPlanRecord",
    "RolloutPlanStore",
    "RolloutStore",
    "RunnerLock",
    "SecretBox",
    "SecretsUnavailable",
    "SegmentRecord",
    "SegmentStore",
    "SessionStore",
    "SignInLinkRecord",
    "SnapshotStore",
    "StorageHealth",
    "StorageProblem",
    "StorageUnavailable",
    "Store",
    "StoreOf",
    "StoredNotes",
    "SubscriptionRecord",
    "SubscriptionStore",
    "TemplateStore",
    "TokenRecord",
    "TokenStore",
    "TrackedEvent",
    "Transaction",
    "WebSessionRecord",
]
