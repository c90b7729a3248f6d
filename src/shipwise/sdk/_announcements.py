"""In-app announcements: what a release tells the users who have its feature.

    with Client(url, server_key) as client:
        for note in client.announcements({"userId": "42"}):
            page.banner(note.title, note.html, note.link)   # html is sanitised: use as is
        ...
        client.dismiss_announcement(note.id, {"userId": "42"})  # "got it"

``Client.announcements(context, at=None)`` returns the announcements of the client's
environment that are showing at ``at`` (default: now, by this process's clock:
``starts_at <= at < ends_at``), whose flag is on for ``context`` (decided by the
client's own engine, the same answer ``is_enabled`` gives; not counted as an exposure),
minus those the context's ``userId`` dismissed, oldest first. Without a ``userId``
nothing is taken away. Offline clients have none, and a client that is not ready yet
(no snapshot) shows none: no flag is on for anyone.

``Client.dismiss_announcement(id, context)`` records the dismissal on the server (so the
browser's frontend API and every other SDK instance know it too) and in this client at
once; it returns True once the server has it, False otherwise (no ``userId``, or the
server could not be reached: this client still remembers it).

The announcements are fetched when first asked for and again once ``refresh_interval``
seconds (the client's setting) have passed, with an ETag; a user's dismissals the same
way, only for users something would be shown to, for up to ``MAX_USERS`` users at once.
A fetch happens on the caller's thread (bounded by ``timeout``), never on the paths of
``is_enabled``, ``get_variant`` or ``track``; while one runs, other threads use what was
fetched before. Neither method ever raises: a failure is logged to ``shipwise.sdk``
once (as the flag sync logs), and the last known answer (or none) is used.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shipwise.engine import Snapshot
from shipwise.engine.context import Context

if TYPE_CHECKING:
    import httpx

    from shipwise.sdk._online import Settings

log = logging.getLogger("shipwise.sdk")

PATH = "/sdk/v1/announcements"
MAX_USERS = 10_000  # users whose dismissals are remembered at once (oldest forgotten)
MAX_USER_ID = 256  # the server's limit


@dataclass(frozen=True, slots=True)
class Announcement:
    """One in-app announcement. ``html`` is ``body`` (Markdown) rendered and sanitised
    by the server (paragraphs, emphasis, lists, code, quotes, h3/h4 and links with
    ``rel="noopener noreferrer"``; no images, scripts or styles): safe to put in a page."""

    id: int
    release: str
    flag: str
    title: str
    body: str
    html: str
    link: str | None
    starts_at: datetime
    ends_at: datetime

    def showing_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


def parse_announcement(item: Mapping[str, Any]) -> Announcement:
    """One announcement of the server's answer; raises ``KeyError``, ``TypeError`` or
    ``ValueError`` when it is not one."""
    link = item.get("link")
    return Announcement(
        id=int(item["id"]),
        release=str(item["release"]),
        flag=str(item["flag"]),
        title=str(item["title"]),
        body=str(item["body"]),
        html=str(item["html"]),
        link=None if link is None else str(link),
        starts_at=_aware(datetime.fromisoformat(item["startsAt"])),
        ends_at=_aware(datetime.fromisoformat(item["endsAt"])),
    )


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _user_id(context: Context | None) -> str | None:
    user_id = None if context is None else context.get("userId")
    if isinstance(user_id, str) and 0 < len(user_id) <= MAX_USER_ID:
        return user_id
    return None


@dataclass
class _Seen:
    """One user's dismissals: as the server last said, and those made here since."""

    fetched: float  # time.monotonic() of the server's answer
    server: frozenset[int]
    local: set[int] = field(default_factory=set)

    def all(self) -> set[int]:
        return set(self.server) | self.local


class _Problems:
    """Logs a failure once until things work again (a server down for an hour is one
    warning, not one per page view)."""

    def __init__(self) -> None:
        self._last: str | None = None

    def fail(self, problem: str) -> None:
        level = logging.DEBUG if problem == self._last else logging.WARNING
        log.log(level, "shipwise: announcements: %s", problem)
        self._last = problem

    def ok(self) -> None:
        if self._last is not None:
            log.info("shipwise: announcements work again")
        self._last = None


class Announcements:
    """An offline client's announcements: none, and nowhere to record a dismissal.
    ``AnnouncementBook`` is an online client's."""

    def showing(
        self, snapshot: Snapshot, context: Context | None, at: datetime | None
    ) -> list[Announcement]:
        return []

    def dismiss(self, announcement_id: int, context: Context | None) -> bool:
        return False

    def close(self) -> None:
        """Nothing to close."""


NO_ANNOUNCEMENTS = Announcements()


