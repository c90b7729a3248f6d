"""Evaluation on the server, for the SDK APIs that ask for answers rather than rules: the
Unleash frontend API and OFREP (the OpenFeature Remote Evaluation Protocol).

Requests bring a context in their protocol's shape; it becomes the engine's (Unleash)
context here. Answers come from the environment's compiled snapshot, never from the
database. ``Evaluator`` is built once per published snapshot and answers the hot paths
with one compiled call per flag (``is_on`` for flags without variants), the reason
following from the flag's shape; only single-flag evaluations pay for the engine's full
``explain`` (the reason in words). Evaluation never raises: a flag that fails is off (the
frontend API) or gives the code default with the reason ``ERROR`` (OFREP).

    ContextError (ValueError)   a context the protocol does not allow; the message names
                                the field, for a 400 INVALID_CONTEXT

How OFREP reads Shipwise's flags (the OFREP response carries no type, ADR-0003):

    value      a flag without variants: ``enabled`` (true/false). A flag with variants:
               the chosen variant's payload (``string``/``csv`` as text, ``number`` as a
               number, ``json`` parsed), or the variant's name when it has no payload; when
               no variant is chosen (flag off, no strategy matched) there is no value, so
               the provider uses the code default (ADR-0006).
    variant    the variant's name, ``disabled`` when none was chosen (as in Unleash).
    reason     DISABLED      the flag is off in this environment
               STATIC        on for everyone: no strategies
               TARGETING_MATCH  a strategy matched (constraints, segments, user ids) or a
                             variant override pinned the variant
               SPLIT         a percentage rollout let the context in, or weighted variants
                             picked the variant by hash
               DEFAULT       the flag is on, but no strategy matched or a dependency is unmet
               ERROR         evaluation failed, or the variant's payload does not parse; no
                             value (the code default), ``errorCode`` says which
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from shipwise.engine import Explanation, Reason, Snapshot, Variant, VariantSource
from shipwise.engine.compiler import CompiledFlag, CompiledStrategy
from shipwise.engine.context import as_text
from shipwise.engine.variants import DISABLED as NO_VARIANT
from shipwise.engine.variants import DISABLED_FEATURE_ON as NO_VARIANT_FEATURE_ON

ROOT_FIELDS = frozenset(
    {"userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime"}
)
_PROPERTY_KEY = re.compile(r"properties\[([^\]]+)\]\Z")
_INTEGER = re.compile(r"[-+]?\d+\Z")


class OpenFeatureReason(StrEnum):
    """Why a flag has its value, in OpenFeature's words (see the module docstring)."""

    STATIC = "STATIC"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    DEFAULT = "DEFAULT"
    ERROR = "ERROR"


class ErrorCode(StrEnum):
    """OpenFeature's error codes, those the server gives."""

    PARSE_ERROR = "PARSE_ERROR"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    GENERAL = "GENERAL"


STATIC, TARGETING_MATCH, SPLIT, DISABLED, DEFAULT, ERROR = OpenFeatureReason


class ContextError(ValueError):
    """An evaluation context the protocol does not allow."""


# -- contexts ------------------------------------------------------------------------


def frontend_context(
    fields: Iterable[tuple[str, Any]], client_address: str | None
) -> dict[str, Any]:
    """The Unleash frontend API's context, from query parameters or a POST's ``context``.

    As Unleash builds it (``enrichContextWithIp``, ``createContext``): the root fields stay
    at the top, ``properties[name]`` parameters, a ``properties`` object and every other
    field become properties, empty root fields are dropped, ``remoteAddress`` defaults to
    the caller's address and ``sessionId`` to a random one, so a rollout without a
    ``userId`` is a fresh draw per request.
    """
    context: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    nested: Mapping[str, Any] | None = None
    for key, value in fields:
        if key in ROOT_FIELDS:
            if value is not None and value != "":
                context[key] = value
        elif key == "properties":
            if isinstance(value, Mapping):
                nested = value
        elif key.startswith("properties["):
            match = _PROPERTY_KEY.match(key)
            properties[match.group(1) if match else key] = value
        else:
            properties[key] = value
    if nested:
        properties.update(nested)  # the explicit object wins, as Object.assign does
    if "remoteAddress" not in context and client_address:
        context["remoteAddress"] = client_address
    if "sessionId" not in context:
        context["sessionId"] = os.urandom(18).hex()
    context["properties"] = properties
    return context


