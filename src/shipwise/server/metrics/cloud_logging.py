"""Google Cloud Logging (Firebase's function logs live there): how many log entries match a
Logging filter during the check's window, in total or for each arm of the flag.

Settings::

    project:           shop-prod                   # the Google Cloud project's id
    filter:            severity>=ERROR AND resource.type="cloud_function"
                                                   # Logging query language; {flag},
                                                   #   {environment}, {project}
    credentials_file:  /etc/shipwise/gcp-key.json  # a service-account JSON key on the server
    credentials_env:   SHIPWISE_GCP_KEY            # or a variable holding the key's JSON
    url:               https://logging.googleapis.com   # default
    arm_field:         jsonPayload.flags.{flag}    # optional: count each arm (below)

It asks the Logging API's ``POST <url>/v2/entries:list`` with ``resourceNames
["projects/<project>"]``, ``orderBy "timestamp asc"``, a ``pageSize`` and the filter
bounded in time, ``(<filter>) AND timestamp>="<from>" AND timestamp<"<end>"`` (RFC 3339,
UTC), following ``nextPageToken`` page after page. The ``fields`` system parameter
(partial response) asks only for what is counted: each entry's ``insertId`` and
``timestamp``, and the top-level field the arm field is in (``jsonPayload``, ``labels``,
...). The service account needs the Logs Viewer role (``logging.read`` scope); its tokens
come from the key's own token endpoint (``_google_key``). A value a placeholder puts in
the filter is escaped for a quoted string, so write ``labels.flag="{flag}"``.

Per arm: with ``arm_field``, the reading is ``ArmCounts``: entries whose field is
``true``, ``"true"``, ``"on"`` or ``"enabled"`` count with the feature; ``false``,
``"false"``, ``"off"`` or ``"disabled"`` without; entries without the field, or with any
other value, in neither. The rollout pairs the counts with the SDKs' exposures, so a
``max_worse`` guardrail compares errors per exposure between the arms. A placeholder in
``arm_field`` fills one segment of the path whole, so a flag named ``a.b`` stays one key.

Counting as it goes: a check's window runs from the step's start (a step may last a
week) to now, and checks come every few minutes, so re-reading the whole window each
time would spend the read quota (60 ``entries:list`` calls a minute per project) on
entries already counted. The source keeps, in memory, a tally per definition (its name
and settings), project, environment, flag and window start: the counts so far and the
moment they are complete up to ("upto"). A check asks for the entries from that moment
to the window's end, and its reading is the tally plus all of them. A new step (a new
window start) or changed settings start a new tally; a tally no check used for a day is
dropped. A restart of the server loses the tallies: the first check after it reads the
step's window again from its start.

Late entries: Logging ingests entries seconds (sometimes longer) after their timestamp,
so the last moments of a window are not complete when it is read. A tally that moved on
to the window's end would never count an entry timestamped before that end and ingested
after the check, and every window would lose its tail: an error count biased towards
"healthy". So the tally keeps only what has settled, the entries timestamped more than
``SETTLE`` (2 minutes, as the SDKs' exposures) before the window's end: upto becomes
``max(upto, end - SETTLE)``, and the entries from there on, counted in this reading, are
asked for again by the next. An entry ingested more than ``SETTLE`` plus the time between
two checks after its timestamp is not counted. Only a check whose window ends at or
before upto (a tally already complete past it) asks Logging nothing.

The cap: at most ``max_pages`` pages of ``page_size`` entries (10 x 1000) per check. A
check that reaches it keeps what it read up to, but not including, the last timestamp it
saw or the settled moment, whichever is earlier (entries sharing that timestamp are left
for the next check, so none is counted twice) and answers ``MetricUnavailable``
"catching up", saying how many entries are counted up to when: a count cut off at a
moment would read "healthy" under a threshold it has not reached, and per-arm counts cut
off are not comparable, so the verdict is "error", which holds the plan. The next checks
carry on from there until they are caught up (after a restart, a step that has logged
60,000 matching entries is caught up in about six checks). As each check reads the last
``SETTLE`` again, a filter matching more entries than a check reads in ``SETTLE`` plus
the time between checks never catches up. More entries with one identical timestamp
than a check may read cannot be counted at all: the source says so, every check, rather
than loop.

An entry's timestamp that is not a real time, or lies outside what a date can hold once
turned to UTC (``9999-12-31T23:59:59-23:59``), makes the check ``MetricUnavailable``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shipwise.domain.guardrails import ArmCounts, Reading
from shipwise.server.metrics import _google_key, _http
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

__all__ = ["CloudLoggingSource"]

DEFAULT_URL = "https://logging.googleapis.com"
PAGE_SIZE = 1000  # the most entries:list gives in one page
MAX_PAGES = 10
# Entries timestamped this long before a check's end are taken to be ingested: the tally
# keeps them; later ones are read again by the next check (the SDKs' SETTLE, 2 minutes)
SETTLE = timedelta(minutes=2)
_SETTLE = SETTLE // timedelta(microseconds=1) * 1000  # in nanoseconds
MAX_FILTER = 19_000  # Logging's limit is 20,000 characters; the time bounds take the rest
_SETTINGS = ("project", "filter", "credentials_file", "credentials_env", "url", "arm_field")
# A project id (6-30 letters, digits, hyphens), optionally domain-scoped ("example.com:p")
_PROJECT = re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+|\{[A-Za-z_][A-Za-z0-9_]*\}")
# LogEntry's fields that can hold a value a logger writes: where an arm field starts
_TOP_FIELDS = ("jsonPayload", "labels", "protoPayload", "httpRequest", "resource", "operation")
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")
_WITH = {"true", "on", "enabled"}
_WITHOUT = {"false", "off", "disabled"}
_EXPECTED = 'Logging\'s entries:list JSON, {"entries": [...], "nextPageToken": "..."}'
_HINTS = {
    400: " (Logging refused the request: check the filter's syntax and the project id)",
    401: " (Logging did not accept the service account's token: check the key is current)",
    403: " (grant the service account the Logs Viewer role on the project, and check the "
    "Cloud Logging API is enabled there)",
    404: " (check url and project: no such project there)",
    429: " (Logging's read quota, 60 entries:list calls a minute per project: check less "
    "often, or narrow the filter so fewer pages are read; the next check tries again)",
}


class CloudLoggingSource:
    """Counts Cloud Logging entries matching a filter, in total or per arm."""

    kind = "cloud-logging"

    def __init__(
        self,
        timeout: float = 5.0,
        environ: Mapping[str, str] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.timeout = timeout
        self.page_size = page_size
        self.max_pages = max_pages
        self._environ = environ  # None: the process's environment, read at each use
        self._tokens = _google_key.TokenCache(timeout)
        self._tallies = _Tallies()

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _http.unknown_settings(settings, _SETTINGS)
        problems += _http.url_problems(settings, "url", required=False)
        url = settings.get("url")
        if isinstance(url, str) and _http.has_placeholder(url):
            problems.append(("url", "write Logging's URL itself, without placeholders"))
        project = settings.get("project")
        if project is None:
            problems.append(("project", "required: the Google Cloud project's id, e.g. shop-prod"))
        elif not isinstance(project, str) or not _PROJECT.fullmatch(project):
            problems.append(
                ("project", "write the project's id (not its name or number): e.g. shop-prod")
            )
        problems += _http.text_problems(settings, "filter", required=True)
        log_filter = settings.get("filter")
        if isinstance(log_filter, str) and len(log_filter) > MAX_FILTER:
            problems.append(("filter", f"a filter has at most {MAX_FILTER} characters"))
        problems += _arm_field_problems(settings.get("arm_field"))
        problems += _google_key.problems(settings, self.environ)
        return problems

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Reading | ArmCounts:
        settings = definition.settings
        _http.unavailable_if(self.problems(settings), f"Cloud Logging {definition.name!r}")
        key = _google_key.load(settings, self.environ)
        endpoint = str(settings.get("url", DEFAULT_URL)).rstrip("/") + "/v2/entries:list"
        path = _arm_path(settings.get("arm_field"), window)
        name = definition.name
        where = _where(definition, window)
        end = _nanos(max(window.end, window.start))
        before = self._tallies.get(where, end)
        if before.upto >= end:  # counted and settled to the window's end already
            return _answer(before, path)
        settled = max(before.upto, end - _SETTLE)
        user_filter = _http.fill(str(settings["filter"]), window, _quoted)
        body: dict[str, Any] = {
            "resourceNames": [f"projects/{settings['project']}"],
            "filter": (
                f'({user_filter}) AND timestamp>="{_rfc3339(before.upto)}" '
                f'AND timestamp<"{_rfc3339(end)}"'
            ),
            "orderBy": "timestamp asc",
            "pageSize": self.page_size,
        }
        # The arm field's top-level LogEntry field only: partial responses may not reach
        # into a Struct's (jsonPayload) or a map's (labels) keys
        fields = f"nextPageToken,entries(insertId,timestamp{',' + path[0] if path else ''})"
        read = _Read(before.upto)
        for _ in range(self.max_pages):
            answer = self._ask(endpoint, fields, body, key)
            entries, next_token = _page(answer)
            for entry in entries:
                read.add(_timestamp(entry, answer), _arm(_at(entry, path)) if path else None)
            if not next_token:
                self._tallies.put(where, before, _Tally(settled, end, *read.counts(settled)))
                return _answer(_plus(before, _Tally(end, end, *read.counts())), path)
            body["pageToken"] = next_token
        if read.entries == 0:  # Logging may answer empty pages while it searches
            raise MetricUnavailable(
                f"Cloud Logging {name!r}: Logging answered {self.max_pages} pages without "
                f"entries after {_rfc3339(before.upto)} (still searching): no reading this "
                "check; the next check asks again"
            )
        if read.last <= before.upto:  # every entry read shares the moment it started from
            raise MetricUnavailable(
                f"Cloud Logging {name!r}: {read.entries} or more log entries have the same "
                f"timestamp, {_rfc3339(before.upto)}, more than a check reads "
                f"({self.max_pages} pages of {self.page_size}): they cannot be counted, so "
                "there is no reading; narrow the filter"
            )
        upto = min(read.last, settled)  # entries at the last timestamp may go on
        after = self._tallies.put(where, before, _Tally(upto, end, *read.counts(upto)))
        arms = f" ({after.with_feature} with the feature, {after.without} without)"
        raise MetricUnavailable(
            f"Cloud Logging {name!r}: catching up: {after.total} log entries"
            f"{arms if path else ''} counted since "
            f"{_rfc3339(_nanos(window.start))}, up to {_rfc3339(after.upto)}; a check reads "
            f"at most {self.max_pages} pages of {self.page_size}, so the next checks carry "
            "on from there and there is a reading once caught up (if this persists, narrow "
            "the filter or check more often)"
        )

    def _ask(
        self, endpoint: str, fields: str, body: Mapping[str, Any], key: _google_key.Key
    ) -> _http.Answer:
        token = self._tokens.token(key)
        answer = _http.post_json(
            endpoint,
            body,
            params={"fields": fields},
            headers={"Authorization": f"Bearer {token}"},
            timeout=self.timeout,
            expected=_EXPECTED,
        )
        if answer.ok:
            return answer
        if answer.status == 401:
            self._tokens.forget(key)  # revoked early: the next check asks for a new one
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        said = error.get("message") if isinstance(error, dict) else None
        raise MetricUnavailable(
            f"Cloud Logging: {answer.status_line()}: "
            f"{_http.snippet(said) if isinstance(said, str) else answer.body_snippet()}"
            f"{_HINTS.get(answer.status, '')}"
        )


@dataclass(frozen=True, slots=True)
class _Tally:
    """Counts of the entries timestamped from the window's start up to (not including)
    ``upto``, in nanoseconds since the epoch; ``used`` is the last check's end."""

    upto: int
    used: int
    total: int = 0
    with_feature: int = 0
    without: int = 0


