"""What Vercel's drains deliver, kept for the guardrails that read it.

A drain delivery (``POST /webhooks/vercel/{project}``) becomes ``DrainRecord`` rows: a
Speed Insights web vital, a request from a log drain, or a Web Analytics custom event.
Each names the Vercel deployment it came from; ``VercelDeployment`` ties a deployment to
a commit Shipwise knows, so a release shipped by a revert can be judged before and after.
Rows are kept for a bounded time (``prune_drain_records``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

VITAL, REQUEST, EVENT = "vital", "request", "event"  # DrainRecord.kind
# A REQUEST's name: "request" from a log drain (a status, no duration: Vercel's log
# schema has none), "span" from a trace drain (a server span: its duration, and its
# status when the span carries one). Kept apart so one request drained both ways is
# never counted twice.
LOG_REQUEST, TRACE_SPAN = "request", "span"


@dataclass(frozen=True, slots=True)
class DrainRecord:
    kind: str  # VITAL, REQUEST or EVENT
    at: datetime  # when it happened, by Vercel's timestamp
    name: str  # vital: LCP, INP, CLS, TTFB, FCP; request: LOG_REQUEST or TRACE_SPAN; event
    value: float | None = None  # vital: its value (ms; CLS unitless); span: duration ms
    status: int | None = None  # request: the HTTP status answered
    route: str | None = None  # the route pattern (/blog/[slug]) or else the path
    deployment: str | None = None  # Vercel's deployment id (dpl_...)
    environment: str | None = None  # Vercel's: production, preview


@dataclass(frozen=True, slots=True)
class DrainQuery:
    """Which records a guardrail reads: one kind and name of one project, in a window."""

    project_id: int
    kind: str
    name: str
    since: datetime
    until: datetime
    route: str | None = None  # None: every route
    environment: str | None = None  # None: every Vercel environment
    deployments: tuple[str, ...] | None = None  # None: any deployment


@dataclass(frozen=True, slots=True)
class Moments:
    """Values' count, sum and sum of squares (a mean comparison's arm)."""

    count: int
    total: float
    total_sq: float


@dataclass(frozen=True, slots=True)
class VercelDeployment:
    project_id: int
    deployment: str  # dpl_...
    environment: str  # the Shipwise environment it serves
    commit: str
    at: datetime


class VercelDrainStore(Protocol):
    def add_drain_records(
        self, project_id: int, records: Sequence[DrainRecord], received_at: datetime
    ) -> int:
        """Keeps the records; returns how many."""
        ...

    def drain_percentile(self, query: DrainQuery, quantile: float) -> tuple[float | None, int]:
        """The ``quantile`` (0.75 for p75, nearest rank) of the matching records' values,
        and how many values there were; (None, 0) when there were none."""
        ...

    def drain_moments(self, query: DrainQuery) -> Moments: ...

    def drain_counts(self, query: DrainQuery) -> tuple[int, int]:
        """How many records match, and how many of them answered 5xx; for requests, of
        those that carry a status only (a span without one is no answer to count)."""
        ...

    def prune_drain_records(self, before: datetime, limit: int | None = None) -> int:
        """Forgets records that happened before ``before`` (at most ``limit``, the oldest
        first, so a sweep prunes a backlog in short transactions); returns how many."""
        ...

    def link_vercel_deployment(self, link: VercelDeployment) -> None: ...

    def vercel_deployments(
        self, project_id: int, environment: str, commit: str
    ) -> tuple[str, ...]: ...
