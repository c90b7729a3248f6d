"""What people can hear about, as data: every stable event kind, its default severity,
which subscriptions an event matches, and the key that makes one event one message.

A *subscription* says which events a channel hears: kinds (exact, a family like
``rollout.*``, or ``*``) and an optional scope: environments, flags, release kinds and a
minimum severity. The model of Argo CD notifications' triggers and subscriptions, kept
as data. A scope is a requirement: a subscription scoped to ``production`` hears only
events that happened in ``production`` (a release created, which is in no environment,
is not one of them).

A channel with no subscription of its own hears the process's defaults
(``default_subscriptions``): a rule, not rows, so a channel made before a default
changed follows the new one, and the first subscription a person adds replaces them.

Pure: no I/O; the service resolves what it needs (the production environment, a
release's kind and flags) and passes it in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class EventKind(StrEnum):
    """Stable names: channels, subscriptions and webhook consumers key on them."""

    RELEASE_CREATED = "release.created"
    REVIEW_REQUESTED = "review.requested"
    SIGNOFF_REQUESTED = "signoff.requested"
    RELEASE_APPROVED = "release.approved"
    PROMOTION_REFUSED = "promotion.refused"
    PROMOTION_DONE = "promotion.done"
    HOTFIX_STARTED = "hotfix.started"
    RELEASE_UPCOMING = "release.upcoming"
    RELEASE_ROLLED_BACK = "release.rolled_back"  # by a person, the whole release
    ROLLOUT_STARTED = "rollout.started"
    ROLLOUT_STEP_ADVANCED = "rollout.step_advanced"
    ROLLOUT_PAUSED = "rollout.paused"
    ROLLOUT_WAITING = "rollout.waiting"  # for a person: an approval, an inconclusive verdict
    ROLLOUT_ROLLED_BACK = "rollout.rolled_back"  # by the runner, on a guardrail
    ROLLOUT_RELEASED = "rollout.released"
    RELEASE_REPORT = "release.report"  # after: the success report of a released plan
    LEARNINGS_REQUESTED = "learnings.requested"  # after: the release asks for its learnings
    DRILL_DONE = "drill.done"
    FIX_DUE_SOON = "fix.due_soon"
    FIX_OVERDUE = "fix.overdue"
    DELIVERY_FAILING = "delivery.failing"


class EventSeverity(IntEnum):
    """Ordered, so a subscription can ask for "at least warning"."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @classmethod
    def named(cls, name: str) -> EventSeverity:
        """``ValueError`` naming the choices for an unknown name."""
        try:
            return cls[name.upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {name!r}; one of {choices}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


DEFAULT_SEVERITY: Mapping[EventKind, EventSeverity] = {
    EventKind.RELEASE_CREATED: EventSeverity.INFO,
    EventKind.REVIEW_REQUESTED: EventSeverity.INFO,
    EventKind.SIGNOFF_REQUESTED: EventSeverity.INFO,
    EventKind.RELEASE_APPROVED: EventSeverity.INFO,
    EventKind.PROMOTION_REFUSED: EventSeverity.WARNING,
    EventKind.PROMOTION_DONE: EventSeverity.INFO,
    EventKind.HOTFIX_STARTED: EventSeverity.CRITICAL,
    EventKind.RELEASE_UPCOMING: EventSeverity.INFO,
    EventKind.RELEASE_ROLLED_BACK: EventSeverity.CRITICAL,
    EventKind.ROLLOUT_STARTED: EventSeverity.INFO,
    EventKind.ROLLOUT_STEP_ADVANCED: EventSeverity.INFO,
    EventKind.ROLLOUT_PAUSED: EventSeverity.WARNING,
    EventKind.ROLLOUT_WAITING: EventSeverity.WARNING,
    EventKind.ROLLOUT_ROLLED_BACK: EventSeverity.CRITICAL,
    EventKind.ROLLOUT_RELEASED: EventSeverity.INFO,
    EventKind.RELEASE_REPORT: EventSeverity.INFO,
    EventKind.LEARNINGS_REQUESTED: EventSeverity.INFO,
    EventKind.DRILL_DONE: EventSeverity.INFO,
    EventKind.FIX_DUE_SOON: EventSeverity.WARNING,
    EventKind.FIX_OVERDUE: EventSeverity.CRITICAL,
    EventKind.DELIVERY_FAILING: EventSeverity.WARNING,
}

FAMILIES = frozenset(kind.value.split(".")[0] for kind in EventKind)

# Notification kinds written before the stable names, as the rollout runner and the
# services still write them (webhook consumers see those): what each one is.
LEGACY_KINDS: Mapping[str, EventKind] = {
    "rollout.advance": EventKind.ROLLOUT_STEP_ADVANCED,
    "rollout.bake": EventKind.ROLLOUT_STEP_ADVANCED,  # reached 100%: the bake step
    "rollout.pause": EventKind.ROLLOUT_PAUSED,
    "rollout.wait-for-approval": EventKind.ROLLOUT_WAITING,
    "rollout.rollback": EventKind.ROLLOUT_ROLLED_BACK,
    "rollout.release": EventKind.ROLLOUT_RELEASED,
    "release.hotfix": EventKind.HOTFIX_STARTED,
    "release.rolled-back": EventKind.RELEASE_ROLLED_BACK,
    "change-request.opened": EventKind.REVIEW_REQUESTED,
}

# Kinds that may rightly happen again for the same release and step (paused, resumed,
# paused again; a second guardrail reported at the same step): their key also carries
# the moment, so only a repeat of the very same occurrence is dropped. ``rollout.notify``
# (a notify-only guardrail's report) has no stable name yet: ``rollout.*`` hears it.
RECURRING: frozenset[str] = frozenset(
    {EventKind.ROLLOUT_PAUSED.value, EventKind.ROLLOUT_WAITING.value, "rollout.notify"}
)


def event_kind(kind: str, step: object = None) -> str:
    """The stable kind of a notification written as ``kind``: itself when stable, its
    stable name when written the old way, else ``kind`` unchanged (heard only by a
    ``*`` subscription). A rollout's first step is only ever reached by its start."""
    if kind in ("rollout.advance", "rollout.bake") and step == 1:
        return EventKind.ROLLOUT_STARTED.value
    known = LEGACY_KINDS.get(kind)
    return known.value if known is not None else kind


def severity_of(kind: str, given: str | None) -> EventSeverity:
    """The notification's own severity when it names one, else its kind's default."""
    if given:
        try:
            return EventSeverity.named(given)
        except ValueError:
            pass  # an emitter's typo must not make an event unroutable
    try:
        return DEFAULT_SEVERITY[EventKind(kind)]
    except ValueError:
        return EventSeverity.INFO


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, as subscriptions see it."""

    kind: str  # a stable ``EventKind`` value, or an unmapped kind
    severity: EventSeverity
    environment: str | None = None
    flags: frozenset[str] = frozenset()
    release_kind: str | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """Which events a channel hears; an empty scope means "any"."""

    events: tuple[str, ...]
    environments: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    release_kinds: frozenset[str] = frozenset()
    min_severity: EventSeverity = EventSeverity.INFO


def kind_matches(pattern: str, kind: str) -> bool:
    if pattern in ("*", kind):
        return True
    return pattern.endswith(".*") and kind.startswith(pattern[:-1])


def matches(subscription: Subscription, event: Event) -> bool:
    if not any(kind_matches(p, event.kind) for p in subscription.events):
        return False
    if event.severity < subscription.min_severity:
        return False
    if subscription.environments and event.environment not in subscription.environments:
        return False
    if subscription.flags and not subscription.flags & event.flags:
        return False
    return not subscription.release_kinds or event.release_kind in subscription.release_kinds


def heard(subscriptions: Iterable[Subscription], event: Event) -> bool:
    """Whether a channel with ``subscriptions`` hears ``event``."""
    return any(matches(s, event) for s in subscriptions)


_PATTERN = re.compile(r"^(\*|[a-z]+\.(\*|[a-z_]+))$")


def checked_pattern(pattern: str) -> str:
    """An event pattern a subscription may hold, or ``ValueError`` saying which are."""
    text = pattern.strip()
    known = {k.value for k in EventKind}
    if text in known or text == "*":
        return text
    if _PATTERN.match(text) and text.endswith(".*") and text[:-2] in FAMILIES:
        return text
    families = ", ".join(f"{f}.*" for f in sorted(FAMILIES))
    raise ValueError(
        f"unknown event {pattern!r}; an event kind ({', '.join(sorted(known))}), "
        f"a family ({families}) or *"
    )


def default_subscriptions(channel_kind: str, production: str | None) -> tuple[Subscription, ...]:
    """What a channel with no subscription of its own hears, as the process says.

    A team channel (Slack, webhook, log): promotions to production, hotfixes, the
    upcoming production release, every rollout decision and every rollback, the success
    report and the request for learnings, and a delivery that keeps failing. An email
    channel (the release managers' inbox): critical hotfixes and the runner's automatic
    rollbacks only."""
    if channel_kind == "sentry-flags":
        return ()  # it hears flag changes, queued for it alone (services/flag_news.py)
    if channel_kind == "email":
        return (
            Subscription((EventKind.HOTFIX_STARTED.value,), min_severity=EventSeverity.CRITICAL),
            Subscription((EventKind.ROLLOUT_ROLLED_BACK.value,)),
        )
    in_production = frozenset({production}) if production is not None else frozenset()
    return (
        Subscription(
            (EventKind.PROMOTION_DONE.value, EventKind.RELEASE_UPCOMING.value),
            environments=in_production,
        ),
        Subscription(
            (
                "rollout.*",
                EventKind.HOTFIX_STARTED.value,
                EventKind.RELEASE_ROLLED_BACK.value,
                EventKind.RELEASE_REPORT.value,
                EventKind.LEARNINGS_REQUESTED.value,
                EventKind.DELIVERY_FAILING.value,
            )
        ),
    )


def dedupe_key(
    kind: str,
    *,
    subject: str | None,
    environment: str | None = None,
    step: object = None,
    occurrence: str | None = None,
) -> str:
    """One event, one message: the key of (release or plan, event, step). ``subject``
    names what it is about (``rel-12``, ``plan-7``); ``environment`` and ``step`` where
    it stands (a promotion's target, a rollout's step, a refusal's gates). A
    ``RECURRING`` kind adds ``occurrence`` (when it happened)."""
    parts = [kind, subject or "-", environment or "-", "-" if step is None else str(step)]
    if kind in RECURRING and occurrence is not None:
        parts.append(occurrence)
    return "|".join(parts)
