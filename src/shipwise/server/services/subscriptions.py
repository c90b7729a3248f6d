"""Which events go to which of a project's channels (subscriptions, as data), and the
routing ``Notifications.announce`` asks of them.

Admins and release managers add and remove subscriptions (``manage-channels``); anyone
on the project lists them. A channel with none of its own hears the process's defaults
(``domain.events.default_subscriptions``), listed with ``default`` set and no id: a rule
applied when a channel has none, not rows written with the channel, so a channel made
before 0011 (or before a default changes) follows the current defaults, and the first
subscription a person adds replaces them for that channel.

One event is one message per destination: ``dedupe_key`` names it by (release or plan,
event, step), and the store claims each key once per destination.

An email channel's subscription may be a daily digest (``digest``, at ``digest_at`` in
the policy's time zone): an event the channel hears only through digests is routed to
its digest (``Route.digest_at``); one that another of its subscriptions hears at once
goes at once, and not again in the digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.domain.digests import DEFAULT_AT, DigestKind, time_of_day
from shipwise.domain.events import (
    Event,
    EventSeverity,
    Subscription,
    checked_pattern,
    default_subscriptions,
    event_kind,
    heard,
    severity_of,
)
from shipwise.domain.events import dedupe_key as domain_dedupe_key
from shipwise.domain.releases import ChangeKind
from shipwise.server.ports import (
    AuditStore,
    ChannelRecord,
    ChannelStore,
    FlagStore,
    Notification,
    PolicySourceStore,
    Project,
    ProjectStore,
    ReleaseStore,
    StoreOf,
    SubscriptionRecord,
    SubscriptionStore,
)
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Invalid, NotFound
from shipwise.server.services.principal import Principal

MAX_PATTERNS = 30  # events or scope values in one subscription


class RoutingTx(
    SubscriptionStore, ChannelStore, ProjectStore, ReleaseStore, PolicySourceStore, Protocol
):
    """What routing reads: the project's channels, their subscriptions, the release, and
    the policy (its time zone says when a digest goes)."""


class SubscriptionTx(
    SubscriptionStore, ChannelStore, ProjectStore, FlagStore, AuditStore, Protocol
):
    """Subscriptions, the channels and project they belong to, and the audit record."""


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int | None  # None: a default (the channel has no subscription of its own)
    project: str
    channel: str
    channel_id: int
    events: tuple[str, ...]
    environments: tuple[str, ...]
    flags: tuple[str, ...]
    release_kinds: tuple[str, ...]
    min_severity: str
    default: bool
    created_by: str | None
    created_at: datetime | None
    digest: str | None = None  # "daily"; None: each event at once
    digest_at: str | None = None  # HH:MM in the policy's time zone


@dataclass(frozen=True, slots=True)
class Route:
    """A channel that hears an event, and how: at once (``digest_at`` None) or in its
    daily digest at that time of day."""

    channel: ChannelRecord
    digest_at: str | None = None


class SubscriptionService:
    def __init__(self, store: StoreOf[SubscriptionTx]) -> None:
        self._store = store

    def list(
        self, principal: Principal, project_key: str, channel: str | None = None
    ) -> list[SubscriptionView]:
        """Each channel's subscriptions, or the defaults it hears when it has none."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            channels = tx.list_channels(project.id)
            if channel is not None:
                channels = [_find_channel(channels, project, channel)]
            production = _production(tx, project)
            rows = tx.list_subscriptions(project.id)
            views: list[SubscriptionView] = []
            for record in channels:
                own = [_own(project, record, row) for row in rows if row.channel_id == record.id]
                views.extend(own or _defaults(project, record, production))
            return views

    def create(
        self,
        principal: Principal,
        project_key: str,
        channel: str,
        events: Sequence[str],
        *,
        environments: Sequence[str] = (),
        flags: Sequence[str] = (),
        release_kinds: Sequence[str] = (),
        min_severity: str = "info",
        digest: str | None = None,
        digest_at: str | None = None,
    ) -> SubscriptionView:
        patterns = _patterns(events)
        digest, digest_at = _digest(digest, digest_at)
        kinds = _release_kinds(release_kinds)
        try:
            severity = EventSeverity.named(min_severity)
        except ValueError as error:
            raise Invalid(str(error), field="min_severity") from None
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            record = _find_channel(tx.list_channels(project.id), project, channel)
            if digest is not None and record.kind != "email":
                raise Invalid(
                    f"only an email channel takes a digest; {record.name!r} is a "
                    f"{record.kind} channel: subscribe it without --digest",
                    field="digest",
                )
            envs = _known(
                environments, {e.key for e in tx.list_environments(project.id)}, "environments"
            )
            known_flags = _known(flags, {f.key for f in tx.list_flags(project.id)}, "flags")
            row = tx.add_subscription(
                project_id=project.id,
                channel_id=record.id,
                events=patterns,
                environments=envs,
                flags=known_flags,
                release_kinds=kinds,
                min_severity=severity.label,
                created_by=principal.actor,
                digest=digest,
                digest_at=digest_at,
            )
            view = _own(project, record, row)
            audit(
                tx,
                principal,
                "subscription.create",
                "channel",
                record.name,
                project=project.key,
                after=_described(view),
            )
            return view

    def remove(
        self, principal: Principal, project_key: str, subscription_id: int
    ) -> SubscriptionView:
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            channels = {c.id: c for c in tx.list_channels(project.id)}
            for row in tx.list_subscriptions(project.id):
                if row.id == subscription_id and row.channel_id in channels:
                    tx.remove_subscription(row.id)
                    view = _own(project, channels[row.channel_id], row)
                    audit(
                        tx,
                        principal,
                        "subscription.remove",
                        "channel",
                        view.channel,
                        project=project.key,
                        before=_described(view),
                    )
                    return view
            raise NotFound(
                f"no subscription {subscription_id} in project {project.key!r}; "
                "`shipwise channel subscriptions` lists them"
            )


