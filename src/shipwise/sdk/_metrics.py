"""Sending exposure counts to the server in batches, off the evaluation path.

The client's counters only grow. Every ``interval`` seconds a daemon thread reads them,
sends the difference from the totals the server last acknowledged
(``POST /sdk/v1/metrics``) and, on a 2xx, takes the totals it read as the new baseline.
A failed send changes nothing, so its counts ride along with the next batch: nothing
is lost while the server is away and nothing is counted twice. ``close`` sends the
final batch. Sends are serialised by a lock, which evaluations never touch.

Evaluations that failed (the ``errors`` of ``FlagExposure``) are not sent: the wire
format carries yes/no and variants only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shipwise.sdk._exposures import FlagExposure
from shipwise.sdk._http import JSON_HEADERS, Health, describe, json_body, refusal
from shipwise.sdk._periodic import PeriodicSender

log = logging.getLogger("shipwise.sdk")

METRICS_PATH = "/sdk/v1/metrics"

ReadTotals = Callable[[], Mapping[str, FlagExposure]]


def exposure_delta(
    totals: Mapping[str, FlagExposure], sent: Mapping[str, FlagExposure]
) -> dict[str, dict[str, Any]]:
    """What ``totals`` adds to ``sent``, per flag, in the wire shape; flags that did not
    change are left out."""
    batch: dict[str, dict[str, Any]] = {}
    for name, now in totals.items():
        before = sent.get(name)
        if before is None:
            yes, no, variants = now.yes, now.no, dict(now.variants)
        else:
            yes, no = now.yes - before.yes, now.no - before.no
            variants = {
                variant: count - before.variants.get(variant, 0)
                for variant, count in now.variants.items()
            }
        variants = {variant: count for variant, count in variants.items() if count > 0}
        if yes > 0 or no > 0 or variants:
            batch[name] = {"yes": max(yes, 0), "no": max(no, 0), "variants": variants}
    return batch


class MetricsSender(PeriodicSender):
    what = "exposure counts"

    def __init__(
        self,
        http: httpx.Client,
        read_totals: ReadTotals,
        *,
        interval: float,
        app_name: str | None,
        instance_id: str,
    ) -> None:
        super().__init__(http, interval, "shipwise-metrics")
        self._read_totals = read_totals
        self._app_name = app_name
        self._instance_id = instance_id
        self._sent: Mapping[str, FlagExposure] = {}  # totals the server has acknowledged
        self._health = Health("sending exposure counts")

    def flush(self) -> bool:
        """Send the counts since the last acknowledged batch. True if nothing is left."""
        with self._send_lock:
            totals = dict(self._read_totals())
            batch = exposure_delta(totals, self._sent)
            if not batch:
                return True
            body = {"appName": self._app_name, "instanceId": self._instance_id, "flags": batch}
            try:
                content = json_body(body)
            except (TypeError, ValueError) as error:
                # Never sendable: drop it, or it would block every batch after it.
                self._sent = totals
                log.error("shipwise: exposure counts not sent, they cannot be encoded: %s", error)
                return False
            try:
                response = self._http.post(METRICS_PATH, content=content, headers=JSON_HEADERS)
            except httpx.HTTPError as error:
                self._health.fail(f"{describe(error)}; the counts will go with the next batch")
                return False
            if response.is_success:
                self._sent = totals
                self._health.ok(f"{len(batch)} flags sent")
                return True
            problem = refusal(response) or f"{METRICS_PATH} answered {response.status_code}"
            if response.status_code in {400, 413, 422}:
                # The server will never take this batch: drop it rather than resend it forever.
                self._sent = totals
                log.error("shipwise: the server rejected a batch of exposure counts: %s", problem)
                return False
            self._health.fail(f"{problem}; the counts will go with the next batch")
            return False
