"""How often SDKs saw each flag on and off (their metrics posts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ExposureCount:
    yes: int
    no: int
    variants: Mapping[str, int]


class ExposureStore(Protocol):
    def add_exposures(
        self, environment_id: int, app_name: str | None, counts: Mapping[str, ExposureCount]
    ) -> int:
        """Keep one batch (stamped with the store's clock); how many flags it counted."""
        ...

    def exposure_totals(self, environment_id: int) -> dict[str, ExposureCount]:
        """By flag, over every batch, variants included."""
        ...

    def exposures_since(self, environment_id: int, flag: str, since: datetime) -> ExposureCount:
        """One flag's batches received at or after ``since`` (no variants)."""
        ...
