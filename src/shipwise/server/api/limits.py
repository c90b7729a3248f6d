"""How much one request may carry, by route class: the size of its body, the nesting
depth of its JSON, the size of its query string and headers. ``bounds.BoundedRequests``
enforces them before any route reads a byte past them.

Body size, by the class of the route (``shipwise serve --max-body CLASS=SIZE``, repeatable,
or ``SHIPWISE_MAX_BODY="webhook=25MiB admin=2MiB"``; SIZE in bytes, KiB or MiB):

    class     routes                                            default  sized for
    evaluate  OFREP, POST /api/frontend, SDK registration,       64 KiB  an evaluation
              and every other route not listed below                     context
    reports   /sdk/v1/metrics, /sdk/v1/events,                    2 MiB  the SDK's largest
              /api/client/metrics, /api/frontend/client/metrics          batch: 1,000 lines
                                                                         of 200-character
                                                                         names, 1.7 MB
    admin     /api/v1 (the admin API), except imports             1 MiB  rules with thousands
                                                                         of constraint values
    imports   /api/v1/projects/{p}/environments/{e}/import/...   10 MiB  an Unleash document
                                                                         of thousands of flags
    webhook   /webhooks/...                                      10 MiB  GitHub caps payloads
                                                                         at 25 MB; raise it if
                                                                         deliveries get 413

An over-limit body is a 413 sent without reading the rest: at once when Content-Length
says so, as soon as the count passes the limit for a chunked body.

JSON nesting depth (``--max-json-depth``, ``SHIPWISE_MAX_JSON_DEPTH``): 64 levels by
default, at most ``MAX_DEPTH_CEILING``, so that no parser, validator or encoder on the way
can recurse into Python's recursion limit (a 50,000-deep body used to be a RecursionError
and a plain-text 500). Deeper bodies are a 400 on the public routes (whose own parsers
answer 400 for bad JSON) and a 422 on the admin API. A webhook delivery's depth is
checked only once its signature holds (422 then): an unsigned one gets its 401 first.

Fixed: a query string of at most ``MAX_QUERY_BYTES`` (414) and at most
``MAX_HEADER_FIELDS`` header fields of ``MAX_HEADER_BYTES`` in all (431), as common proxies
allow; the frontend API takes its context from the query, so this bounds it too.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import accumulate

KiB = 1024
MiB = 1024 * KiB

MAX_DEPTH_CEILING = 256  # json, pydantic and the encoders stay far from recursion at this
MAX_QUERY_BYTES = 16 * KiB
MAX_HEADER_FIELDS = 100
MAX_HEADER_BYTES = 32 * KiB


class RouteClass(StrEnum):
    EVALUATE = "evaluate"
    REPORTS = "reports"
    ADMIN = "admin"
    IMPORTS = "imports"
    WEBHOOK = "webhook"


DESCRIPTIONS = {
    RouteClass.EVALUATE: "SDK and evaluation requests",
    RouteClass.REPORTS: "SDK metrics and events",
    RouteClass.ADMIN: "admin API requests",
    RouteClass.IMPORTS: "imports",
    RouteClass.WEBHOOK: "webhook deliveries",
}

_REPORTS = frozenset(
    {"/sdk/v1/metrics", "/sdk/v1/events", "/api/client/metrics", "/api/frontend/client/metrics"}
)
_IMPORT = re.compile(r"^/api/v1/projects/[^/]+/environments/[^/]+/import/")


def route_class(path: str) -> RouteClass:
    """The class whose limits apply to a request for ``path``; unknown paths get the
    smallest (evaluate)."""
    if path in _REPORTS:
        return RouteClass.REPORTS
    if path.startswith("/api/v1/"):
        return RouteClass.IMPORTS if _IMPORT.match(path) else RouteClass.ADMIN
    if path.startswith("/webhooks/"):
        return RouteClass.WEBHOOK
    return RouteClass.EVALUATE


@dataclass(frozen=True, slots=True)
class BodyLimits:
    evaluate: int = 64 * KiB
    reports: int = 2 * MiB
    admin: int = 1 * MiB
    imports: int = 10 * MiB
    webhook: int = 10 * MiB
    depth: int = 64

    def size(self, route: RouteClass) -> int:
        return int(getattr(self, route.value))

    def overridden(self, sizes: Iterable[str] = (), depth: int | None = None) -> BodyLimits:
        """These limits with ``CLASS=SIZE`` items and a depth applied; ValueError names
        the item at fault."""
        changes: dict[str, int] = {}
        for item in sizes:
            name, _, size = item.partition("=")
            try:
                route = RouteClass(name.strip().lower())
            except ValueError:
                classes = ", ".join(c.value for c in RouteClass)
                raise ValueError(f"{item!r}: no route class {name!r}; one of {classes}") from None
            changes[route.value] = parse_size(size, item)
        if depth is not None:
            if not 1 <= depth <= MAX_DEPTH_CEILING:
                raise ValueError(f"a JSON depth of {depth}: between 1 and {MAX_DEPTH_CEILING}")
            changes["depth"] = depth
        return replace(self, **changes)


DEFAULT_LIMITS = BodyLimits()


_SIZE = re.compile(r"^\s*(\d{1,12})\s*(KiB|MiB)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "kib": KiB, "mib": MiB}


def parse_size(text: str, item: str | None = None) -> int:
    """``65536``, ``64KiB`` or ``1MiB`` in bytes, at least 1."""
    found = _SIZE.match(text)
    size = int(found[1]) * _UNITS[(found[2] or "").lower()] if found else 0
    if size < 1:
        raise ValueError(f"{item or text!r}: a size is bytes, KiB or MiB, e.g. 64KiB or 1MiB")
    return size


_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def exceeds_depth(document: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than ``limit``, found without
    parsing it (parsing is what recursed), in C-speed passes over the bytes: linear,
    about as fast as ``json.loads``. Brackets inside strings do not count; text that is
    not JSON gives some answer, and the parser refuses it after."""
    if document.count(b"[") + document.count(b"{") <= limit:  # the usual case: cheap
        return False
    # Without escaped backslashes, then escaped quotes, every quote opens or closes a
    # string, so the even pieces between quotes are the text outside strings.
    unescaped = document.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    steps = array("b", outside.translate(None, _NOT_BRACKET).translate(_STEP))
    return max(accumulate(steps), default=0) > limit
