"""Shipwise's own snapshot format: versioned JSON that the server publishes, SDKs cache
on disk and ``Client.offline`` reads. Documented in ``docs/snapshot-format.md``.

    {
      "format": "shipwise-snapshot",
      "version": 1,
      "revision": "42",              optional, opaque to the engine
      "environment": "production",   optional
      "segments": [{"id": 1, "name": "beta-testers", "constraints": [...]}],
      "flags": [{"key": "new-checkout", "kind": "release", "enabled": true,
                 "strategies": [...], "variants": [...], "dependencies": [...]}]
    }

Strategies, constraints, segments and variants have the Unleash shapes, so rules read
the same in both formats. A reader refuses a newer major ``version`` rather than guess.
"""

from __future__ import annotations

import json
from typing import Any

from shipwise.engine._parse import dump_flag, dump_segment, parse_flag, parse_segment
from shipwise.engine._reading import Reading
from shipwise.engine.errors import SnapshotError
from shipwise.engine.model import Flag, FlagState, Segment

FORMAT_NAME = "shipwise-snapshot"
FORMAT_VERSION = 1


def load_snapshot(document: object) -> FlagState:
    """Read a snapshot from a parsed JSON object or from JSON text."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise SnapshotError("snapshot", "", f"is not valid JSON: {error}") from None
    reading = Reading(document, "snapshot")
    if reading.string("format", required=True) != FORMAT_NAME:
        reading.fail("format", f"expected {FORMAT_NAME!r}, got {reading.data['format']!r}")
    version = reading.integer("version")
    if version != FORMAT_VERSION:
        reading.fail("version", f"this Shipwise reads version {FORMAT_VERSION}, got {version}")
    flags = {}
    for index, item in enumerate(reading.items("flags")):
        flag = parse_flag(item, index, name_key="key", kind_key="kind")
        if flag.name in flags:
            Reading(item, f"flag {flag.name!r}").fail("key", "appears twice in the snapshot")
        flags[flag.name] = flag
    segments = {}
    for index, item in enumerate(reading.items("segments")):
        segment = parse_segment(item, index)
        segments[segment.id] = segment
    revision = reading.data.get("revision")
    return FlagState(
        flags=flags,
        segments=segments,
        revision=None if revision is None else str(revision),
        environment=reading.string("environment"),
    )


def dump_snapshot(state: FlagState) -> dict[str, Any]:
    """The canonical snapshot document: flags sorted by key, segments by id."""
    document: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if state.revision is not None:
        document["revision"] = state.revision
    if state.environment is not None:
        document["environment"] = state.environment
    document["segments"] = [dump_segment(state.segments[i]) for i in sorted(state.segments)]
    document["flags"] = [
        dump_flag(state.flags[key], name_key="key", kind_key="kind") for key in sorted(state.flags)
    ]
    return document


def load_flag(document: object) -> Flag:
    """One flag in the snapshot's flag shape (``key``, ``kind``, ``enabled``, …)."""
    return parse_flag(document, 0, name_key="key", kind_key="kind")


def dump_flag_document(flag: Flag) -> dict[str, Any]:
    return dump_flag(flag, name_key="key", kind_key="kind")


def load_segment(document: object) -> Segment:
    return parse_segment(document, 0)


def dump_segment_document(segment: Segment) -> dict[str, Any]:
    return dump_segment(segment)
