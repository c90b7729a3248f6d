"""The nearest-rank position of a quantile, shared by every store adapter so the memory
store, SQLite and PostgreSQL pick the same value."""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["nearest_rank"]


def nearest_rank(count: int, quantile: float) -> int:
    """The 0-based position of the ``quantile`` among ``count`` sorted values, by the
    nearest-rank method (p75 of 4 values is the 3rd): ceil(q·n) - 1, within bounds.

    ``q`` is taken as the decimal it is written as (``0.55`` is 55/100): in binary
    floating point 0.55 is a hair above, and ceil(0.55 · 100) would be 56, not 55."""
    if not math.isfinite(quantile):
        raise ValueError(f"a quantile is a number from 0 to 1, got {quantile}")
    rank = math.ceil(Fraction(str(quantile)) * count)
    return min(max(rank - 1, 0), count - 1)
