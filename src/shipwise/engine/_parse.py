"""JSON objects → model values, shared by the Unleash and the Shipwise formats.

The two formats share the inner shapes (strategies, constraints, segments, variants use
the documented Unleash field names); they differ only in the envelope and in what a flag
is called (``name`` vs ``key``, ``type`` vs ``kind``). Structural mistakes raise
``SnapshotError``; semantic oddities the Unleash specification defines (an unknown
operator, an invalid regex, an unknown strategy) load fine and evaluate as it says.
"""

from __future__ import annotations

from typing import Any

from shipwise.engine._reading import Reading
from shipwise.engine.model import (
    Constraint,
    Dependency,
    Flag,
    Override,
    ParameterValue,
    Payload,
    Segment,
    Strategy,
    VariantDefinition,
)


def _text_values(reading: Reading, key: str) -> tuple[str, ...]:
    """Constraint values are strings; numbers are accepted and read as their text."""
    values = []
    for index, item in enumerate(reading.items(key)):
        if isinstance(item, str):
            values.append(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            values.append(str(item))
        else:
            reading.fail(f"{key}[{index}]", f"expected a string, got {item!r}")
    return tuple(values)


def parse_constraint(reading: Reading) -> Constraint:
    value = reading.data.get("value")
    if value is not None and not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            reading.fail("value", f"expected a string, got {value!r}")
    return Constraint(
        context_name=reading.string("contextName", required=True),
        operator=reading.string("operator", required=True),
        values=_text_values(reading, "values"),
        value=value,
        inverted=reading.boolean("inverted"),
        case_insensitive=reading.boolean("caseInsensitive"),
    )


def parse_segment(data: object, index: int) -> Segment:
    reading = Reading(data, f"segment #{index}")
    segment_id = reading.integer("id")
    reading = Reading(data, f"segment {segment_id}")
    return Segment(
        id=segment_id,
        name=reading.string("name"),
        constraints=tuple(parse_constraint(r) for r in reading.objects("constraints")),
    )


def parse_variant(reading: Reading) -> VariantDefinition:
    payload = None
    if reading.data.get("payload") is not None:
        raw = Reading(reading.data["payload"], reading.where, f"{reading.path}.payload")
        value = raw.data.get("value")
        if not isinstance(value, str):
            # Unleash always sends payload values as strings; JSON payloads arrive encoded.
            raw.fail("value", f"expected a string, got {value!r}")
        payload = Payload(type=raw.string("type", required=True), value=value)
    weight = reading.integer("weight", required=False, default=0)
    if weight < 0:
        reading.fail("weight", f"must not be negative, got {weight}")
    return VariantDefinition(
        name=reading.string("name", required=True),
        weight=weight,
        payload=payload,
        stickiness=reading.string("stickiness"),
        overrides=tuple(
            Override(
                context_name=o.string("contextName", required=True),
                values=_text_values(o, "values"),
            )
            for o in reading.objects("overrides")
        ),
    )


def _parameters(reading: Reading) -> dict[str, ParameterValue]:
    parameters: dict[str, ParameterValue] = {}
    for key, value in reading.mapping("parameters").items():
        if value is None:
            continue
        if not isinstance(value, str | int | float | bool):
            reading.fail(f"parameters.{key}", f"expected a string or number, got {value!r}")
        parameters[str(key)] = value
    return parameters


def parse_strategy(reading: Reading) -> Strategy:
    segments = []
    for index, item in enumerate(reading.items("segments")):
        if isinstance(item, bool) or not isinstance(item, int):
            reading.fail(
                f"segments[{index}]", f"expected a segment id (a whole number), got {item!r}"
            )
        segments.append(item)
    return Strategy(
        name=reading.string("name", required=True),
        parameters=_parameters(reading),
        constraints=tuple(parse_constraint(r) for r in reading.objects("constraints")),
        segments=tuple(segments),
        variants=tuple(parse_variant(r) for r in reading.objects("variants")),
        title=reading.string("title"),
        disabled=reading.boolean("disabled"),
    )


def parse_dependency(reading: Reading) -> Dependency:
    return Dependency(
        feature=reading.string("feature", required=True),
        enabled=reading.boolean("enabled", default=True),
        variants=reading.strings("variants"),
    )


def parse_flag(data: object, index: int, *, name_key: str, kind_key: str) -> Flag:
    reading = Reading(data, f"flag #{index}")
    name = reading.string(name_key, required=True)
    reading = Reading(data, f"flag {name!r}")
    return Flag(
        name=name,
        enabled=reading.boolean("enabled", required=True),
        strategies=tuple(parse_strategy(r) for r in reading.objects("strategies")),
        variants=tuple(parse_variant(r) for r in reading.objects("variants")),
        dependencies=tuple(parse_dependency(r) for r in reading.objects("dependencies")),
        kind=reading.string(kind_key, default="release"),
        description=reading.string("description"),
        project=reading.string("project"),
        impression_data=reading.boolean("impressionData"),
    )


def dump_constraint(constraint: Constraint) -> dict[str, Any]:
    out: dict[str, Any] = {"contextName": constraint.context_name, "operator": constraint.operator}
    if constraint.values:
        out["values"] = list(constraint.values)
    if constraint.value is not None:
        out["value"] = constraint.value
    if constraint.inverted:
        out["inverted"] = True
    if constraint.case_insensitive:
        out["caseInsensitive"] = True
    return out


def dump_segment(segment: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {"id": segment.id}
    if segment.name is not None:
        out["name"] = segment.name
    out["constraints"] = [dump_constraint(c) for c in segment.constraints]
    return out


def dump_variant(variant: VariantDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {"name": variant.name, "weight": variant.weight}
    if variant.payload is not None:
        out["payload"] = {"type": variant.payload.type, "value": variant.payload.value}
    if variant.stickiness is not None:
        out["stickiness"] = variant.stickiness
    if variant.overrides:
        out["overrides"] = [
            {"contextName": o.context_name, "values": list(o.values)} for o in variant.overrides
        ]
    return out


def dump_strategy(strategy: Strategy) -> dict[str, Any]:
    out: dict[str, Any] = {"name": strategy.name}
    if strategy.title is not None:
        out["title"] = strategy.title
    if strategy.disabled:
        out["disabled"] = True
    if strategy.parameters:
        out["parameters"] = dict(strategy.parameters)
    if strategy.constraints:
        out["constraints"] = [dump_constraint(c) for c in strategy.constraints]
    if strategy.segments:
        out["segments"] = list(strategy.segments)
    if strategy.variants:
        out["variants"] = [dump_variant(v) for v in strategy.variants]
    return out


def dump_flag(flag: Flag, *, name_key: str, kind_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {name_key: flag.name, kind_key: flag.kind, "enabled": flag.enabled}
    if flag.description is not None:
        out["description"] = flag.description
    if flag.project is not None:
        out["project"] = flag.project
    if flag.impression_data:
        out["impressionData"] = True
    out["strategies"] = [dump_strategy(s) for s in flag.strategies]
    if flag.variants:
        out["variants"] = [dump_variant(v) for v in flag.variants]
    if flag.dependencies:
        deps = []
        for d in flag.dependencies:
            dep: dict[str, Any] = {"feature": d.feature}
            if not d.enabled:
                dep["enabled"] = False
            if d.variants:
                dep["variants"] = list(d.variants)
            deps.append(dep)
        out["dependencies"] = deps
    return out
