"""Tracked events: what ``Client.track`` counts, and the thread that sends it.

``track(event, context, value)`` credits the event to the context's arm ("on" or "off")
of every flag a rollout plan could be driving: the enabled flags of the snapshot with a
percentage rollout strategy, at most ``MAX_FLAGS_PER_EVENT`` of them (the first by
name, so every instance credits the same ones). The ``EventBook`` keeps, per
(flag, arm, event), the calls, the calls with a value, and the sum and sum of squares
of the values: enough for the server to compare the arms' rates and means.

It runs on request paths, so ``add`` takes one lock and does a few dict lookups per
flag. The book holds only what has not been sent: ``EventSender`` drains it every
``interval`` seconds and ``POST``s the lines to ``/sdk/v1/events``; a failed send puts
them back, so they go with the next batch (nothing lost while the server is away), and
a 2xx forgets them (nothing counted twice; a send that times out after the server took
it is the one exception, as for exposure counts). A batch the server refuses as
malformed (400, 413, 422) is dropped rather than resent forever. ``close`` sends the
final batch. With no server (offline clients) nothing drains the book: it keeps
counting, up to ``MAX_PENDING`` lines, and ``Client.tracked_events`` reads it.

Offline clients count too, so this module loads without httpx: only the sender, which
exists only online, imports it (and ``_http``, which does).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any, SupportsFloat, cast

from shipwise.engine.compiler import CompiledFlag
from shipwise.engine.operators import Predicate
from shipwise.sdk._periodic import PeriodicSender

if TYPE_CHECKING:
    import httpx

    from shipwise.sdk._online import Settings

log = logging.getLogger("shipwise.sdk")

EVENTS_PATH = "/sdk/v1/events"
MAX_EVENT_NAME = 200  # characters
MAX_FLAGS_PER_EVENT = 64  # flags one event is credited to
MAX_PENDING = 10_000  # (flag, arm, event) lines waiting to be sent; new lines beyond are dropped
MAX_BATCH = 1_000  # lines per POST
WARN_EVERY = 60.0  # seconds between two warnings about dropped events

Arm = tuple[str, str]  # (flag, "on" | "off")
# A flag's evaluator and its two arms, prepared once per snapshot.
Attribution = tuple[Predicate, Arm, Arm]


def attributions(flags: Mapping[str, CompiledFlag]) -> tuple[tuple[Attribution, ...], int]:
    """The flags ``track`` credits, from a snapshot's compiled flags, and how many more
    would qualify beyond ``MAX_FLAGS_PER_EVENT``."""
    names = sorted(
        name
        for name, flag in flags.items()
        if flag.definition.enabled and flag.has_percentage_rollout
    )
    chosen = tuple(
        (flags[name].is_on, (name, "on"), (name, "off")) for name in names[:MAX_FLAGS_PER_EVENT]
    )
    return chosen, max(0, len(names) - MAX_FLAGS_PER_EVENT)


def invalid_event(event: object, value: object) -> str | None:
    """Why ``track`` cannot take this event and value, or None if it can."""
    if not isinstance(event, str):
        return f"the event name must be a string, got {type(event).__name__}"
    if not event.strip():
        return "the event name is empty"
    if len(event) > MAX_EVENT_NAME:
        return f"the event name {event[:40]!r}… is longer than {MAX_EVENT_NAME} characters"
    if value is None:
        return None
    kind = value.__class__  # float and int first: the ABC check costs 20 times more
    if (
        kind is not float
        and kind is not int
        and (isinstance(value, bool) or not isinstance(value, Real))
    ):
        return f"the value of {event!r} must be a number or None, got {type(value).__name__}"
    try:
        number = float(cast(SupportsFloat, value))
    except OverflowError:  # an int beyond float's range
        return f"the value of {event!r} is too large"
    if not math.isfinite(number * number):  # the sum of squares must stay finite too
        return f"the value of {event!r} is not a finite number of sensible size: {value!r}"
    return None


class Totals:
    """One line's running totals: calls, calls with a value, sum and sum of squares."""

    __slots__ = ("count", "sum", "sum_sq", "valued")

    def __init__(self) -> None:
        self.count = 0
        self.valued = 0
        self.sum = 0.0
        self.sum_sq = 0.0

    def merge(self, other: Totals) -> None:
        self.count += other.count
        self.valued += other.valued
        self.sum += other.sum
        self.sum_sq += other.sum_sq


Line = tuple[str, str, str, Totals]  # flag, arm, event, totals


def _line_key(line: Line) -> tuple[str, str, str]:
    return line[0], line[1], line[2]


def wire(line: Line) -> dict[str, Any]:
    flag, arm, event, totals = line
    return {
        "flag": flag,
        "arm": arm,
        "event": event,
        "count": totals.count,
        "valued": totals.valued,
        "sum": totals.sum,
        "sumSq": totals.sum_sq,
    }


class DropLog:
    """Warns about a dropped event at most once every ``every`` seconds, counting the
    ones it kept quiet about: a bad ``track`` call on every request is one warning a
    minute, not thousands."""

    __slots__ = ("_clock", "_every", "_lock", "_next", "_quiet")

    def __init__(self, every: float = WARN_EVERY, clock: Callable[[], float] = time.monotonic):
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._next = -math.inf
        self._quiet = 0

    def dropped(self, why: str) -> None:
        now = self._clock()
        with self._lock:
            if now < self._next:
                self._quiet += 1
                return
            quiet, self._quiet = self._quiet, 0
            self._next = now + self._every
        more = f" ({quiet} more dropped since the last warning)" if quiet else ""
        log.warning("shipwise: track() dropped an event: %s%s", why, more)


