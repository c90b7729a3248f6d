"""Vercel drain deliveries: authenticated, read, and kept in one unit of work; and the
retention sweep that forgets old records.

A delivery is trusted only when ``x-vercel-signature`` is the hex HMAC-SHA1 of its raw
body under the drain's secret (``SHIPWISE_VERCEL_DRAIN_SECRET``), compared in constant
time before anything else is read. Deliveries are telemetry, not changes anybody made:
they are not audited (a busy site would drown the audit trail), and neither is the
sweep that forgets them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.server.ports.projects import ProjectStore
from shipwise.server.ports.store import Clocked, StoreOf
from shipwise.server.ports.vercel import VercelDrainStore
from shipwise.server.services._common import project_or_404
from shipwise.server.services.errors import (
    Forbidden,
    Invalid,
    ServiceError,
    WebhookNotConfigured,
)
from shipwise.server.services.vercel_drain_format import (
    MAX_ENVIRONMENT,
    MalformedDelivery,
    parse_delivery,
)
from shipwise.server.services.vercel_trace_format import is_protobuf

__all__ = [
    "DEFAULT_RETENTION",
    "DrainSummary",
    "VercelDrainSettings",
    "VercelDrains",
]

SECRET_VARIABLE = "SHIPWISE_VERCEL_DRAIN_SECRET"  # noqa: S105 - its name, not a secret
VERIFY_VARIABLE = "SHIPWISE_VERCEL_VERIFY"
RETENTION_VARIABLE = "SHIPWISE_VERCEL_RETENTION"
_ENVIRONMENT = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ENVIRONMENT}}}")

# Kept 30 days by default: a rollout step lasts about a week, and judging a release
# shipped by a revert compares it with the deploy before it, which may be weeks old.
# Longer only costs rows; shorter can leave "before" with nothing to read.
DEFAULT_RETENTION = timedelta(days=30)
# The sweep deletes this many rows per unit of work, so a large backlog never holds the
# write lock (SQLite's one writer) for long; at most this many units a call, so the
# runner's thread (rollout checks, rollbacks) never waits on a backlog of millions (a
# lowered retention): the next call carries on; and, once caught up, looks at most this
# often.
PRUNE_BATCH = 5_000
PRUNE_BATCHES = 20
PRUNE_EVERY = timedelta(minutes=10)


class VercelTx(ProjectStore, VercelDrainStore, Clocked, Protocol):
    """What a delivery and the sweep touch."""


class BadDelivery(ServiceError):
    """400: the body is not JSON; nothing was kept."""

    status = 400


class ProtobufDelivery(ServiceError):
    """415: a trace drain set to deliver protobuf; Shipwise reads OTLP's JSON only."""

    status = 415


@dataclass(frozen=True, slots=True)
class VercelDrainSettings:
    secret: str | None = None  # SHIPWISE_VERCEL_DRAIN_SECRET
    verify: str | None = None  # SHIPWISE_VERCEL_VERIFY: Vercel's endpoint verification
    retention: timedelta = DEFAULT_RETENTION  # SHIPWISE_VERCEL_RETENTION

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> VercelDrainSettings:
        return cls(
            secret=environ.get(SECRET_VARIABLE) or None,
            verify=environ.get(VERIFY_VARIABLE) or None,
            retention=parse_retention(environ.get(RETENTION_VARIABLE) or None),
        )


def parse_retention(value: str | None) -> timedelta:
    """``SHIPWISE_VERCEL_RETENTION``: days (``30`` or ``30d``) or hours (``72h``)."""
    if value is None:
        return DEFAULT_RETENTION
    text = value.strip().lower()
    unit = timedelta(hours=1) if text.endswith("h") else timedelta(days=1)
    try:
        amount = float(text.rstrip("dh"))
    except ValueError:
        amount = -1.0
    if not 0 < amount <= 3650:
        raise ValueError(
            f"{RETENTION_VARIABLE} must be a number of days (30 or 30d) or hours (72h), "
            f"got {value!r}"
        )
    return amount * unit


