"""Shipwise's flag evaluation engine: snapshot in, decision out.

Pure: the standard library, a fast hash and RE2 (linear-time regular expressions) only.
Semantics follow the Unleash client specification (6.1.0), so flags behave the same in
every Unleash-compatible SDK. Shared by the SDK, the server and the dashboard, so there
is exactly one evaluator.
"""

from shipwise.engine.errors import SnapshotError
from shipwise.engine.evaluation import Explanation, Reason, StrategyTrace, VariantSource
from shipwise.engine.model import (
    Constraint,
    Dependency,
    Flag,
    FlagState,
    Override,
    Payload,
    Segment,
    Strategy,
    VariantDefinition,
)
from shipwise.engine.snapshot import Snapshot
from shipwise.engine.snapshot_format import (
    dump_flag_document,
    dump_segment_document,
    dump_snapshot,
    load_flag,
    load_segment,
    load_snapshot,
)
from shipwise.engine.strategies import StrategyEnvironment
from shipwise.engine.unleash_format import (
    apply_unleash_events,
    state_from_unleash,
    state_to_unleash,
)
from shipwise.engine.variants import Variant

__all__ = [
    "Constraint",
    "Dependency",
    "Explanation",
    "Flag",
    "FlagState",
    "Override",
    "Payload",
    "Reason",
    "Segment",
    "Snapshot",
    "SnapshotError",
    "Strategy",
    "StrategyEnvironment",
    "StrategyTrace",
    "Variant",
    "VariantDefinition",
    "VariantSource",
    "apply_unleash_events",
    "dump_flag_document",
    "dump_segment_document",
    "dump_snapshot",
    "load_flag",
    "load_segment",
    "load_snapshot",
    "state_from_unleash",
    "state_to_unleash",
]