_Where = tuple[str, str, str, str, str, datetime]
_DAY = 86_400 * 10**9


def _where(definition: MetricDefinition, window: MetricWindow) -> _Where:
    """What one tally counts: a definition as its settings are now, for one step."""
    text = json.dumps(definition.settings, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return (definition.name, digest, window.project, window.environment, window.flag, window.start)


class _Tallies:
    """The tallies of one source instance. Checks of several plans may run in threads,
    so the map is behind a lock; the network reads happen outside it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[_Where, _Tally] = {}

    def get(self, where: _Where, now: int) -> _Tally:
        with self._lock:
            # Memory stays bounded: a step that ended, or a metric no guardrail reads any
            # more, has no check for a day. The check's own clock decides, not the wall's.
            for old in [w for w, t in self._tallies.items() if t.used < now - _DAY]:
                del self._tallies[old]
            found = self._tallies.get(where)
            return found if found is not None else _Tally(_nanos(where[-1]), now)

    def put(self, where: _Where, before: _Tally, read: _Tally) -> _Tally:
        """``before`` plus what a read added; kept unless another check of the same tally
        stored its own meanwhile (adding both would count the same entries twice)."""
        after = _plus(before, read)
        with self._lock:
            if self._tallies.get(where, before) is before:
                self._tallies[where] = after
        return after


class _Read:
    """One check's entries, oldest first: the tally keeps those before a moment (the
    settled one, or the last timestamp of a read cut off at the cap) and the next check
    reads the others again."""

    def __init__(self, since: int) -> None:
        self.last = since
        self._moments: list[int] = []
        self._arms: list[bool | None] = []

    @property
    def entries(self) -> int:
        return len(self._moments)

    def add(self, moment: int, arm: bool | None) -> None:
        if moment < self.last:  # asked "timestamp asc": a cut would lose or recount
            raise MetricUnavailable(
                f"Logging's entries are not in timestamp order ({_rfc3339(moment)} after "
                f"{_rfc3339(self.last)}), so they cannot be counted as they come"
            )
        self.last = moment
        self._moments.append(moment)
        self._arms.append(arm)

    def counts(self, before: int | None = None) -> tuple[int, int, int]:
        """Entries timestamped before ``before`` (all without it): total, with the
        feature, without."""
        n = len(self._moments) if before is None else bisect.bisect_left(self._moments, before)
        arms = self._arms[:n]
        return n, sum(arm is True for arm in arms), sum(arm is False for arm in arms)


def _plus(before: _Tally, read: _Tally) -> _Tally:
    """``before``'s counts plus ``read``'s, complete up to where ``read`` is."""
    return _Tally(
        read.upto,
        read.used,
        before.total + read.total,
        before.with_feature + read.with_feature,
        before.without + read.without,
    )


def _answer(tally: _Tally, path: list[str]) -> Reading | ArmCounts:
    if path:
        return ArmCounts(float(tally.with_feature), float(tally.without))
    return Reading(float(tally.total))


def _arm_field_problems(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    example = "e.g. jsonPayload.flags.{flag} or labels.{flag}"
    if not isinstance(value, str) or not all(_SEGMENT.fullmatch(s) for s in value.split(".")):
        return [
            (
                "arm_field",
                f"write a field's path: names of letters, digits, _ and - joined by .; {example}",
            )
        ]
    top = value.split(".")[0]
    if top not in _TOP_FIELDS or "." not in value:
        return [
            ("arm_field", f"start with a log entry's field, {', '.join(_TOP_FIELDS)}; {example}")
        ]
    return _http.placeholder_problems("arm_field", value)


def _arm_path(value: Any, window: MetricWindow) -> list[str]:
    """The arm field's path, each segment filled on its own; [] without an arm field."""
    if value is None:
        return []
    return [_http.fill(segment, window) for segment in str(value).split(".")]