class EventBook:
    """Event totals not yet sent, per event and (flag, arm). Thread-safe."""

    def __init__(self, drops: DropLog | None = None) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, dict[Arm, Totals]] = {}
        self._lines = 0
        self.drops = drops or DropLog()

    def add(self, event: str, arms: Sequence[Arm], value: float | None) -> None:
        """Count one call of ``event`` for each of ``arms``, with its value if any."""
        full = False
        with self._lock:
            by_arm = self._pending.get(event)
            if by_arm is None:
                by_arm = self._pending[event] = {}
            for arm in arms:
                totals = by_arm.get(arm)
                if totals is None:
                    if self._lines >= MAX_PENDING:
                        full = True
                        continue
                    totals = by_arm[arm] = Totals()
                    self._lines += 1
                totals.count += 1
                if value is not None:
                    totals.valued += 1
                    totals.sum += value
                    totals.sum_sq += value * value
            if not by_arm:
                del self._pending[event]
        if full:
            self.drops.dropped(
                f"{MAX_PENDING} (flag, arm, event) lines are waiting to be sent, so {event!r} "
                "starts no new one (are event names built from ids?)"
            )

    def drain(self) -> list[Line]:
        """Everything counted so far, which the book forgets; sorted."""
        with self._lock:
            pending, self._pending, self._lines = self._pending, {}, 0
        lines = [
            (flag, arm, event, totals)
            for event, by_arm in pending.items()
            for (flag, arm), totals in by_arm.items()
        ]
        lines.sort(key=_line_key)
        return lines

    def restore(self, lines: Iterable[Line]) -> None:
        """Put back lines that could not be sent, adding to what was counted since."""
        with self._lock:
            for flag, arm, event, totals in lines:
                by_arm = self._pending.setdefault(event, {})
                mine = by_arm.get((flag, arm))
                if mine is None:
                    by_arm[(flag, arm)] = totals
                    self._lines += 1
                else:
                    mine.merge(totals)

    def read(self) -> list[dict[str, Any]]:
        """The lines not yet sent, in the wire shape, sorted by flag, arm and event."""
        with self._lock:
            lines = []
            for event, by_arm in self._pending.items():
                for (flag, arm), totals in by_arm.items():
                    copy = Totals()
                    copy.merge(totals)
                    lines.append((flag, arm, event, copy))
        lines.sort(key=_line_key)
        return [wire(line) for line in lines]


class EventSender(PeriodicSender):
    """Drains an ``EventBook`` into ``POST /sdk/v1/events`` every ``interval`` seconds,
    on a daemon thread; sends are serialised by a lock ``add`` never touches."""

    what = "tracked events"

    def __init__(
        self,
        http: httpx.Client,
        book: EventBook,
        *,
        interval: float,
        app_name: str | None,
        instance_id: str,
    ) -> None:
        from shipwise.sdk._http import Health  # noqa: PLC0415  (httpx: see the docstring)

        super().__init__(http, interval, "shipwise-events")
        self._book = book
        self._app_name = app_name
        self._instance_id = instance_id
        self._health = Health("sending tracked events")

    def flush(self) -> bool:
        """Send every line counted so far. True if the server took them all; otherwise
        what was not taken waits for the next batch (unless it was refused as malformed)."""
        with self._send_lock:
            lines = self._book.drain()
            accepted = True
            for start in range(0, len(lines), MAX_BATCH):
                outcome = self._send(lines[start : start + MAX_BATCH])
                if outcome is None:  # try again later, with whatever came since
                    self._book.restore(lines[start:])
                    return False
                accepted = accepted and outcome
            return accepted

    def _send(self, lines: Sequence[Line]) -> bool | None:
        """True: taken. False: refused for good (dropped). None: failed, send again."""
        import httpx  # noqa: PLC0415  (loaded already: this object exists only online)

        from shipwise.sdk._http import JSON_HEADERS, describe, json_body, refusal  # noqa: PLC0415

        body = {
            "appName": self._app_name,
            "instanceId": self._instance_id,
            "events": [wire(line) for line in lines],
        }
        try:
            content = json_body(body)
        except (TypeError, ValueError) as error:  # e.g. a sum of squares grown to infinity
            log.error("shipwise: tracked events dropped, they cannot be encoded: %s", error)
            return False
        try:
            response = self._http.post(EVENTS_PATH, content=content, headers=JSON_HEADERS)
        except httpx.HTTPError as error:
            self._health.fail(f"{describe(error)}; the events will go with the next batch")
            return None
        if response.is_success:
            self._health.ok(f"{len(lines)} event lines sent")
            return True
        problem = refusal(response) or f"{EVENTS_PATH} answered {response.status_code}"
        if response.status_code in {400, 413, 422}:
            log.error("shipwise: the server rejected a batch of tracked events: %s", problem)
            return False
        self._health.fail(f"{problem}; the events will go with the next batch")
        return None


def connect(settings: Settings, book: EventBook) -> EventSender | None:
    """The sender for an online client, or None when it sends nothing
    (``metrics_interval=None``). It has its own ``instanceId``, made as the exposure
    sender's is."""
    if settings.metrics_interval is None:
        return None
    import httpx  # noqa: PLC0415  (online only)

    from shipwise.sdk._http import http_client  # noqa: PLC0415
    from shipwise.sdk._online import _instance_id  # noqa: PLC0415

    http = http_client(settings.url, settings.sdk_key, settings.timeout, httpx.create_ssl_context())
    return EventSender(
        http,
        book,
        interval=settings.metrics_interval,
        app_name=settings.app_name,
        instance_id=_instance_id(),
    )