# -- routing (``Notifications.announce``) -----------------------------------------------


def listeners(tx: RoutingTx, project: Project, notification: Notification) -> list[Route]:
    """The project's channels whose subscriptions (or defaults) hear ``notification``,
    each at once or, when only its digest subscriptions hear it, in its digest (the
    first of them, by id, says when)."""
    channels = tx.list_channels(project.id)
    if not channels:
        return []
    rows = tx.list_subscriptions(project.id)
    event = _event(tx, project, notification)
    production = _production(tx, project)
    heard_by = []
    for record in channels:
        own = [row for row in rows if row.channel_id == record.id]
        if not own:
            if heard(default_subscriptions(record.kind, production), event):
                heard_by.append(Route(record))
            continue
        hearing = [row for row in own if heard([_subscription(row)], event)]
        if any(row.digest is None for row in hearing):
            heard_by.append(Route(record))
        elif hearing:
            heard_by.append(Route(record, hearing[0].digest_at or DEFAULT_AT))
    return heard_by


def dedupe_key(notification: Notification) -> str | None:
    """The key of the event ``notification`` reports, or None when it cannot be told
    from another of its kind (it is then never deduplicated). An emitter may name the
    occurrence itself with ``data["event_key"]``."""
    data = notification.data
    step = data.get("step")
    kind = event_kind(notification.kind, step)
    given = data.get("event_key")
    if isinstance(given, str) and given:
        return f"{kind}|{given}"
    plan = data.get("plan")
    if kind.startswith("rollout.") and plan is not None:
        if step is None:
            return None  # a rollout event is told apart by its step
        subject: str | None = f"plan-{plan}"
    elif notification.release is not None:
        subject = notification.release
        step = data.get("refused_by", step)  # a refusal: by which gates
        if isinstance(step, list):
            step = ",".join(sorted(str(gate) for gate in step))
    elif data.get("change_request") is not None:
        subject = f"change-{data['change_request']}"
    else:
        return None
    return domain_dedupe_key(
        kind,
        subject=f"{notification.project}/{subject}",
        environment=notification.environment,
        step=step,
        occurrence=notification.at.isoformat(),
    )


def _event(tx: RoutingTx, project: Project, notification: Notification) -> Event:
    kind = event_kind(notification.kind, notification.data.get("step"))
    flags = {notification.flag} if notification.flag else set()
    release_kind = None
    if notification.release is not None:
        release = tx.get_release(project.id, notification.release)
        if release is not None:
            release_kind = release.kind.value
            flags.update(release.flags)
    return Event(
        kind,
        severity_of(kind, notification.severity),
        notification.environment,
        frozenset(flags),
        release_kind,
    )


