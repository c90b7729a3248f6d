"""The memory store's tables: plain dicts and lists, copied whole when a unit of work
begins (so a failed one leaves nothing) and kept when it ends well."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shipwise.domain.announcements import Announcement
from shipwise.domain.audit import GENESIS
from shipwise.domain.change_requests import ChangeRequest
from shipwise.domain.release_notes import EntryEdit
from shipwise.domain.releases import Release
from shipwise.server.ports.audit import AuditRecord
from shipwise.server.ports.calendar_feeds import CalendarFeedRecord
from shipwise.server.ports.channels import ChannelRecord
from shipwise.server.ports.deliveries import GitHubDelivery
from shipwise.server.ports.flags import FlagConfig, FlagRecord
from shipwise.server.ports.learnings import StoredLearnings
from shipwise.server.ports.mailout import MailoutRecord, RecipientSend
from shipwise.server.ports.metrics import MetricDefinition
from shipwise.server.ports.projects import Environment, Project
from shipwise.server.ports.release_notes import StoredNotes
from shipwise.server.ports.segments import SegmentRecord
from shipwise.server.ports.sessions import SignInLinkRecord, WebSessionRecord
from shipwise.server.ports.subscriptions import SubscriptionRecord
from shipwise.server.ports.tokens import TokenRecord
from shipwise.server.ports.vercel import DrainRecord, VercelDeployment


def utc(moment: datetime) -> datetime:
    """What the SQL store hands back: every moment in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def as_json(value: Any) -> Any:
    """A JSON column's round trip: what cannot be stored as JSON fails here, as it does
    in the database, and what comes back shares nothing with what went in."""
    return json.loads(json.dumps(value))


@dataclass
class PlanRow:
    project_id: int
    flag_id: int
    environment_id: int
    release_id: int | None
    spec: dict[str, Any]  # as the SQL store keeps it: ``plan_to_dict``'s JSON
    state: Any  # a ``PlanState`` (frozen)
    next_check_at: datetime | None
    judgements: dict[str, Any]
    version: int
    created_by: str
    created_at: datetime


@dataclass
class OutboxRow:
    channel: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None  # set by ``enqueue``


@dataclass
class Tables:
    """Rows by id, in id order (dicts keep insertion order); ``ids`` numbers each table."""

    ids: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    projects: dict[int, Project] = field(default_factory=dict)
    environments: dict[int, Environment] = field(default_factory=dict)
    flags: dict[int, FlagRecord] = field(default_factory=dict)
    configs: dict[tuple[int, int], FlagConfig] = field(default_factory=dict)
    segments: dict[int, SegmentRecord] = field(default_factory=dict)
    tokens: dict[int, tuple[TokenRecord, str]] = field(default_factory=dict)  # and its hash
    audit: list[AuditRecord] = field(default_factory=list)
    chain_head: str = GENESIS  # the first migration's head row
    # (environment id, flag, app, received at, yes, no, variants)
    exposures: list[tuple[int, str, str | None, datetime, int, int, dict[str, int]]] = field(
        default_factory=list
    )
    releases: dict[int, tuple[int, Release]] = field(default_factory=dict)  # project id, release
    # (id, release id, kind, stage, actor, at, content version, data)
    evidence: list[tuple[int, str, str, str, datetime, int, dict[str, Any]]] = field(
        default_factory=list
    )
    # (project id, commit, context, state, at, event at)
    ci_results: list[tuple[int, str, str, str, datetime, datetime | None]] = field(
        default_factory=list
    )
    # (project id, environment, commit, succeeded, at, event at)
    deploys: list[tuple[int, str, str, bool, datetime, datetime | None]] = field(
        default_factory=list
    )
    policies: dict[int, tuple[str, int]] = field(default_factory=dict)  # source, version
    plans: dict[int, PlanRow] = field(default_factory=dict)
    checks: list[Any] = field(default_factory=list)  # ``RolloutCheck``s, in id order
    templates: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    metrics: dict[tuple[int, str], MetricDefinition] = field(default_factory=dict)
    # (environment id, flag, arm, event, received at, count, valued, total, total_sq)
    tracked: list[tuple[int, str, str, str, datetime, int, int, float, float]] = field(
        default_factory=list
    )
    # (project id, environment, name, value, at)
    pushed: list[tuple[int, str | None, str, float, datetime]] = field(default_factory=list)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    deliveries: dict[int, tuple[int, GitHubDelivery]] = field(default_factory=dict)
    change_requests: dict[int, tuple[int, ChangeRequest]] = field(default_factory=dict)
    # each with the hash of its secret, as tokens
    web_sessions: dict[int, tuple[WebSessionRecord, str]] = field(default_factory=dict)
    sign_in_links: dict[int, tuple[SignInLinkRecord, str]] = field(default_factory=dict)
    repositories: dict[int, str] = field(default_factory=dict)  # project id → path or URL
    release_notes: dict[int, StoredNotes] = field(default_factory=dict)  # by release id
    note_edits: dict[tuple[int, str], EntryEdit] = field(default_factory=dict)  # (release, key)
    channels: dict[int, ChannelRecord] = field(default_factory=dict)
    channel_threads: dict[tuple[int, str], str] = field(default_factory=dict)  # (channel, key)
    subscriptions: dict[int, SubscriptionRecord] = field(default_factory=dict)
    dedupe: set[tuple[str, str]] = field(default_factory=set)  # (destination, key)
    mailouts: dict[int, MailoutRecord] = field(default_factory=dict)  # email announcements
    # each announcement's recipients with a row, by address, in claim order
    mailout_sends: dict[int, dict[str, RecipientSend]] = field(default_factory=dict)
    # each with the hash of its token, as tokens
    calendar_feeds: dict[int, tuple[CalendarFeedRecord, str]] = field(default_factory=dict)
    # in-app announcements by id, with their (project, release, environment) ids
    announcements: dict[int, tuple[int, int, int, Announcement]] = field(default_factory=dict)
    dismissals: dict[tuple[int, str], datetime] = field(default_factory=dict)  # (id, user)
    learnings: dict[int, StoredLearnings] = field(default_factory=dict)  # by release id
    # (project id, record, received at), in arrival order
    drain_records: list[tuple[int, DrainRecord, datetime]] = field(default_factory=list)
    vercel_deployments: dict[tuple[int, str], VercelDeployment] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]
