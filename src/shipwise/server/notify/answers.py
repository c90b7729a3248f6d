"""Reading a receiver's answer within bounds: at most ``MAX_ANSWER`` bytes, and no longer
than the sender's timeout in all.

httpx's timeouts bound each read, not the whole answer: a receiver that sends a body
without end (or one byte every few seconds) would hold the channel's delivery thread,
and fill its memory, for as long as it likes. A sender needs only the status and the
head of the body (Slack says ``ok``), so it streams the answer and hangs up after these.
The body is asked for and read undecoded (``identity``): a compressed answer cannot grow
past the bound as it is read."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

MAX_ANSWER = 64 * 1024  # bytes of an answer read; the rest is never asked for
NO_COMPRESSION = {"Accept-Encoding": "identity"}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str  # the status line's phrase
    headers: httpx.Headers
    text: str  # the head of the body, at most ``MAX_ANSWER`` bytes of it

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308)


def post(client: httpx.Client, url: str, timeout: float, **arguments: Any) -> Answer:
    """POST and read the answer within bounds; httpx's errors as it raises them."""
    deadline = time.monotonic() + timeout
    headers = {**NO_COMPRESSION, **arguments.pop("headers", {})}
    with client.stream("POST", url, headers=headers, **arguments) as response:
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) >= MAX_ANSWER or time.monotonic() > deadline:
                break  # leaving the block hangs up on the rest
        return Answer(
            response.status_code,
            response.reason_phrase,
            response.headers,
            body[:MAX_ANSWER].decode("utf-8", "replace"),
        )
