"""``GET /health``: is this instance alive, and can its database serve?

    200 {"status": "ok",       "storage": {"ok": true,  "problem": null, ...}}
    200 {"status": "degraded", "storage": {"ok": false, "problem": "disk full", ...}}
    503 {"status": "unavailable", "storage": {"ok": false, "problem": "database unreachable"}}

A full disk, a held lock or a read-only database stops writes only: the instance still
serves every SDK and evaluation route from its snapshots and reads, so it stays in the
load balancer (200, "degraded"). A database that cannot be read at all makes the
instance useless for anything not cached: 503, so a balancer sends traffic elsewhere.
The probe (``storage/probe.py``) runs in a worker thread, at most once a second (in
between, its answer is served from the event loop), and an answer slower than
``PROBE_TIMEOUT`` counts as unreachable.
"""

from __future__ import annotations

import asyncio

from fastapi.responses import JSONResponse

from shipwise import __version__
from shipwise.server.ports import StorageHealth, StorageProblem, Store

PROBE_TIMEOUT = 2.0  # seconds the storage probe may take before "unreachable"
_SLOW = StorageHealth(
    ok=False,
    readable=False,
    problem=StorageProblem.UNREACHABLE,
    advice=f"the database did not answer within {PROBE_TIMEOUT:g} s",
)


async def health_response(store: Store, streams: int) -> JSONResponse:
    storage = store.cached_health()
    if storage is None:
        try:
            storage = await asyncio.wait_for(asyncio.to_thread(store.health), PROBE_TIMEOUT)
        except TimeoutError:
            storage = _SLOW
    status = "ok" if storage.ok else ("degraded" if storage.readable else "unavailable")
    body = {
        "status": status,
        "version": __version__,
        "streams": streams,
        "storage": {
            "ok": storage.ok,
            "problem": None if storage.problem is None else str(storage.problem),
            "advice": storage.advice,
        },
    }
    return JSONResponse(body, 200 if storage.readable else 503)