def _at(entry: Any, path: list[str]) -> Any:
    for name in path:
        if not isinstance(entry, dict):
            return None
        entry = entry.get(name)
    return entry


def _arm(value: Any) -> bool | None:
    """True: with the feature; False: without; None: neither (missing or another value)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in _WITH else False if word in _WITHOUT else None
    return None


def _page(answer: _http.Answer) -> tuple[list[Any], str | None]:
    """A page's entries (absent: none) and its next page token (absent or "": the end)."""
    body = answer.body
    entries = body.get("entries", []) if isinstance(body, dict) else None
    token = body.get("nextPageToken") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not (token is None or isinstance(token, str)):
        raise MetricUnavailable(
            f"{answer.status_line()} with {_http.describe(body)}, expected {_EXPECTED}"
        )
    return entries, token or None


def _quoted(value: str) -> str:
    """A placeholder's value as it may stand inside a filter's "quoted string"."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _nanos(moment: datetime) -> int:
    """A moment in nanoseconds since the epoch: Logging's timestamps have nanoseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    whole = moment.astimezone(UTC).replace(microsecond=0)
    return int(whole.timestamp()) * 10**9 + moment.microsecond * 1000


def _timestamp(entry: Any, answer: _http.Answer) -> int:
    """An entry's RFC 3339 ``timestamp`` in nanoseconds, every digit Logging gave."""
    text = entry.get("timestamp") if isinstance(entry, dict) else None
    found = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise MetricUnavailable(
            f"{answer.status_line()} with an entry whose timestamp is "
            f"{_http.describe(text)}, expected an RFC 3339 time ({_EXPECTED})"
        )
    try:
        moment = datetime.fromisoformat(found.group(1) + found.group(3).replace("Z", "+00:00"))
        # In UTC, a time near year 1 or 9999 with an offset leaves what a date can hold
        return _nanos(moment) + int((found.group(2) or "").ljust(9, "0"))
    except (ValueError, OverflowError):
        raise MetricUnavailable(
            f"{answer.status_line()} with an entry timestamped {text!r}, not a time this "
            "server can count (not a real date, or out of range once turned to UTC)"
        ) from None


def _rfc3339(nanos: int) -> str:
    seconds, fraction = divmod(nanos, 10**9)
    moment = datetime.fromtimestamp(seconds, UTC)
    digits = f"{fraction:09d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{digits}" if digits else "") + "Z"
