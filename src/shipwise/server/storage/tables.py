"""The database schema, as SQLAlchemy mapped classes. Alembic migrations (``migrations/``)
create and evolve it; these classes are what repositories read and write."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class ProjectRow(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime]


class EnvironmentRow(Base):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    branch: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]  # order in the pipeline, 0 first
    # Bumped in the same transaction as every change that alters this environment's
    # snapshot: the ETag, the stream's event id, the order of changes.
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    description: Mapped[str | None] = mapped_column(Text)
    constraints: Mapped[list[Any]]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]


class FlagRow(Base):
    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]]
    created_at: Mapped[datetime]
    archived: Mapped[bool] = mapped_column(default=False)


class FlagConfigRow(Base):
    """A flag's configuration in one environment, in the engine's model."""

    __tablename__ = "flag_configs"
    __table_args__ = (UniqueConstraint("flag_id", "environment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    strategies: Mapped[list[Any]]
    variants: Mapped[list[Any]]
    dependencies: Mapped[list[Any]]
    version: Mapped[int] = mapped_column(default=1)  # optimistic concurrency (If-Match)
    updated_at: Mapped[datetime]


class TokenRow(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE")
    )
    # sha256 of the secret: secrets are 32 random bytes, so a slow hash adds nothing.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists to tell tokens apart
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_project_target", "project", "target_type", "target_key"),
        Index("ix_audit_project_id", "project", "id"),  # a project's newest records
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    project: Mapped[str | None] = mapped_column(String(63))
    environment: Mapped[str | None] = mapped_column(String(63))
    target_type: Mapped[str] = mapped_column(String(32))
    target_key: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHeadRow(Base):
    """One row holding the newest audit hash. Every audited transaction updates it,
    which serialises appends to the chain across server instances."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class ExposureRow(Base):
    """One SDK batch's evaluations of one flag: how often on, off, and each variant."""

    __tablename__ = "exposures"
    __table_args__ = (Index("ix_exposures_environment_flag", "environment_id", "flag"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(200))
    app_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]
    yes: Mapped[int]
    no: Mapped[int]
    variants: Mapped[dict[str, Any]]


class ReleaseRow(Base):
    """One change moving through the pipeline (domain ``Release``)."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(200))
    authors: Mapped[list[Any]]
    flags: Mapped[list[Any]]
    commit: Mapped[str | None] = mapped_column(String(64))
    branch: Mapped[str | None] = mapped_column(String(200))
    rollback_plan: Mapped[str | None] = mapped_column(Text)
    communication_plan: Mapped[str | None] = mapped_column(Text)
    justification: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    content_version: Mapped[int] = mapped_column(default=1)
    labels: Mapped[list[Any]]
    created_at: Mapped[datetime]
    content_changed_at: Mapped[datetime]
    help_docs: Mapped[str | None] = mapped_column(String(2000))  # the help-docs page's URL


class PullRequestRow(Base):
    __tablename__ = "release_pull_requests"
    __table_args__ = (UniqueConstraint("release_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str | None] = mapped_column(String(500))
    head_branch: Mapped[str | None] = mapped_column(String(200))
    base_branch: Mapped[str | None] = mapped_column(String(200))
    merged: Mapped[bool] = mapped_column(default=False)
    merge_commit: Mapped[str | None] = mapped_column(String(64))


class EvidenceRow(Base):
    """An approval, checklist check, sign-off or rollback drill recorded for a release.
    One table: they share who, when, for which stage and for which content version."""

    __tablename__ = "release_evidence"
    __table_args__ = (Index("ix_release_evidence_release", "release_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # approval, check, signoff, drill
    stage: Mapped[str] = mapped_column(String(63))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    content_version: Mapped[int]
    data: Mapped[dict[str, Any]]  # kind-specific: roles, item, note, signoff kind, outcome


class CiResultRow(Base):
    """A CI verdict on a commit (GitHub status or check suite, or reported by CI)."""

    __tablename__ = "ci_results"
    __table_args__ = (Index("ix_ci_results_commit", "project_id", "commit"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    commit: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]  # when Shipwise recorded it (the gates order by this)
    # When the source says it happened (a GitHub delivery's payload); None when reported
    # through the API. GitHub deliveries are recorded only in this order (github_intake).
    event_at: Mapped[datetime | None]


class DeployRow(Base):
    __tablename__ = "deploys"
    __table_args__ = (Index("ix_deploys_commit", "project_id", "commit"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(63))
    commit: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(default=True)
    reported_by: Mapped[str] = mapped_column(String(200))
    event_at: Mapped[datetime | None]  # as for ci_results


class PolicyRow(Base):
    """The project's applied ``shipwise.toml`` (its history is in the audit log)."""

    __tablename__ = "policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]