class AnnouncementBook(Announcements):
    """An online client's announcements and its users' dismissals (see the module
    docstring). ``clock`` is ``time.monotonic`` but for tests of the refresh."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._ttl = settings.refresh_interval
        self._clock = clock
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()
        self._lock = threading.Lock()  # one fetch of the list at a time
        self._users_lock = threading.Lock()  # guards ``_users`` (an OrderedDict)
        self._items: tuple[Announcement, ...] | None = None  # None: never fetched
        self._fetched = 0.0
        self._etag: str | None = None
        self._users: OrderedDict[str, _Seen] = OrderedDict()
        self._problems = _Problems()
        self._closed = False

    # -- the application's calls (never raise) --------------------------------------

    def showing(
        self, snapshot: Snapshot, context: Context | None, at: datetime | None
    ) -> list[Announcement]:
        try:
            moment = datetime.now(UTC) if at is None else _aware(at)
            shown = [
                a
                for a in self._current()
                if a.showing_at(moment) and snapshot.is_enabled(a.flag, context)
            ]
            user_id = _user_id(context)
            if not shown or user_id is None:
                return shown
            gone = self._dismissed_by(user_id)
            return [a for a in shown if a.id not in gone]
        except Exception:
            log.exception("shipwise: unexpected error in announcements()")
            return []

    def dismiss(self, announcement_id: int, context: Context | None) -> bool:
        try:
            user_id = _user_id(context)
            if user_id is None:
                log.warning(
                    "shipwise: dismiss_announcement(%r) needs a context with a userId "
                    "(1 to %d characters): nothing recorded",
                    announcement_id,
                    MAX_USER_ID,
                )
                return False
            with self._users_lock:
                seen = self._users.get(user_id) or _Seen(-self._ttl, frozenset())
                seen.local.add(int(announcement_id))
                self._remember(user_id, seen)
            return self._post_dismissal(int(announcement_id), user_id)
        except Exception:
            log.exception("shipwise: unexpected error in dismiss_announcement()")
            return False

    def close(self) -> None:
        self._closed = True
        http, self._http = self._http, None
        if http is not None:
            http.close()

    # -- fetching -------------------------------------------------------------------

    def _client(self) -> httpx.Client | None:
        if self._closed:
            return None
        with self._http_lock:
            if self._http is None:
                import httpx  # noqa: PLC0415  (online only, as the rest of the sync)

                from shipwise.sdk._http import http_client  # noqa: PLC0415

                settings = self._settings
                tls = httpx.create_ssl_context()
                self._http = http_client(settings.url, settings.sdk_key, settings.timeout, tls)
            return self._http

    def _stale(self, fetched: float) -> bool:
        return self._clock() - fetched >= self._ttl

    def _current(self) -> tuple[Announcement, ...]:
        items = self._items
        if items is not None and not self._stale(self._fetched):
            return items
        # The first fetch is waited for; later ones are done by one thread while the
        # others carry on with what was fetched before.
        if not self._lock.acquire(blocking=items is None):
            return items or ()
        try:
            if self._items is None or self._stale(self._fetched):
                self._fetch_list()
            return self._items or ()
        finally:
            self._lock.release()

    def _get(self, path: str, **kwargs: Any) -> Any:
        """The answer to a GET, or None after logging why there is none."""
        import httpx  # noqa: PLC0415

        from shipwise.sdk._http import describe, refusal  # noqa: PLC0415

        http = self._client()
        if http is None:
            return None
        try:
            response = http.get(path, **kwargs)
        except httpx.HTTPError as error:
            self._problems.fail(describe(error))
            return None
        problem = refusal(response)
        if problem is not None:
            self._problems.fail(problem)
            return None
        self._problems.ok()
        return response

    def _fetch_list(self) -> None:
        self._fetched = self._clock()  # a failure is retried after the interval, too
        headers = {"If-None-Match": self._etag} if self._etag else {}
        response = self._get(PATH, headers=headers)
        if response is None:
            self._items = self._items or ()
            return
        if response.status_code == 304 and self._items is not None:
            return
        try:
            items = tuple(parse_announcement(i) for i in response.json()["announcements"])
        except (KeyError, TypeError, ValueError) as error:
            self._problems.fail(f"the server's answer cannot be read: {error!r}")
            self._items = self._items or ()
            return
        self._items, self._etag = items, response.headers.get("etag")

    def _remember(self, user_id: str, seen: _Seen) -> None:
        """Under ``_users_lock``: keep ``seen`` as the newest, forgetting the oldest."""
        self._users[user_id] = seen
        self._users.move_to_end(user_id)
        while len(self._users) > MAX_USERS:
            self._users.popitem(last=False)

    def _dismissed_by(self, user_id: str) -> set[int]:
        with self._users_lock:
            seen = self._users.get(user_id)
        if seen is not None and not self._stale(seen.fetched):
            return seen.all()
        response = self._get(f"{PATH}/dismissals", params={"userId": user_id})
        server: frozenset[int] | None = None
        if response is not None:
            try:
                server = frozenset(int(i) for i in response.json()["dismissed"])
            except (KeyError, TypeError, ValueError) as error:
                self._problems.fail(f"the server's answer cannot be read: {error!r}")
        with self._users_lock:
            seen = self._users.get(user_id) or _Seen(0.0, frozenset())
            fresh = _Seen(self._clock(), seen.server if server is None else server, seen.local)
            self._remember(user_id, fresh)
            return fresh.all()

    def _post_dismissal(self, announcement_id: int, user_id: str) -> bool:
        import httpx  # noqa: PLC0415

        from shipwise.sdk._http import JSON_HEADERS, describe, json_body, refusal  # noqa: PLC0415

        http = self._client()
        if http is None:
            return False
        path = f"{PATH}/{announcement_id}/dismiss"
        try:
            response = http.post(path, content=json_body({"userId": user_id}), headers=JSON_HEADERS)
        except httpx.HTTPError as error:
            self._problems.fail(describe(error))
            return False
        problem = refusal(response)
        if problem is not None:
            self._problems.fail(problem)
            return False
        return True