def _text(value: Any) -> str | None:
    """A context value as the text constraints compare: JSON for objects and lists."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return as_text(value)


def ofrep_context(context: object) -> dict[str, Any]:
    """The engine's context for an OFREP ``context``.

    ``targetingKey`` becomes ``userId`` (it wins over a ``userId`` attribute, as in
    Unleash's own OpenFeature provider); ``sessionId``, ``remoteAddress``, ``environment``,
    ``appName``, ``currentTime`` stay fields; everything else becomes a property, as
    text (``true``/``false``, numbers as written, objects and lists as JSON). A
    ``properties`` object is merged in, for callers that send Unleash's shape.
    """
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ContextError(f"context must be a JSON object, got {type(context).__name__}")
    out: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    targeting_key = None
    for key, value in context.items():
        if value is None:
            continue
        if key == "targetingKey":
            if not isinstance(value, str):
                raise ContextError(f"context.targetingKey must be a string, got {value!r}")
            targeting_key = value
        elif key in ROOT_FIELDS:
            text = _text(value)
            if text:
                out[key] = text
        elif key == "properties" and isinstance(value, dict):
            for name, item in value.items():
                if item is not None:
                    properties[name] = _text(item)
        else:
            properties[key] = _text(value)
    if targeting_key:
        out["userId"] = targeting_key
    if properties:
        out["properties"] = properties
    return out


# -- results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One flag's answer for one context, in OpenFeature's terms."""

    key: str
    variant: Variant
    reason: OpenFeatureReason
    has_variants: bool  # the flag defines variants, so its value is a variant's payload
    engine_reason: Reason | None = None  # the engine's own reason, when it explained
    message: str | None = None  # the engine's explanation, when it explained
    error: str | None = None  # why evaluation failed (reason ERROR)


@dataclass(frozen=True, slots=True)
class Value:
    """What OFREP sends as ``value``: none (the code default) or a JSON value; or the
    error that stopped it, e.g. a ``json`` payload that does not parse."""

    present: bool
    value: object = None
    error_code: ErrorCode | None = None
    error: str | None = None


NO_VALUE = Value(False)


def _payload_value(variant: Variant) -> Value:
    payload = variant.payload
    if payload is None:
        return Value(True, variant.name)
    kind, text = payload.get("type"), payload.get("value", "")
    if kind == "json":
        try:
            return Value(True, json.loads(text))
        except ValueError as error:
            return Value(False, None, ErrorCode.PARSE_ERROR, f"variant {variant.name!r}: {error}")
    if kind == "number":
        try:
            number = int(text) if _INTEGER.match(text.strip()) else float(text)
        except ValueError:
            number = math.nan
        if isinstance(number, float) and not math.isfinite(number):
            problem = f"variant {variant.name!r}: payload {text!r} is not a number"
            return Value(False, None, ErrorCode.PARSE_ERROR, problem)
        return Value(True, number)
    return Value(True, text)


def ofrep_value(outcome: Outcome) -> Value:
    """The OFREP value of an outcome (see the module docstring for the mapping)."""
    if outcome.reason == ERROR:
        return Value(False, None, ErrorCode.GENERAL, outcome.error or "evaluation failed")
    if not outcome.has_variants:
        return Value(True, outcome.variant.feature_enabled)
    if not outcome.variant.enabled:
        return NO_VALUE
    return _payload_value(outcome.variant)


def _is_split(strategy: CompiledStrategy) -> bool:
    percentage = strategy.activation.percentage
    return percentage is not None and percentage < 100


_REASONS_WHEN_OFF = {Reason.FLAG_OFF: DISABLED, Reason.UNKNOWN_FLAG: DEFAULT, Reason.ERROR: ERROR}


def reason_of(explanation: Explanation, strategy_split: bool) -> OpenFeatureReason:
    """The OpenFeature reason for the engine's explanation. ``strategy_split``: the strategy
    that matched (if one did) is a percentage rollout below 100%."""
    if not explanation.enabled or explanation.reason in _REASONS_WHEN_OFF:
        return _REASONS_WHEN_OFF.get(explanation.reason, DEFAULT)
    source = explanation.variant_source
    if source is VariantSource.OVERRIDE:
        return TARGETING_MATCH
    if source is not VariantSource.NONE:
        return SPLIT
    if explanation.reason is Reason.NO_STRATEGIES:
        return STATIC
    return SPLIT if strategy_split else TARGETING_MATCH


class FlagProfile:
    """What one compiled flag's outcomes can be, worked out once per snapshot so that most
    answers need one compiled call: ``variant(context)`` gives on/off and the variant,
    and the reason follows from the flag's shape."""

    __slots__ = ("exact", "flag", "has_variants", "key", "mixed", "on_reason", "strategies")

    def __init__(self, flag: CompiledFlag) -> None:
        definition = flag.definition
        self.flag = flag
        self.key = flag.name
        self.strategies = flag.strategies
        self.has_variants = bool(definition.variants) or any(
            s.variants for s in definition.strategies if not s.disabled
        )
        overrides = any(v.overrides for v in definition.variants) or any(
            v.overrides for s in definition.strategies for v in s.variants
        )
        # Overrides make a chosen variant TARGETING_MATCH rather than SPLIT, which only
        # the engine's explain can tell apart; such flags take that (slower) path.
        self.exact = not overrides
        splits = {_is_split(s) for s in flag.strategies}
        self.mixed = len(splits) > 1  # which strategy matched decides the reason
        if not flag.strategies:
            self.on_reason = STATIC
        else:
            self.on_reason = SPLIT if splits == {True} else TARGETING_MATCH

    def variant(self, context: Mapping[str, Any]) -> Variant:
        """The flag's variant; for a flag without variants, from the cheaper ``is_on``
        (its variant is always "disabled", with ``feature_enabled`` saying on or off)."""
        if self.has_variants:
            return self.flag.variant(context)
        return NO_VARIANT_FEATURE_ON if self.flag.is_on(context) else NO_VARIANT

    def on_reason_for(self, context: Mapping[str, Any]) -> OpenFeatureReason:
        if not self.mixed:
            return self.on_reason
        for strategy in self.strategies:
            if strategy.matches(context):
                return SPLIT if _is_split(strategy) else TARGETING_MATCH
        return SPLIT  # a random draw let it in, and another one now keeps it out


# (the flag, its variant, the OpenFeature reason, the explained outcome if one was needed)
Decision = tuple[FlagProfile, Variant, OpenFeatureReason, Outcome | None]


class Evaluator:
    """Answers for every flag of one compiled snapshot; built once per snapshot."""

    __slots__ = ("_by_key", "profiles", "snapshot")

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.profiles = tuple(FlagProfile(snapshot.flags[key]) for key in sorted(snapshot.flags))
        self._by_key = {p.key: p for p in self.profiles}

    def has(self, key: str) -> bool:
        return key in self._by_key

    def variants(self, context: Mapping[str, Any]) -> list[tuple[FlagProfile, Variant]]:
        """Every flag's variant for ``context`` (``feature_enabled`` says whether it is
        on); a flag that fails to evaluate is off, as in Unleash's SDKs."""
        out = []
        for profile in self.profiles:
            try:
                variant = profile.variant(context)
            except Exception:
                variant = self.snapshot.explain(profile.key, context).variant
            out.append((profile, variant))
        return out

    def decide(self, profile: FlagProfile, context: Mapping[str, Any]) -> Decision:
        """One flag's variant and OpenFeature reason by the fast path; the outcome too
        when the engine had to explain (variant overrides, or evaluation failed)."""
        if not profile.exact:
            return self._explained(profile, context)
        try:
            variant = profile.variant(context)
            if not variant.feature_enabled:
                reason = DEFAULT if profile.flag.definition.enabled else DISABLED
            elif variant.enabled:
                reason = SPLIT
            else:
                reason = profile.on_reason_for(context)
        except Exception:
            return self._explained(profile, context)  # which says what failed
        return profile, variant, reason, None

    def _explained(self, profile: FlagProfile, context: Mapping[str, Any]) -> Decision:
        outcome = self.explain(profile.key, context)
        return profile, outcome.variant, outcome.reason, outcome

    def decide_all(self, context: Mapping[str, Any]) -> list[Decision]:
        decide = self.decide
        return [decide(profile, context) for profile in self.profiles]

    def explain(self, key: str, context: Mapping[str, Any]) -> Outcome:
        """One flag's outcome with the engine's reason and explanation; unknown flags give
        the reason DEFAULT (the API answers FLAG_NOT_FOUND before asking)."""
        profile = self._by_key.get(key)
        explanation = self.snapshot.explain(key, context)
        split = False
        if profile is not None and explanation.strategy is not None:
            split = any(
                s.index == explanation.strategy and _is_split(s) for s in profile.strategies
            )
        return Outcome(
            key,
            explanation.variant,
            reason_of(explanation, split),
            profile.has_variants if profile is not None else False,
            explanation.reason,
            explanation.message,
            explanation.error,
        )


# -- per-snapshot caches -------------------------------------------------------------

T = TypeVar("T")


class PerSnapshot(Generic[T]):
    """One ``T`` per environment, built from its compiled snapshot and rebuilt when the
    environment publishes a new one. The snapshot is compared by identity, so servers
    sharing a process (as tests do) never see each other's."""

    def __init__(self, build: Callable[[Snapshot], T]) -> None:
        self._build = build
        self._entries: dict[int, tuple[Snapshot, T]] = {}

    def get(self, environment_id: int, snapshot: Snapshot) -> T:
        entry = self._entries.get(environment_id)
        if entry is not None and entry[0] is snapshot:
            return entry[1]
        value = self._build(snapshot)
        self._entries[environment_id] = (snapshot, value)
        return value


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong) or is ``*``."""
    if not if_none_match:
        return False
    return any(tag.strip() in {etag, f"W/{etag}", "*"} for tag in if_none_match.split(","))
