"""A client's link to its server: the sync thread, the metrics thread and the disk cache.

Imported only when a client is built with a url: httpx (and through it whatever CLI
extras are installed beside it) stays out of ``import shipwise`` and offline clients.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from os import PathLike

import httpx

from shipwise.engine import Snapshot
from shipwise.sdk._cache import SnapshotCache
from shipwise.sdk._exposures import FlagExposure
from shipwise.sdk._http import http_client, key_prefix
from shipwise.sdk._metrics import MetricsSender
from shipwise.sdk._sync import Synchronizer

log = logging.getLogger("shipwise.sdk")

MAX_NAME_LENGTH = 200  # the server's limit for appName and instanceId


@dataclass(frozen=True, slots=True)
class Settings:
    """How an online client talks to its server; checked when the client is built."""

    url: str
    sdk_key: str
    app_name: str | None
    cache_path: str | PathLike[str] | None
    refresh_interval: float
    metrics_interval: float | None
    stream: bool
    timeout: float

    def __post_init__(self) -> None:
        try:
            scheme = httpx.URL(self.url).scheme if isinstance(self.url, str) else None
        except httpx.InvalidURL:
            scheme = None
        if scheme not in {"http", "https"}:
            raise ValueError(
                f"url must be the Shipwise server's http:// or https:// address, got {self.url!r}"
            )
        if not isinstance(self.sdk_key, str) or not self.sdk_key.strip():
            raise ValueError(
                "sdk_key is missing: pass the environment's server key "
                "(shipwise token create --kind server)"
            )
        if self.app_name is not None and len(self.app_name) > MAX_NAME_LENGTH:
            raise ValueError(f"app_name is longer than {MAX_NAME_LENGTH} characters")
        for name in ("refresh_interval", "timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.metrics_interval is not None and not self.metrics_interval > 0:
            raise ValueError("metrics_interval must be positive seconds, or None to send none")


def _instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"[-MAX_NAME_LENGTH:]


class Online:
    """Starts from the cache, then keeps the client current and sends its exposures.

    ``install`` receives every new snapshot; ``read_totals`` gives the exposure totals;
    ``rejected`` hears, once, why the server refused the key (syncing has ended then).
    All are called from this object's threads.
    """

    def __init__(
        self,
        settings: Settings,
        install: Callable[[Snapshot], None],
        read_totals: Callable[[], Mapping[str, FlagExposure]],
        rejected: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._install = install
        self._rejected = rejected
        self._cache = None if settings.cache_path is None else SnapshotCache(settings.cache_path)
        self._document: bytes | None = None  # the document of the snapshot installed last
        url, key, timeout = settings.url, settings.sdk_key, settings.timeout
        tls = httpx.create_ssl_context()
        self._sync = Synchronizer(
            http_client(url, key, timeout, tls),
            self._deliver,
            stream=settings.stream,
            refresh_interval=settings.refresh_interval,
            rejected=self._key_refused,
        )
        self._metrics = None
        if settings.metrics_interval is not None:
            self._metrics = MetricsSender(
                http_client(url, key, timeout, tls),
                read_totals,
                interval=settings.metrics_interval,
                app_name=settings.app_name,
                instance_id=_instance_id(),
            )

    def cached(self) -> Snapshot | None:
        """The snapshot in the disk cache, if there is a usable one."""
        if self._cache is None:
            return None
        loaded = self._cache.load()
        if loaded is None:
            return None
        snapshot, self._document = loaded
        log.info(
            "shipwise: starting from the cached snapshot %s (revision %s)",
            self._cache.path,
            snapshot.state.revision,
        )
        return snapshot

    def start(self) -> None:
        log.debug(
            "shipwise: syncing flags from %s with key %s",
            self._settings.url,
            key_prefix(self._settings.sdk_key),
        )
        self._sync.start()
        if self._metrics is not None:
            self._metrics.start()

    def close(self) -> None:
        self._sync.stop()
        if self._metrics is not None:
            self._metrics.close()

    def _key_refused(self, problem: str) -> None:
        """The server refused the key for good (called once, on the sync thread)."""
        log.error(
            "shipwise: %s (key %s). Flag sync has stopped: the client keeps evaluating "
            "the last snapshot it had; give it a new key (shipwise token create --kind server)",
            problem,
            key_prefix(self._settings.sdk_key),
        )
        if self._rejected is not None:
            self._rejected(problem)

    def _deliver(self, document: bytes) -> bool:
        """A snapshot document from the server: compile it, install it, cache it."""
        if document == self._document:
            return True  # the one we have (a poll after a stream update, a restart)
        try:
            snapshot = Snapshot.load(document)
        except ValueError as error:  # SnapshotError, or bytes that are not text
            log.error(
                "shipwise: the server sent a snapshot this SDK cannot read; keeping the "
                "current one: %s",
                error,
            )
            return False
        if self._cache is not None:
            self._cache.save(document)  # first, so a client that is ready has its cache
        self._install(snapshot)
        self._document = document
        return True
