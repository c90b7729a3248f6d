"""HTTP plumbing shared by the sync and metrics threads: a configured httpx client, a
failure said in words, and a log that reports a failure once rather than every retry.

The SDK key travels only in the ``Authorization`` header; logs show its first 12
characters, as the server's token list does. Bodies are encoded by ``json_body``, which
never raises on the application's text.
"""

from __future__ import annotations

import json
import logging
import ssl
from typing import Any

import httpx

from shipwise.engine.context import utf8

log = logging.getLogger("shipwise.sdk")

USER_AGENT = "shipwise-python-sdk"
JSON_HEADERS = {"Content-Type": "application/json"}


def key_prefix(sdk_key: str) -> str:
    return f"{sdk_key[:12]}…"


def http_client(url: str, sdk_key: str, timeout: float, tls: ssl.SSLContext) -> httpx.Client:
    """A client for one server and key. Each thread gets its own: the stream holds its
    connection for hours, and a metrics POST must not queue behind it. They share one
    TLS context, which is the slow part of making one."""
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {sdk_key}", "User-Agent": USER_AGENT},
        timeout=timeout,
        verify=tls,
        follow_redirects=True,
    )


def json_body(body: object) -> bytes:
    """``body`` as compact UTF-8 JSON, for ``post(..., content=json_body(body),
    headers=JSON_HEADERS)``. Flag and event names come from the application and may
    hold lone surrogates, which httpx's own encoder raises on (so one odd name would stop
    every later batch): they become U+FFFD. Raises ``ValueError`` only for a number JSON
    cannot carry (NaN, infinity) and ``TypeError`` for a value it cannot encode."""
    return utf8(json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")))


def _server_message(response: httpx.Response) -> str:
    """The message of Shipwise's ``{"error": {"message": ...}}`` body, if it has one."""
    try:
        body: Any = response.json()
        message = body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase or "no explanation"
    return str(message)


def refusal(response: httpx.Response) -> str | None:
    """None when the server accepted the request; otherwise why not, in words.

    The body must have been read (call it inside ``with client.stream(...)`` only after
    ``response.read()``).
    """
    status = response.status_code
    if status < 300 or status == 304:
        return None
    message = _server_message(response)
    if status in {401, 403}:
        return f"the server refused the SDK key ({status}): {message}"
    if status == 404:
        return f"{response.request.url} does not exist (404): is the url the Shipwise server's?"
    return f"the server answered {status}: {message}"


def describe(error: httpx.HTTPError) -> str:
    try:  # the server, not the path: the stream and the poll failing alike are one problem
        url = str(error.request.url.copy_with(path="/", query=None)).rstrip("/")
    except RuntimeError:  # raised before a request existed
        url = "the server"
    if isinstance(error, httpx.TimeoutException):
        return f"no answer from {url} in time ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {url}: {error}"
    return f"{type(error).__name__} from {url}: {error}"


class Health:
    """Logs the first failure of a kind as a warning, repeats at debug level, and says
    once when things work again: a server down for an hour is one warning, not 240."""

    __slots__ = ("_problem", "_what")

    def __init__(self, what: str) -> None:
        self._what = what
        self._problem: str | None = None

    @property
    def failing(self) -> bool:
        return self._problem is not None

    def fail(self, problem: str) -> None:
        if problem != self._problem:
            log.warning("shipwise: %s failed: %s", self._what, problem)
        else:
            log.debug("shipwise: %s still failing: %s", self._what, problem)
        self._problem = problem

    def ok(self, how: str) -> None:
        if self._problem is not None:
            log.info("shipwise: %s works again (%s)", self._what, how)
        self._problem = None