def _production(tx: ProjectStore, project: Project) -> str | None:
    """The pipeline's last environment: where "production" is, whatever its name."""
    environments = tx.list_environments(project.id)
    return max(environments, key=lambda e: e.position).key if environments else None


def _subscription(row: SubscriptionRecord) -> Subscription:
    return Subscription(
        row.events,
        frozenset(row.environments),
        frozenset(row.flags),
        frozenset(row.release_kinds),
        EventSeverity.named(row.min_severity),
    )


def _own(project: Project, channel: ChannelRecord, row: SubscriptionRecord) -> SubscriptionView:
    return SubscriptionView(
        row.id,
        project.key,
        channel.name,
        channel.id,
        row.events,
        row.environments,
        row.flags,
        row.release_kinds,
        row.min_severity,
        False,
        row.created_by,
        row.created_at,
        row.digest,
        row.digest_at,
    )


def _defaults(
    project: Project, channel: ChannelRecord, production: str | None
) -> list[SubscriptionView]:
    return [
        SubscriptionView(
            None,
            project.key,
            channel.name,
            channel.id,
            rule.events,
            tuple(sorted(rule.environments)),
            tuple(sorted(rule.flags)),
            tuple(sorted(rule.release_kinds)),
            rule.min_severity.label,
            True,
            None,
            None,
        )
        for rule in default_subscriptions(channel.kind, production)
    ]


def _described(view: SubscriptionView) -> dict[str, object]:
    return {
        "id": view.id,
        "events": list(view.events),
        "environments": list(view.environments),
        "flags": list(view.flags),
        "release_kinds": list(view.release_kinds),
        "min_severity": view.min_severity,
        "digest": view.digest,
        "digest_at": view.digest_at,
    }


def _find_channel(
    channels: Sequence[ChannelRecord], project: Project, channel: str
) -> ChannelRecord:
    """By id (digits) or by name."""
    for record in channels:
        if str(record.id) == channel or record.name == channel:
            return record
    raise NotFound(
        f"no channel {channel!r} in project {project.key!r}; `shipwise channel list` shows them"
    )


def _patterns(events: Sequence[str]) -> tuple[str, ...]:
    if not events:
        raise Invalid("a subscription needs at least one event (or `*`)", field="events")
    if len(events) > MAX_PATTERNS:
        raise Invalid(f"at most {MAX_PATTERNS} events in one subscription", field="events")
    try:
        return tuple(dict.fromkeys(checked_pattern(e) for e in events))
    except ValueError as error:
        raise Invalid(str(error), field="events") from None


def _digest(digest: str | None, at: str | None) -> tuple[str | None, str | None]:
    """The digest and its time of day (09:00 unless given), checked; a time without a
    digest is refused rather than ignored."""
    if digest is None:
        if at is not None:
            raise Invalid("a time of day is for a digest: add --digest daily", field="digest_at")
        return None, None
    try:
        kind = DigestKind.named(digest)
    except ValueError as error:
        raise Invalid(str(error), field="digest") from None
    try:
        when = time_of_day(at if at is not None else DEFAULT_AT)
    except ValueError as error:
        raise Invalid(str(error), field="digest_at") from None
    return kind.value, when.strftime("%H:%M")


def _release_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    known = {k.value for k in ChangeKind}
    for kind in kinds:
        if kind not in known:
            raise Invalid(
                f"unknown release kind {kind!r}; one of {', '.join(sorted(known))}",
                field="release_kinds",
            )
    return tuple(dict.fromkeys(kinds))


def _known(values: Sequence[str], known: set[str], field: str) -> tuple[str, ...]:
    """``values`` when the project has each, else a 422 naming the first it has not."""
    if len(values) > MAX_PATTERNS:
        raise Invalid(f"at most {MAX_PATTERNS} {field} in one subscription", field=field)
    for value in values:
        if value not in known:
            choices = ", ".join(sorted(known)) or "(none)"
            raise Invalid(
                f"the project has no {field.removesuffix('s')} {value!r}; one of {choices}",
                field=field,
            )
    return tuple(dict.fromkeys(values))
