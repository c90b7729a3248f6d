"""Usage metrics that SDKs send: exposures per flag and variant, per environment."""

from __future__ import annotations

from collections.abc import Mapping

from shipwise.server.ports import ExposureCount, ExposureStore, StoreOf

MAX_FLAGS_PER_BATCH = 10_000


class MetricsService:
    def __init__(self, store: StoreOf[ExposureStore]) -> None:
        self._store = store

    def record_exposures(
        self,
        environment_id: int,
        app_name: str | None,
        counts: Mapping[str, tuple[int, int, Mapping[str, int]]],
    ) -> int:
        """Store one batch; returns how many flags it counted. Empty counts are dropped."""
        kept = {
            flag: ExposureCount(yes, no, dict(variants))
            for flag, (yes, no, variants) in list(counts.items())[:MAX_FLAGS_PER_BATCH]
            if yes or no
        }
        if not kept:
            return 0
        # A write without audit: metrics are observations, not changes to anything.
        with self._store.transaction() as tx:
            return tx.add_exposures(environment_id, app_name, kept)

    def totals(self, environment_id: int) -> dict[str, ExposureCount]:
        with self._store.read() as tx:
            return tx.exposure_totals(environment_id)
