"""The Unleash client API format: ``/api/client/features`` documents and delta events.

    {"version": 2, "features": [...], "segments": [...]}            a full state
    {"events": [{"type": "hydration", ...}, {"type": "feature-updated", ...}]}   deltas

Shipwise reads both, so Unleash states (and the Unleash client specification) load
unchanged, and writes the first, so Unleash SDKs can read Shipwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipwise.engine._parse import dump_flag, dump_segment, parse_flag, parse_segment
from shipwise.engine._reading import Reading
from shipwise.engine.errors import SnapshotError
from shipwise.engine.model import Flag, FlagState, Segment


def _flag(data: object, index: int) -> Flag:
    return parse_flag(data, index, name_key="name", kind_key="type")


def _segments(items: list[Any]) -> dict[int, Segment]:
    segments = {}
    for index, item in enumerate(items):
        segment = parse_segment(item, index)
        segments[segment.id] = segment
    return segments


def state_from_unleash(document: object) -> FlagState:
    """Parse a features document, or replay delta events onto an empty state."""
    reading = Reading(document, "unleash state")
    if "events" in reading.data and "features" not in reading.data:
        return apply_unleash_events(FlagState(), reading.items("events"))
    flags = {}
    for index, item in enumerate(reading.items("features")):
        flag = _flag(item, index)
        flags[flag.name] = flag
    return FlagState(flags=flags, segments=_segments(reading.items("segments")))


def apply_unleash_events(state: FlagState, events: list[Any]) -> FlagState:
    """Apply delta-API events in order and return the new state (``state`` is untouched)."""
    flags: dict[str, Flag] = dict(state.flags)
    segments: dict[int, Segment] = dict(state.segments)
    for index, raw in enumerate(events):
        event = Reading(raw, f"event #{index}")
        kind = event.string("type", required=True)
        if kind == "hydration":
            flags = {}
            for position, item in enumerate(event.items("features")):
                flag = _flag(item, position)
                flags[flag.name] = flag
            segments = _segments(event.items("segments"))
        elif kind == "feature-updated":
            flag = _flag(event.data.get("feature"), 0)
            flags[flag.name] = flag
        elif kind == "feature-removed":
            flags.pop(event.string("featureName", required=True), None)
        elif kind == "segment-updated":
            segment = parse_segment(event.data.get("segment"), 0)
            segments[segment.id] = segment
        elif kind == "segment-removed":
            segments.pop(event.integer("segmentId"), None)
        else:
            raise SnapshotError(f"event #{index}", "type", f"unknown delta event type {kind!r}")
    return FlagState(flags=flags, segments=segments)


def state_to_unleash(state: FlagState) -> dict[str, Any]:
    features: list[Mapping[str, Any]] = [
        dump_flag(state.flags[name], name_key="name", kind_key="type")
        for name in sorted(state.flags)
    ]
    return {
        "version": 2,
        "features": features,
        "segments": [dump_segment(state.segments[i]) for i in sorted(state.segments)],
    }