@dataclass(frozen=True, slots=True)
class DrainSummary:
    project: str
    stored: int
    skipped: int
    skipped_reasons: dict[str, int] = field(default_factory=dict)


def signature_of(secret: str, body: bytes) -> str:
    """Vercel's ``x-vercel-signature``: the hex HMAC-SHA1 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


class VercelDrains:
    def __init__(
        self,
        store: StoreOf[VercelTx],
        settings: VercelDrainSettings,
        *,
        prune_batch: int = PRUNE_BATCH,
        prune_batches: int = PRUNE_BATCHES,
    ) -> None:
        self._store = store
        self._settings = settings
        self._prune_batch = prune_batch
        self._prune_batches = prune_batches
        self._pruned_at: datetime | None = None

    @property
    def verify_token(self) -> str | None:
        return self._settings.verify

    def authenticate(self, body: bytes, signature: str | None) -> None:
        """Raise unless ``signature`` is the drain's signature of ``body``."""
        secret = self._settings.secret
        if secret is None:
            raise WebhookNotConfigured(
                f"Vercel drains are off: set {SECRET_VARIABLE} to the drain's signature "
                "secret and restart the server"
            )
        if not signature:
            raise Forbidden(
                "no x-vercel-signature header: only Vercel's signed drain deliveries are "
                "accepted here",
                field="x-vercel-signature",
            )
        expected = signature_of(secret, body)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise Forbidden(
                "x-vercel-signature does not match the body: the drain's secret in Vercel "
                f"is not the one in {SECRET_VARIABLE}",
                field="x-vercel-signature",
            )

    def check_content_type(self, content_type: str | None) -> None:
        """Raise for a protobuf trace delivery (OTLP/HTTP's other encoding), before its
        bytes are looked at as JSON."""
        if is_protobuf(content_type):
            raise ProtobufDelivery(
                f"{content_type} is OTLP's binary encoding, which Shipwise does not read: "
                "set the trace drain's delivery format to JSON in Vercel's drain settings; "
                "nothing was kept",
                field="content-type",
            )

    def receive(
        self, project_key: str, body: bytes, environment: str | None = None
    ) -> DrainSummary:
        """Keep the records of an authenticated delivery, all or none. ``environment``
        (the drain URL's ``?environment=``) is the Vercel environment of records that do
        not name theirs: trace spans carry one only when the app's OpenTelemetry setup
        writes it, and a drain set to one environment in Vercel can say it in its URL."""
        if environment is not None and not _ENVIRONMENT.fullmatch(environment):
            raise Invalid(
                "environment must be Vercel's environment name, e.g. production or preview "
                f"(letters, digits, - and _; at most {MAX_ENVIRONMENT} characters)",
                field="environment",
            )
        try:
            parsed = parse_delivery(body)
        except MalformedDelivery as problem:
            raise BadDelivery(f"{problem}; nothing was kept", field="body") from None
        records = parsed.records
        if environment is not None:
            records = [
                r if r.environment is not None else replace(r, environment=environment)
                for r in records
            ]
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            stored = tx.add_drain_records(project.id, records, tx.now())
        return DrainSummary(
            project=project.key,
            stored=stored,
            skipped=sum(parsed.skipped.values()),
            skipped_reasons=dict(parsed.skipped),
        )

    def sweep(self) -> int:
        """Forget records older than the retention, in at most ``prune_batches`` short
        units of work a call; once a call found no more, not again for ``PRUNE_EVERY`` of
        the store's clock (until then a backlog is carried on call by call). How many
        went."""
        with self._store.read() as tx:
            now = tx.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        before = now - self._settings.retention
        pruned = 0
        for _ in range(self._prune_batches):
            with self._store.transaction() as tx:
                gone = tx.prune_drain_records(before, limit=self._prune_batch)
            pruned += gone
            if gone < self._prune_batch:
                self._pruned_at = now  # caught up
                break
        return pruned
