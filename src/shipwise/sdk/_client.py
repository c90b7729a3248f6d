"""The Python SDK client: evaluates flags in-process from a compiled snapshot.

Offline, the snapshot is given once (``Client.offline``, ``Client.from_unleash``).
Online, ``Client(url, sdk_key)`` starts from its disk cache when it has one, and two
daemon threads keep the snapshot current (stream, else ETag polling) and send exposure
counts in batches (``_online``). A new snapshot replaces the old in one reference swap.

Evaluation never raises and never waits on the network or a lock: an unknown flag, an
odd context or a broken rule gives the default (and ``explain`` gives the reason).
Every ``is_enabled`` and ``get_variant`` counts an exposure. ``track`` counts an event
against the user's arm of each flag in a percentage rollout (``_events``), sent in
batches like the exposures.

Until an online client has its first snapshot (from the server, its disk cache or a
bootstrap), it is not ready: every flag gives the caller's default, ``explain`` says
"not ready", and nothing counts, neither exposures nor tracked events. Those users were
served the default whatever their arm, so counting them as "off" would skew the
comparison a guarded rollout makes between its arms. The not-ready state is an object,
not a test: ``_entries`` starts as ``_NOT_READY``, which hands every name one entry that
fails its evaluation (so the default comes back, as for any failed evaluation) and
counts nothing; the first snapshot replaces it in the same reference swap as any later
one. The ready path carries no readiness check at all, and an evaluation sees either
"not ready" or a whole snapshot, never a mix.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from shipwise.engine import Explanation, FlagState, Reason, Snapshot, SnapshotError, Variant
from shipwise.engine.context import EMPTY_CONTEXT, Context
from shipwise.engine.variants import DISABLED
from shipwise.sdk._announcements import NO_ANNOUNCEMENTS, Announcement, AnnouncementBook
from shipwise.sdk._entries import _NOT_READY, _Entry, _not_ready
from shipwise.sdk._events import (
    MAX_FLAGS_PER_EVENT,
    Arm,
    Attribution,
    EventBook,
    attributions,
    invalid_event,
)
from shipwise.sdk._exposures import FlagCounters, FlagExposure, UnknownFlags, combine
from shipwise.sdk._sentry import Record, recorder

if TYPE_CHECKING:
    from shipwise.sdk._events import EventSender
    from shipwise.sdk._online import Online

log = logging.getLogger("shipwise.sdk")

# Called with (previous, new) from the sync thread after each new snapshot is installed.
Listener = Callable[[Snapshot, Snapshot], None]

Source = Mapping[str, Any] | str | PathLike[str]


def _read_json(source: Source) -> Any:
    if isinstance(source, Mapping):
        return source
    text = Path(source).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError as error:
        raise SnapshotError(str(source), "", f"is not valid JSON: {error}") from None


class Client:
    """Evaluate flags locally, from a snapshot kept current by the server.

        client = Client("https://flags.example.com", "sw_srv_…", cache_path="flags.json")
        client.wait_until_ready(5)
        client.is_enabled("new-checkout", {"userId": "42"})
        client.close()  # sends the last exposure counts; or use ``with Client(...)``

    Online, the client starts from ``cache_path`` if that holds a usable snapshot, else
    from ``snapshot`` (a bootstrap), else not ready until the server answers: every flag
    gives its default, ``explain`` says "not ready: no snapshot yet", and nothing is
    counted (``wait_until_ready``, ``is_ready``). It streams changes, falling back to
    polling every ``refresh_interval`` seconds while the stream is down (``stream=False``:
    poll only), and sends exposure counts and tracked events every ``metrics_interval``
    seconds (None: never).
    ``timeout`` bounds each request. ``sentry=True`` records each evaluation in
    ``sentry_sdk``'s feature-flag context (``shipwise.sdk._sentry``; off by default).
    Misconfiguration raises ``ValueError`` here; the
    network never raises into the application, it is logged to ``shipwise.sdk``.

    ``Client.offline(path)`` and ``Client.from_unleash(path)`` need no server.
    """

    def __init__(
        self,
        url: str | None = None,
        sdk_key: str | None = None,
        *,
        snapshot: Snapshot | None = None,
        app_name: str | None = None,
        cache_path: str | PathLike[str] | None = None,
        refresh_interval: float = 15.0,
        metrics_interval: float | None = 30.0,
        stream: bool = True,
        timeout: float = 10.0,
        sentry: bool = False,
    ) -> None:
        # Before any snapshot is installed: its entries record in Sentry (``_sentry``).
        self._record: Record | None = recorder() if sentry else None
        self._lock = threading.Lock()  # guards snapshot replacement, never evaluation
        self._counters: dict[str, FlagCounters] = {}
        self._unknown = UnknownFlags()
        self._entries: dict[str, _Entry] = _NOT_READY
        self._listeners: list[Listener] = []
        self._ready = threading.Event()
        self._online: Online | None = None
        self._events = EventBook()
        self._attributed: tuple[Attribution, ...] = ()
        self._event_sender: EventSender | None = None
        self._key_rejection: str | None = None
        self._announcements = NO_ANNOUNCEMENTS  # online: replaced by a book below
        if isinstance(url, Snapshot):
            raise TypeError("pass a snapshot by name: Client(snapshot=...)")
        if url is None:
            if snapshot is None:
                raise TypeError(
                    "Client() needs a server: Client(url, sdk_key); or flags without one: "
                    "Client.offline(path), Client.from_unleash(path), Client(snapshot=...)"
                )
            if sdk_key is not None or cache_path is not None:
                raise TypeError("sdk_key and cache_path need the server's url: Client(url, ...)")
            self._install(snapshot)
            self._ready.set()
            return
        # Imported here, not above: httpx imports rich, click and pygments when they are
        # installed, and neither `import shipwise` nor an offline client should pay for it.
        from shipwise.sdk._events import connect  # noqa: PLC0415
        from shipwise.sdk._online import Online, Settings  # noqa: PLC0415

        settings = Settings(
            url=url,
            sdk_key=sdk_key or "",  # Settings says what is missing
            app_name=app_name,
            cache_path=cache_path,
            refresh_interval=refresh_interval,
            metrics_interval=metrics_interval,
            stream=stream,
            timeout=timeout,
        )
        online = Online(settings, self._replace, self.exposures, self._key_refused)
        start = online.cached() or snapshot
        self._snapshot = Snapshot(FlagState())  # no flags: until ``_entries`` is a snapshot's
        if start is not None:
            self._install(start)
            self._ready.set()
        self._online = online
        self._announcements = AnnouncementBook(settings)
        self._event_sender = connect(settings, self._events)
        online.start()
        if self._event_sender is not None:
            self._event_sender.start()

    # -- construction ---------------------------------------------------------------

    @classmethod
    def offline(cls, source: Source, *, sentry: bool = False) -> Client:
        """A client over a Shipwise snapshot (a dict, or the path of a JSON file).

        Raises ``SnapshotError`` naming the flag and field if the snapshot is malformed.
        """
        return cls(snapshot=Snapshot.load(_read_json(source)), sentry=sentry)

    @classmethod
    def from_unleash(cls, state: Source, *, sentry: bool = False) -> Client:
        """A client over an Unleash client-API state: a features document (with optional
        segments) or delta events, as a dict or the path of a JSON file."""
        return cls(snapshot=Snapshot.from_unleash(_read_json(state)), sentry=sentry)

    def _install(self, snapshot: Snapshot) -> None:
        with self._lock:
            entries = {}
            for name, flag in snapshot.flags.items():
                counters = self._counters.get(name)
                if counters is None:
                    counters = self._counters[name] = FlagCounters()
                record = None if self._record is None else (name, self._record)
                entries[name] = _Entry(flag.is_on, flag.variant, counters, record)
            attributed, left_out = attributions(snapshot.flags)
            self._snapshot = snapshot
            self._entries = entries  # one reference swap: readers see old or new, whole
            self._attributed = attributed
        if left_out:
            log.warning(
                "shipwise: %d enabled flags have percentage rollouts; track() credits "
                "events to the first %d by name only",
                len(attributed) + left_out,
                MAX_FLAGS_PER_EVENT,
            )

    def _replace(self, snapshot: Snapshot) -> None:
        """A new snapshot from the server (called on the sync thread)."""
        previous = self._snapshot
        self._install(snapshot)
        self._ready.set()
        for listener in list(self._listeners):
            try:
                listener(previous, snapshot)
            except Exception:  # a listener's bug must not stop the sync thread
                log.exception("shipwise: a snapshot listener failed")

    # -- life cycle -----------------------------------------------------------------

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait until the client has flags to evaluate: from the server, or from the
        cache or bootstrap snapshot it started with (offline clients always have).
        True if it has; False if ``timeout`` seconds passed first (``None``: wait as
        long as it takes). Until then every flag gives its default and nothing counts.

            client = Client(url, sdk_key)
            if not client.wait_until_ready(5):
                log.warning("no flags yet; serving defaults until they arrive")
        """
        return self._ready.wait(timeout)

    @property
    def is_ready(self) -> bool:
        """True once the client has a snapshot (see ``wait_until_ready``); never waits."""
        return self._ready.is_set()

    def close(self) -> None:
        """Stop syncing and send the exposure counts and tracked events not yet sent.
        Evaluation goes on with the last snapshot; ``track`` goes on counting, and
        sends nothing. Calling it again does nothing; offline, it never does."""
        with self._lock:
            online, self._online = self._online, None
            sender, self._event_sender = self._event_sender, None
        if online is not None:
            online.close()
        if sender is not None:
            sender.close()
        self._announcements.close()

    def flush(self) -> bool:
        """Send the exposure counts and tracked events not yet sent, now, on this
        thread, as the background threads would (useful in tests and simulations).

        True if the server took everything; False if a send failed (what it carried
        goes with the next batch) or the client sends nothing: offline, closed, or
        built with ``metrics_interval=None``. Never raises.
        """
        online, sender = self._online, self._event_sender
        flushes: list[Callable[[], bool]] = []
        # The exposure sender lives inside ``Online``, which has no flush of its own.
        if online is not None and online._metrics is not None:
            flushes.append(online._metrics.flush)
        if sender is not None:
            flushes.append(sender.flush)
        if not flushes:
            return False
        sent = True
        for flush in flushes:
            try:
                sent = flush() and sent
            except Exception:  # flush() is the application's call: log, never raise
                log.exception("shipwise: unexpected error while flushing")
                sent = False
        return sent

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _subscribe(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def _unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def key_rejection(self) -> str | None:
        """None while the server accepts the SDK key; once it refuses it (unknown,
        revoked, expired, or not a server key: 401 or 403, on the stream or a poll), the
        server's reason. The client then stops syncing for good, logs it once as an
        error, and keeps evaluating the last snapshot it had: a refused key does not
        come back, so build a new ``Client`` with a new key."""
        return self._key_rejection

    def _key_refused(self, problem: str) -> None:
        self._key_rejection = problem  # from the sync thread; one reference write

    # -- evaluation -----------------------------------------------------------------

    def is_enabled(self, name: str, context: Context | None = None, default: bool = False) -> bool:
        entry = self._entries.get(name)
        if entry is None:
            self._unknown.count(name, default)
            return default
        try:
            if entry.check(EMPTY_CONTEXT if context is None else context):
                entry.yes()
                return True
        except Exception:
            entry.error()
            return default
        entry.no()
        return False

    def get_variant(self, name: str, context: Context | None = None) -> Variant:
        entry = self._entries.get(name)
        if entry is None:
            self._unknown.count(name, False)
            return DISABLED
        try:
            variant = entry.variant(EMPTY_CONTEXT if context is None else context)
        except Exception:
            entry.error()
            return DISABLED
        (entry.yes if variant.feature_enabled else entry.no)()
        entry.count_variant(variant.name)
        return variant

    def explain(
        self, name: str, context: Context | None = None, default: bool = False
    ) -> Explanation:
        """The value ``is_enabled`` would return, its variant, and why. Not counted.
        Before an online client's first snapshot: the default, reason ``NOT_READY``."""
        if self._entries is _NOT_READY:
            return _not_ready(name, default)
        return self._snapshot.explain(name, context, default)

    def _explain_counted(
        self, name: str, context: Context | None, default: bool, *, variant: bool
    ) -> Explanation:
        """``explain``, counted as ``get_variant`` (``variant=True``) or ``is_enabled``
        would count it. One evaluation gives the value and its reason, so the two agree
        even under random stickiness. For the OpenFeature provider."""
        entries = self._entries  # read once: the snapshot below is at least this new
        if entries is _NOT_READY:
            return _not_ready(name, default)
        explanation = self._snapshot.explain(name, context, default)
        entry = entries.get(name)
        if entry is None:
            self._unknown.count(name, explanation.enabled)
        elif explanation.reason is Reason.ERROR:
            entry.error()
        else:
            (entry.yes if explanation.enabled else entry.no)()
            if variant:
                entry.count_variant(explanation.variant.name)
        return explanation

    def announcements(
        self, context: Context | None = None, *, at: datetime | None = None
    ) -> list[Announcement]:
        """Announcements showing to ``context`` now or ``at`` (``shipwise.sdk._announcements``)."""
        return self._announcements.showing(self._snapshot, context, at)

    def dismiss_announcement(self, announcement_id: int, context: Context | None = None) -> bool:
        """Record that ``context``'s ``userId`` dismissed it, here and on the server."""
        return self._announcements.dismiss(announcement_id, context)

    # -- events ---------------------------------------------------------------------

    def track(self, event: str, context: Context | None = None, value: float | None = None) -> None:
        """Count ``event`` for this context (and ``value``, if given: a latency, an
        amount) against its arm, "on" or "off", of every flag a rollout plan could be
        driving, so the server can compare the arms: does the new checkout raise
        ``"error"`` or lower ``"purchase"``?

        Those flags are the enabled ones with a percentage rollout strategy
        (``flexibleRollout``, ``gradualRollout*``), at most 64 of them (the first by
        name). The arm is what ``is_enabled(flag, context)`` says; finding it counts no
        exposure. An event that no flag is credited with is not kept: so before an
        online client's first snapshot, when it knows no flag, nothing is. Totals per
        (flag, arm, event) are sent every ``metrics_interval`` seconds; offline they
        are kept (``tracked_events``).

        Never raises: an empty event name, one longer than 200 characters, or a value
        that is not a finite number drops the event, with a warning at most once a
        minute to ``shipwise.sdk``.
        """
        try:
            problem = invalid_event(event, value)
            if problem is not None:
                self._events.drops.dropped(problem)
                return
            context = EMPTY_CONTEXT if context is None else context
            arms: list[Arm] = []
            for is_on, on, off in self._attributed:
                try:
                    arms.append(on if is_on(context) else off)
                except Exception:  # noqa: S112  (is_enabled gives the default: no arm to credit)
                    continue
            if arms:
                self._events.add(event, arms, None if value is None else float(value))
        except Exception:  # track() runs on request paths: log, never raise
            log.exception("shipwise: unexpected error in track(%r)", event)

    def tracked_events(self) -> list[dict[str, Any]]:
        """The event totals counted and not sent yet (offline: all of them), one dict
        per (flag, arm, event) as sent to the server: ``flag``, ``arm``, ``event``,
        ``count``, ``valued``, ``sum``, ``sumSq``; sorted."""
        return self._events.read()

    # -- exposures ------------------------------------------------------------------

    def exposures(self) -> dict[str, FlagExposure]:
        """Evaluations per flag since start (flags that were asked for, known or not)."""
        totals = {name: c.read() for name, c in list(self._counters.items())}
        for name, unknown in self._unknown.read().items():
            known = totals.get(name)
            totals[name] = unknown if known is None else combine(known, unknown)
        return {name: t for name, t in totals.items() if t.yes or t.no or t.errors}

    def unknown_flags(self) -> list[str]:
        """Names the application asked for that the snapshot does not have: the first
        1,000 distinct ones (``MAX_UNKNOWN_FLAGS``); evaluations of names past those are
        counted in ``unknown_overflow``, without their names."""
        entries = self._entries
        return sorted(name for name in self._unknown.names() if name not in entries)

    @property
    def unknown_overflow(self) -> int:
        """Evaluations of unknown names past the first 1,000 distinct ones: they gave
        their default and are counted here, not by name."""
        return self._unknown.overflow
