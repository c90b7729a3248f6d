"""Stable bucketing: the MurmurHash3 scheme every Unleash SDK shares, so a user lands
in the same bucket whichever SDK, server or language evaluates the flag."""

from __future__ import annotations

import mmh3

VARIANT_SEED = 86028157
hash32 = mmh3.hash  # (text, seed, signed) -> int; bound once for the hot path


def bucket(group_id: str, identifier: str, normalizer: int = 100, seed: int = 0) -> int:
    """1..normalizer: ``identifier``'s position within ``group_id``."""
    return int(hash32(f"{group_id}:{identifier}", seed, False)) % normalizer + 1
