"""One TLS context for every HTTPS call the server makes (metric sources, webhooks,
Slack, Sentry).

Making an ``httpx.Client`` loads and parses the whole CA bundle, about 30 ms of CPU;
a metric source that made one per reading paid it at every check. An ``SSLContext``
is safe to share between clients and threads once built, so the server builds one.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    """httpx's own default (certifi's bundle, certificates verified), built once."""
    return httpx.create_ssl_context()