# --- rollouts ---------------------------------------------------------------------------


class MetricDefinitionRow(Base):
    """A metric a project's guardrails may name, and where its numbers come from."""

    __tablename__ = "metric_definitions"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]]
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class RolloutPlanRow(Base):
    """A plan on one flag in one environment: its steps (``spec``) and where it stands.
    ``version`` goes up with every saved change, so a runner that read version N and
    finds N+1 under the row lock knows someone else already acted."""

    __tablename__ = "rollout_plans"
    __table_args__ = (
        Index("ix_rollout_plans_due", "next_check_at"),
        Index("ix_rollout_plans_flag", "flag_id", "environment_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id", ondelete="SET NULL"))
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    step: Mapped[int]
    started_at: Mapped[datetime]
    step_started_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    approved_step: Mapped[int | None]
    baking_since: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    notified: Mapped[list[Any]]
    judgements: Mapped[dict[str, Any]]
    next_check_at: Mapped[datetime | None]
    version: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class RolloutCheckRow(Base):
    """A plan's timeline: checks that decided something or saw a verdict change."""

    __tablename__ = "rollout_checks"
    __table_args__ = (Index("ix_rollout_checks_plan", "plan_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("rollout_plans.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    step: Mapped[int]
    decision: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    judgements: Mapped[dict[str, Any]]


class RolloutTemplateRow(Base):
    __tablename__ = "rollout_templates"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class TrackedEventRow(Base):
    """One SDK batch's events for one flag, arm and event name (like ``exposures``)."""

    __tablename__ = "tracked_events"
    __table_args__ = (
        Index("ix_tracked_events_lookup", "environment_id", "flag", "event", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(200))
    arm: Mapped[str] = mapped_column(String(8))
    event: Mapped[str] = mapped_column(String(200))
    app_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]
    count: Mapped[int]
    valued: Mapped[int]
    total: Mapped[float]
    total_sq: Mapped[float]


class PushedMetricRow(Base):
    """A counter pushed through the API: support tickets, user feedback, ..."""

    __tablename__ = "pushed_metrics"
    __table_args__ = (Index("ix_pushed_metrics_lookup", "project_id", "name", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str | None] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float]
    at: Mapped[datetime]


class OutboxRow(Base):
    """A notification to deliver, written in the same transaction as what it reports,
    so a crash between acting and telling loses nothing."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class RunnerLeaseRow(Base):
    """Who runs the rollout runner (SQLite; PostgreSQL uses an advisory lock)."""

    __tablename__ = "runner_leases"
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class GitHubDeliveryRow(Base):
    """A GitHub delivery a project received (``X-GitHub-Delivery``, and the digest of the
    signed body), kept for ``github_intake.DELIVERY_RETENTION`` so a repeat changes
    nothing; ``applied`` and ``skipped`` are what it did, for the answer to a repeat."""

    __tablename__ = "github_deliveries"
    __table_args__ = (
        UniqueConstraint("project_id", "delivery", name="uq_github_deliveries_delivery"),
        UniqueConstraint("project_id", "body_sha256", name="uq_github_deliveries_body"),
        Index("ix_github_deliveries_received", "project_id", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    delivery: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    applied: Mapped[list[Any]]
    skipped: Mapped[list[Any]]


class ChangeRequestRow(Base):
    """A proposed change to a flag (in one environment), a segment or the policy, with
    the target's version it was based on and its reviews (``domain.change_requests``)."""

    __tablename__ = "change_requests"
    __table_args__ = (
        Index("ix_change_requests_state", "project_id", "state"),
        Index("ix_change_requests_target", "project_id", "kind", "target", "environment"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(200))
    environment: Mapped[str | None] = mapped_column(String(63))
    base_version: Mapped[int]
    change: Mapped[dict[str, Any]]
    before: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    reviews: Mapped[list[Any]]
    closed_reason: Mapped[str | None] = mapped_column(Text)
    applied_version: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- the dashboard's sign-in ------------------------------------------------------------


class WebSessionRow(Base):
    """A dashboard session: the cookie holds a random id, this row its SHA-256 (like a
    token's), the personal token it acts as, and the CSRF secret its forms carry."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_token", "token_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SignInLinkRow(Base):
    """A one-time sign-in link an admin made for a person: the SHA-256 of its code, the
    personal token it signs in as, and when it was used (once)."""

    __tablename__ = "sign_in_links"
    __table_args__ = (Index("ix_sign_in_links_token", "token_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
