"""The audit log's hash chain: each record commits to the one before it, so editing or
deleting any record breaks every hash after it. Pure: records in, findings out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def record_hash(previous: str, fields: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the record's canonical JSON."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedRecord:
    id: int
    previous_hash: str
    hash: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ChainBreak:
    record_id: int
    problem: str


def verify_chain(records: Iterable[ChainedRecord]) -> list[ChainBreak]:
    """Every break in the chain, in order. Records must come in id order."""
    breaks = []
    expected_previous = GENESIS
    for record in records:
        if record.previous_hash != expected_previous:
            breaks.append(
                ChainBreak(record.id, "does not follow the record before it (one was deleted?)")
            )
        if record_hash(record.previous_hash, record.fields) != record.hash:
            breaks.append(ChainBreak(record.id, "its content does not match its hash (edited?)"))
        expected_previous = record.hash
    return breaks
