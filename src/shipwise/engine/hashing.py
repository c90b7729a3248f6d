"""Stable bucketing: the MurmurHash3 scheme every Unleash SDK shares, so a user lands
in the same bucket whichever SDK, server or language evaluates the flag.

Total over every Python ``str``: the text is hashed as its UTF-8 bytes, encoded with
``surrogatepass``, so a lone surrogate (``"\\ud800"``, which no UTF-8 text can hold but a
Python string or a JSON ``"\\ud800"`` escape can) hashes as the three bytes CPython's
``surrogatepass`` gives it (``ED A0 80``) instead of reaching ``mmh3``'s string path,
which crashes the process on it. Every other string gives exactly the bytes ``mmh3``
hashed before, so no bucket moves.
"""

from __future__ import annotations

from collections.abc import Callable

import mmh3

VARIANT_SEED = 86028157
# (data, seed, signed) -> int, bound once for the hot path
_murmur3: Callable[[str | bytes, int, bool], int] = mmh3.hash


def hash32(text: str, seed: int = 0, signed: bool = True) -> int:
    """MurmurHash3 (x86, 32-bit) of ``text``'s UTF-8 bytes, as ``mmh3.hash`` computes it
    for valid text; a lone surrogate is hashed as its ``surrogatepass`` bytes."""
    # ASCII text (nearly every id) cannot hold a surrogate, and mmh3's own str path is
    # ~40 ns faster than encoding here; anything else is encoded first.
    if text.isascii():
        return _murmur3(text, seed, signed)
    return _murmur3(text.encode("utf-8", "surrogatepass"), seed, signed)


def bucket(group_id: str, identifier: str, normalizer: int = 100, seed: int = 0) -> int:
    """1..normalizer: ``identifier``'s position within ``group_id``."""
    return hash32(f"{group_id}:{identifier}", seed, False) % normalizer + 1
