"""What a stalled request to a test server looks like from inside, printed with the failure.

Full runs on a loaded 2-core machine have, rarely, seen a request to a PostgreSQL-backed
test server get no answer for 30 s (issues 12 to 15); each test passes alone. One stack
dump taken 8 s in showed the request's thread in pure-Python SQL compilation, which is
either a thread starved of the GIL or one that moved on. So a stall now reports:

- every thread's stack every ``STALL_SECONDS`` (faulthandler's own C thread, which needs
  no GIL), so successive dumps show whether the request's thread moves at all;
- from a Python thread, how late it woke (seconds late = the GIL was held elsewhere),
  the process's threads, memory and collector counts, and what each PostgreSQL backend
  of the test cluster is doing or waiting on (``pg_stat_activity``).
"""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
import threading
import time

import httpx

STALL_SECONDS = 8.0
_POSTGRES_URL_VARIABLE = "SHIPWISE_TEST_POSTGRES_URL"

_lock = threading.Lock()
_timers: dict[int, threading.Timer] = {}


def _resident_megabytes() -> str:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return f"{int(line.split()[1]) // 1024} MB"
    except OSError:
        pass
    return "unknown"


def _postgres_activity() -> list[str]:
    raw = os.environ.get(_POSTGRES_URL_VARIABLE)
    if not raw:
        return ["(no PostgreSQL under test)"]
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(raw).set(drivername="postgresql", database="postgres")
        dsn = url.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute("SET statement_timeout = 3000")
            rows = connection.execute(
                "SELECT pid, datname, state, wait_event_type, wait_event,"
                " round(extract(epoch FROM now() - xact_start)::numeric, 1),"
                " left(regexp_replace(query, '\\s+', ' ', 'g'), 160)"
                " FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' ORDER BY xact_start NULLS LAST"
            ).fetchall()
    except Exception as error:  # a diagnostic must never fail the test it explains
        return [f"(pg_stat_activity unreadable: {error!r})"]
    return [
        f"pid {pid} db {db} {state} wait {kind}/{event} xact {age}s: {query}"
        for pid, db, state, kind, event, age, query in rows
    ] or ["(no client backends)"]


_ROUNDS = 4  # 8, 16, 24 and 32 s: past the clients' 30 s timeout, then silence


def _report(key: int, method: str, url: str, due: float, round_: int) -> None:
    with _lock:
        if key not in _timers:
            return  # answered meanwhile
    late = time.monotonic() - due
    lines = [
        f"--- stall: {method} {url} unanswered for {STALL_SECONDS * round_:g} s;"
        f" this report's thread woke {late:.2f} s late (GIL held elsewhere if large)",
        f"threads: {', '.join(sorted(t.name for t in threading.enumerate()))}",
        f"resident memory {_resident_megabytes()}; gc counts {gc.get_count()};"
        f" gc collections {[s['collections'] for s in gc.get_stats()]}",
        "PostgreSQL backends:",
        *(f"  {line}" for line in _postgres_activity()),
        "--- end of stall report",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
    with _lock:
        if key not in _timers:
            return
        if round_ >= _ROUNDS:
            # The request failed without a response hook: stop faulthandler's repeats.
            faulthandler.cancel_dump_traceback_later()
            del _timers[key]
            return
        _timers[key] = _start_timer(key, method, url, round_ + 1)


def _start_timer(key: int, method: str, url: str, round_: int) -> threading.Timer:
    timer = threading.Timer(
        STALL_SECONDS, _report, args=(key, method, url, time.monotonic() + STALL_SECONDS, round_)
    )
    timer.daemon = True
    timer.name = "stall-report"
    timer.start()
    return timer


def watch(request: httpx.Request) -> None:
    faulthandler.dump_traceback_later(STALL_SECONDS, repeat=True, file=sys.stderr)
    key = id(request)
    with _lock:
        _timers[key] = _start_timer(key, request.method, str(request.url), 1)


def unwatch(response: httpx.Response) -> None:
    faulthandler.cancel_dump_traceback_later()
    with _lock:
        timer = _timers.pop(id(response.request), None)
    if timer is not None:
        timer.cancel()


HOOKS = {"request": [watch], "response": [unwatch]}


def _slow_collections(phase: str, info: dict[str, int]) -> None:
    """Print a collection of a second or more while a request is watched: a full
    collection holds the GIL, so every thread of the process waits for it."""
    if phase == "start":
        _slow_collections.started = time.monotonic()  # type: ignore[attr-defined]
        return
    took = time.monotonic() - getattr(_slow_collections, "started", time.monotonic())
    if took >= 1.0 and _timers:
        print(
            f"--- gc generation {info.get('generation')} took {took:.1f} s"
            f" ({info.get('collected')} collected); resident {_resident_megabytes()}",
            file=sys.stderr,
            flush=True,
        )


gc.callbacks.append(_slow_collections)
