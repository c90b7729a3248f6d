"""Keeping secret URLs out of the logs of the HTTP client the senders use.

httpx logs every request at INFO as ``HTTP Request: POST <url> ...``; for a Slack
incoming webhook or a channel's webhook the URL *is* the secret. Each sender registers
its URL here, and a filter on the ``httpx`` logger puts ``scheme://host/…`` in its place
before any handler sees the record."""

from __future__ import annotations

import logging
import threading

import httpx

_secret_urls: set[str] = set()
_lock = threading.Lock()


def _shown(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}/…"


def _redacted(value: object) -> object:
    text = str(value)
    with _lock:
        for secret in _secret_urls:
            if secret in text:
                text = text.replace(secret, _shown(secret))
                value = text
    return value


class _RedactSecretUrls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = str(_redacted(record.msg))
        return True


_FILTER = _RedactSecretUrls()


def hide_url(url: str) -> None:
    """From now on, ``url`` appears in no record of the ``httpx`` logger."""
    with _lock:
        _secret_urls.add(str(httpx.URL(url)))
        _secret_urls.add(url)
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
