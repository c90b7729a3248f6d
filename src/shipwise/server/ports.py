"""What the services need from the outside world, as Protocols, and the records that
cross those boundaries. Adapters (``storage``, ``notify``, ``metrics``) implement them;
only ``bootstrap`` wires adapters to services."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from shipwise.domain.audit import ChainedRecord
from shipwise.domain.change_requests import ChangeRequest, RequestKind, RequestState
from shipwise.domain.github_order import Recorded
from shipwise.domain.releases import Evidence, Release
from shipwise.domain.rollout import PlanSpec, PlanState

Clock = Callable[[], datetime]


class KeyTaken(Exception):
    """A new project, environment, flag or segment whose key a concurrent transaction
    took first (the database's unique constraint said so, at insert)."""


class StorageProblem(StrEnum):
    """What is wrong with the database, in the words an operator acts on."""

    DISK_FULL = "disk full"
    LOCKED = "database locked"
    BUSY = "database busy"
    UNREACHABLE = "database unreachable"
    READ_ONLY = "database read-only"
    IO_ERROR = "disk I/O error"
    ERROR = "database error"  # a probe failed in a way none of the above names


class StorageUnavailable(Exception):
    """The database cannot do this now (the storage adapter's translation of a driver
    error, so nothing above it imports the driver). The unit of work was rolled back;
    ``advice`` says what to do, ``retry_after`` when trying again makes sense."""

    def __init__(self, problem: StorageProblem, advice: str, retry_after: int) -> None:
        super().__init__(f"{problem}: {advice}")
        self.problem = problem
        self.advice = advice
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What a live probe of the database found. ``readable`` False: nothing that needs
    the database can be served (a load balancer should look elsewhere)."""

    ok: bool
    readable: bool
    problem: StorageProblem | None = None
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    key: str
    name: str
    timezone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Environment:
    id: int
    project_id: int
    key: str
    name: str
    branch: str
    position: int
    revision: int


@dataclass(frozen=True, slots=True)
class FlagRecord:
    id: int
    project_id: int
    key: str
    kind: str
    owner: str | None
    description: str | None
    tags: tuple[str, ...]
    created_at: datetime
    archived: bool = False


@dataclass(frozen=True, slots=True)
class FlagConfig:
    """A flag's rules in one environment, as JSON in the engine's (Unleash) shapes."""

    flag_id: int
    environment_id: int
    enabled: bool
    strategies: list[Any]
    variants: list[Any]
    dependencies: list[Any]
    version: int
    updated_at: datetime

    def rules(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "strategies": self.strategies,
            "variants": self.variants,
            "dependencies": self.dependencies,
        }


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    id: int
    project_id: int
    name: str
    description: str | None
    constraints: list[Any]
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    name: str
    kind: str
    role: str | None
    project_id: int | None
    environment_id: int | None
    prefix: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What a change records: who did what to which thing, with before and after."""

    actor: str
    action: str
    target_type: str
    target_key: str
    project: str | None = None
    environment: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    entry: AuditEntry
    previous_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class EnvironmentState:
    """Everything one environment's snapshot is made of."""

    environment: Environment
    project: Project
    flags: Sequence[tuple[FlagRecord, FlagConfig]]
    segments: Sequence[SegmentRecord]


@dataclass(frozen=True, slots=True)
class Change:
    """An environment's snapshot changed: its new revision."""

    environment_id: int
    revision: int


@dataclass(frozen=True, slots=True)
class ExposureCount:
    yes: int
    no: int
    variants: Mapping[str, int]


@dataclass
class AuditFilter:
    project: str | None = None
    target_type: str | None = None
    target_key: str | None = None
    limit: int = 100
    before_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    action: str | None = None  # exact, or a family ending in ".*" ("flag.*")
    actor: str | None = None  # part of the actor, any case ("ana" finds "token:ana (#3, …)")
    since: datetime | None = None  # at or after (UTC)
    until: datetime | None = None  # before (UTC)


class ReleaseStore(Protocol):
    """Releases, their evidence, CI results, deploys and the project's policy."""

    def add_release(self, project_id: int, release: Release) -> Release: ...
    def save_release(self, release: Release) -> Release: ...
    def get_release(
        self, project_id: int, key: str, *, for_update: bool = False
    ) -> Release | None: ...
    def list_releases(self, project_id: int) -> list[Release]: ...
    def releases_for_branch(self, project_id: int, branch: str) -> list[Release]: ...
    def next_release_number(self, project_id: int) -> int: ...
    def add_evidence(
        self,
        release: Release,
        kind: str,
        stage: str,
        actor: str,
        at: datetime,
        data: dict[str, Any],
    ) -> None: ...
    def evidence(self, project_id: int, release: Release) -> Evidence: ...
    def add_ci_result(
        self,
        project_id: int,
        commit: str,
        context: str,
        state: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None: ...
    def add_deploy(
        self,
        project_id: int,
        environment: str,
        commit: str,
        succeeded: bool,
        reported_by: str,
        at: datetime,
        event_at: datetime | None = None,
    ) -> None: ...
    def last_ci_event(self, project_id: int, commit: str, context: str) -> Recorded | None:
        """The newest result with an ``event_at`` for the commit and context."""
        ...

    def last_deploy_event(self, project_id: int, environment: str, commit: str) -> Recorded | None:
        """The newest deploy with an ``event_at`` of the commit to the environment
        (state ``success`` or ``failure``)."""
        ...

    def get_policy_source(self, project_id: int) -> tuple[str, int] | None: ...
    def save_policy_source(self, project_id: int, source: str, at: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class GitHubDelivery:
    """A GitHub delivery a project received: ``delivery`` is ``X-GitHub-Delivery``,
    ``body_sha256`` the digest of the signed body."""

    delivery: str
    event: str
    body_sha256: str
    received_at: datetime
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


class GitHubDeliveryStore(Protocol):
    """The deliveries each project received, so a repeat is recognised."""

    def claim_delivery(self, project_id: int, delivery: GitHubDelivery) -> GitHubDelivery | None:
        """Record ``delivery`` as received, or return the earlier one it repeats (the same
        id or the same body). A project's deliveries are claimed one at a time: the claim
        holds until this transaction ends."""
        ...

    def settle_delivery(
        self, project_id: int, delivery: str, applied: Sequence[str], skipped: Sequence[str]
    ) -> None:
        """Keep what the claimed ``delivery`` did, for the answer to a repeat."""
        ...

    def forget_deliveries(self, project_id: int, before: datetime) -> int:
        """Drop the project's deliveries received before ``before``; how many."""
        ...


@dataclass(frozen=True, slots=True)
class RolloutPlanRecord:
    """A rollout plan running (or that ran) on one flag in one environment."""

    id: int
    project: str
    flag: str
    environment: str
    release: str | None
    spec: PlanSpec
    state: PlanState
    version: int  # bumped by every saved change: a runner acts only on what it read
    next_check_at: datetime | None
    created_by: str
    created_at: datetime
    judgements: Mapping[str, Any] = field(default_factory=dict)  # the last check's, as dicts


@dataclass(frozen=True, slots=True)
class RolloutCheck:
    """One line of a plan's timeline: a check that decided something or saw a change."""

    plan_id: int
    at: datetime
    step: int
    decision: str
    reason: str
    judgements: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EventTotals:
    """One arm's SDK-tracked events for one flag: calls, calls with a value, and sums."""

    count: float = 0.0
    valued: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """One aggregated line of an SDK's ``track`` batch."""

    flag: str
    arm: str  # "on" or "off"
    event: str
    count: int
    valued: int
    total: float
    total_sq: float


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    channel: str
    notification: Notification
    attempts: int
    next_attempt_at: datetime


class RolloutStore(Protocol):
    """Rollout plans, templates, metric definitions, observations and the outbox."""

    def add_plan(
        self,
        project_id: int,
        flag_id: int,
        environment_id: int,
        release_id: int | None,
        spec: PlanSpec,
        state: PlanState,
        next_check_at: datetime | None,
        created_by: str,
    ) -> RolloutPlanRecord: ...
    def get_plan(self, plan_id: int, *, for_update: bool = False) -> RolloutPlanRecord | None: ...
    def save_plan(
        self,
        plan: RolloutPlanRecord,
        state: PlanState,
        next_check_at: datetime | None,
        judgements: Mapping[str, Any] | None = None,
    ) -> RolloutPlanRecord:
        """Store the new state and bump the version; the caller holds the row lock."""
        ...

    def list_plans(
        self,
        project_id: int,
        *,
        flag_id: int | None = None,
        environment_id: int | None = None,
        release_id: int | None = None,
        active_only: bool = False,
    ) -> list[RolloutPlanRecord]: ...
    def due_plans(self, now: datetime, limit: int) -> list[int]:
        """Ids of active plans whose next check is at or before ``now``, soonest first."""
        ...

    def wake_plans(self, environment_id: int, flags: Sequence[str], now: datetime) -> int:
        """Make the active plans on these flags due now (new data arrived for them)."""
        ...

    def add_check(self, check: RolloutCheck) -> None: ...
    def list_checks(self, plan_id: int, limit: int = 500) -> list[RolloutCheck]: ...

    def save_template(self, project_id: int, name: str, spec: PlanSpec) -> None: ...
    def get_template(self, project_id: int, name: str) -> PlanSpec | None: ...
    def list_templates(self, project_id: int) -> dict[str, PlanSpec]: ...
    def delete_template(self, project_id: int, name: str) -> bool: ...

    def save_metric(self, definition: MetricDefinition) -> MetricDefinition: ...
    def get_metric(self, project_id: int, name: str) -> MetricDefinition | None: ...
    def list_metrics(self, project_id: int) -> list[MetricDefinition]: ...
    def delete_metric(self, project_id: int, name: str) -> bool: ...

    def add_tracked(
        self, environment_id: int, app_name: str | None, events: Sequence[TrackedEvent]
    ) -> int: ...
    def tracked_totals(
        self, environment_id: int, flag: str, event: str, since: datetime
    ) -> dict[str, EventTotals]:
        """By arm ("on"/"off"), for batches received at or after ``since``."""
        ...

    def exposures_since(self, environment_id: int, flag: str, since: datetime) -> ExposureCount: ...
    def add_pushed(
        self, project_id: int, environment: str | None, name: str, value: float, at: datetime
    ) -> None: ...
    def pushed_total(
        self, project_id: int, environment: str | None, name: str, since: datetime
    ) -> tuple[float, int]:
        """Sum and number of pushes since ``since`` (environment None: any)."""
        ...

    def enqueue(self, channel: str, notification: Notification) -> None: ...
    def due_outbox(self, now: datetime, limit: int) -> list[OutboxItem]: ...
    def outbox_delivered(self, item_id: int, at: datetime) -> None: ...
    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; ``retry_at`` None gives up."""
        ...


class ChangeRequestStore(Protocol):
    """Change requests: proposed changes to a flag, a segment or the policy, reviewed
    before they take effect (``domain.change_requests``)."""

    def add_change_request(self, project_id: int, request: ChangeRequest) -> ChangeRequest:
        """Store a new request (its ``id`` is ignored); the stored one, numbered."""
        ...

    def get_change_request(
        self, project_id: int, request_id: int, *, for_update: bool = False
    ) -> ChangeRequest | None: ...
    def save_change_request(self, request: ChangeRequest) -> ChangeRequest:
        """Store the new state, reviews, closing reason and applied version."""
        ...

    def list_change_requests(
        self,
        project_id: int,
        *,
        states: Collection[RequestState] = (),
        kind: RequestKind | None = None,
        target: str | None = None,
        environment: str | None = None,
        limit: int = 200,
        for_update: bool = False,
    ) -> list[ChangeRequest]:
        """Newest first; empty ``states`` means every state."""
        ...


class Transaction(ReleaseStore, RolloutStore, GitHubDeliveryStore, ChangeRequestStore, Protocol):
    """One unit of work: everything done through it commits together, or not at all."""

    def now(self) -> datetime:
        """The store's injected clock (simulated under ``shipwise simulate``), never the
        wall clock: what a service stamps must agree with what the store stamps."""
        ...

    # projects and environments
    def get_project(self, key: str) -> Project | None: ...
    def list_projects(self) -> list[Project]: ...
    def add_project(self, key: str, name: str, timezone: str) -> Project: ...
    def list_environments(self, project_id: int) -> list[Environment]: ...
    def get_environment(self, project_id: int, key: str) -> Environment | None: ...
    def get_environment_by_id(self, environment_id: int) -> Environment | None: ...
    def add_environment(
        self, project_id: int, key: str, name: str, branch: str, position: int
    ) -> Environment: ...
    def touch(self, environment_ids: Sequence[int]) -> list[Change]:
        """Bump the revision of each environment; published once the transaction commits."""
        ...

    # flags and their per-environment configuration
    def list_flags(self, project_id: int) -> list[FlagRecord]: ...
    def get_flag(self, project_id: int, key: str) -> FlagRecord | None: ...
    def add_flag(
        self,
        project_id: int,
        key: str,
        kind: str,
        owner: str | None,
        description: str | None,
        tags: Sequence[str],
    ) -> FlagRecord: ...
    def update_flag(self, flag: FlagRecord) -> FlagRecord: ...
    def get_config(
        self, flag_id: int, environment_id: int, *, for_update: bool = False
    ) -> FlagConfig | None:
        """``for_update`` locks the row until the transaction ends (a version check)."""
        ...

    def configs_for_flag(self, flag_id: int) -> list[FlagConfig]: ...
    def save_config(self, config: FlagConfig) -> FlagConfig:
        """Insert, or replace and bump the version. The caller checked the version."""
        ...

    # segments
    def list_segments(self, project_id: int) -> list[SegmentRecord]: ...
    def get_segment(
        self, project_id: int, name: str, *, for_update: bool = False
    ) -> SegmentRecord | None: ...
    def save_segment(
        self,
        project_id: int,
        name: str,
        description: str | None,
        constraints: list[Any],
    ) -> SegmentRecord: ...
    def delete_segment(self, project_id: int, name: str) -> bool: ...

    # tokens
    def add_token(
        self,
        *,
        name: str,
        kind: str,
        role: str | None,
        project_id: int | None,
        environment_id: int | None,
        secret_hash: str,
        prefix: str,
        created_by: str,
        expires_at: datetime | None,
    ) -> TokenRecord: ...
    def find_token(self, secret_hash: str) -> TokenRecord | None: ...
    def list_tokens(self, project_id: int | None) -> list[TokenRecord]: ...
    def get_token(self, token_id: int) -> TokenRecord | None: ...
    def revoke_token(self, token_id: int, at: datetime) -> TokenRecord: ...
    def count_tokens(self) -> int: ...

    # audit
    def append_audit(self, entry: AuditEntry) -> AuditRecord: ...
    def list_audit(self, query: AuditFilter) -> list[AuditRecord]: ...
    def iter_audit(self) -> Iterator[AuditRecord]: ...
    def iter_audit_chain(self) -> Iterator[ChainedRecord]:
        """Every record as the hash chain sees it, oldest first."""
        ...

    def audit_chain_head(self) -> str | None:
        """The hash the newest record must have (None before the first record)."""
        ...

    # metrics
    def add_exposures(
        self, environment_id: int, app_name: str | None, counts: Mapping[str, ExposureCount]
    ) -> int: ...
    def exposure_totals(self, environment_id: int) -> dict[str, ExposureCount]: ...

    # snapshots
    def environment_state(self, environment_id: int) -> EnvironmentState | None: ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]: ...
    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only unit of work (no audit, no revision bumps)."""
        ...

    def health(self) -> StorageHealth:
        """Probe the database (cheap: meant to be called every second); may block."""
        ...

    def cached_health(self) -> StorageHealth | None:
        """The last probe's answer while still current, without blocking; else None."""
        ...


class ChangeBus(Protocol):
    """Carries "environment E is now at revision R" to every server instance's streams,
    and "token T was revoked" to every instance's token cache and streams. Listeners
    are called in the order they subscribed."""

    def publish(self, changes: Sequence[Change]) -> None: ...
    def subscribe(self, listener: Callable[[Change], None]) -> None: ...
    def publish_revocation(self, token_id: int) -> None: ...
    def subscribe_revocations(self, listener: Callable[[int], None]) -> None: ...
    def close(self) -> None: ...


# --- rollouts: metrics in, notifications out ---------------------------------------


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """A metric a project's guardrails may name. ``source`` says where its numbers come
    from ("sdk", "prometheus", "sentry", "json", "pushed"); ``settings`` are the
    source's own (a PromQL query, a URL and a field path, an SDK event name, ...)."""

    project_id: int
    name: str
    source: str
    settings: Mapping[str, Any]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MetricWindow:
    """What one check asks a source about: a flag in an environment, since ``start``."""

    project: str
    environment: str
    flag: str
    start: datetime
    end: datetime


class MetricUnavailable(Exception):
    """A source could not answer (down, bad query, unexpected payload): the guardrail's
    verdict is "error", with this message."""


class MetricSource(Protocol):
    """Reads one kind of metric (``kind`` matches ``MetricDefinition.source``)."""

    kind: str

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        """What is wrong with a definition's settings, as (field, message) pairs."""
        ...

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Any:
        """An ``Observation`` (``domain.guardrails``): Reading or Comparison. Raises
        MetricUnavailable when the source cannot answer."""
        ...


@dataclass(frozen=True, slots=True)
class Notification:
    """Something people should hear about: a rollout advanced, paused, rolled back."""

    kind: str  # "rollout.advanced", "rollout.paused", "rollout.rolled-back", ...
    project: str
    title: str  # one line
    text: str  # a few lines a person can act on
    at: datetime
    release: str | None = None
    flag: str | None = None
    environment: str | None = None
    severity: str = "info"  # info, warning, critical
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "project": self.project,
            "release": self.release,
            "flag": self.flag,
            "environment": self.environment,
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "at": self.at.isoformat(),
            "data": dict(self.data),
        }


class NotificationFailed(Exception):
    """A notifier could not deliver; the message says why (it is retried later)."""


class Notifier(Protocol):
    name: str

    def send(self, notification: Notification) -> None:
        """Deliver, or raise NotificationFailed."""
        ...


class RunnerLock(Protocol):
    """Makes one runner act among several server instances."""

    def acquire(self) -> bool:
        """Take or keep the lock without waiting; True while this holder has it."""
        ...

    def release(self) -> None: ...
