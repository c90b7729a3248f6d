"""An OpenFeature provider backed by a Shipwise ``Client`` (needs ``openfeature-sdk``).

    from openfeature import api
    from shipwise import Client
    from shipwise.sdk.openfeature import ShipwiseProvider

    api.set_provider(ShipwiseProvider(Client(url, sdk_key)))
    api.get_client().get_boolean_value("new-checkout", False, EvaluationContext("42"))

Booleans are the flag's on/off, exactly as ``Client.is_enabled``. Strings, integers,
floats and objects come from the payload of the variant ``Client.get_variant`` would
serve (a string flag whose variant has no payload resolves to the variant's name); a
flag that is off, or serves no variant, gives the caller's default. The engine's reason
becomes OpenFeature's reason and error code, with the Shipwise reason in the flag
metadata (``shipwiseReason``). An evaluation context becomes a Shipwise context: the
targeting key is ``userId``; the Unleash standard fields (``sessionId``,
``remoteAddress``, ``environment``, ``appName``, ``currentTime``) stay top-level; every
other attribute goes into ``properties``.

Only this module imports ``openfeature``: ``import shipwise`` never needs it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

try:
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.event import ProviderEventDetails
    from openfeature.exception import ErrorCode, ProviderNotReadyError
    from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType
    from openfeature.flag_evaluation import Reason as OpenFeatureReason
    from openfeature.provider import AbstractProvider, Metadata
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError(
        "shipwise.sdk.openfeature needs the OpenFeature SDK: pip install openfeature-sdk"
    ) from error

from shipwise.engine import Explanation, FlagState, Reason, Snapshot, Variant, VariantSource
from shipwise.engine.context import STANDARD_FIELDS
from shipwise.sdk._client import Client

T = TypeVar("T")
ObjectValue = Sequence[FlagValueType] | Mapping[str, FlagValueType]

# The value is the flag's own answer, so these are not errors: why the value is what it is.
_REASONS: Mapping[Reason, str] = {
    Reason.STRATEGY_MATCH: OpenFeatureReason.TARGETING_MATCH,
    Reason.NO_STRATEGIES: OpenFeatureReason.STATIC,
    Reason.NO_STRATEGY_MATCHED: OpenFeatureReason.DEFAULT,
    Reason.DEPENDENCY_UNMET: OpenFeatureReason.DEFAULT,
    Reason.FLAG_OFF: OpenFeatureReason.DISABLED,
}


class _Mismatch(Exception):
    """A variant's payload cannot be the type asked for."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def shipwise_context(context: EvaluationContext | None) -> dict[str, Any]:
    """The Shipwise context for an OpenFeature evaluation context."""
    if context is None:
        return {}
    result: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for name, value in context.attributes.items():
        (result if name in STANDARD_FIELDS else properties)[name] = _plain(value)
    if context.targeting_key:
        result["userId"] = context.targeting_key
    if properties:
        result["properties"] = properties
    return result


def _plain(value: object) -> object:
    """Context values as the engine reads them: scalars as they are, times in ISO 8601,
    lists and maps as JSON text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))


def _payload_text(variant: Variant, flag: str, wanted: str) -> str:
    if variant.payload is None:
        raise _Mismatch(
            ErrorCode.TYPE_MISMATCH,
            f"variant {variant.name!r} of flag {flag!r} has no payload to read as {wanted}",
        )
    return variant.payload["value"]


def _as_string(variant: Variant, flag: str) -> str:
    return variant.name if variant.payload is None else variant.payload["value"]


def _as_integer(variant: Variant, flag: str) -> int:
    text = _payload_text(variant, flag, "an integer")
    try:
        return int(text.strip())
    except ValueError:
        raise _Mismatch(
            ErrorCode.TYPE_MISMATCH,
            f"the payload {text!r} of variant {variant.name!r} of flag {flag!r} is not an integer",
        ) from None


def _as_float(variant: Variant, flag: str) -> float:
    text = _payload_text(variant, flag, "a number")
    try:
        return float(text.strip())
    except ValueError:
        raise _Mismatch(
            ErrorCode.TYPE_MISMATCH,
            f"the payload {text!r} of variant {variant.name!r} of flag {flag!r} is not a number",
        ) from None


def _as_object(variant: Variant, flag: str) -> ObjectValue:
    text = _payload_text(variant, flag, "an object")
    try:
        value = json.loads(text)
    except ValueError as error:
        raise _Mismatch(
            ErrorCode.PARSE_ERROR,
            f"the payload of variant {variant.name!r} of flag {flag!r} is not JSON: {error}",
        ) from None
    if not isinstance(value, dict | list):
        raise _Mismatch(
            ErrorCode.TYPE_MISMATCH,
            f"the payload of variant {variant.name!r} of flag {flag!r} is JSON "
            f"{type(value).__name__}, not an object or a list",
        )
    return value


def _metadata(explanation: Explanation) -> dict[str, bool | int | float | str]:
    metadata: dict[str, bool | int | float | str] = {"shipwiseReason": explanation.reason.value}
    if explanation.strategy is not None:
        metadata["strategy"] = explanation.strategy
    return metadata


def changed_flags(previous: FlagState, current: FlagState) -> list[str]:
    """Flags whose answers may differ between two states: changed or removed flags,
    flags using a changed segment, and flags depending on any of those."""
    before, after = previous.flags, current.flags
    segments = {
        key
        for key in previous.segments.keys() | current.segments.keys()
        if previous.segments.get(key) != current.segments.get(key)
    }
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    changed |= {
        name
        for name, flag in after.items()
        if any(segment in segments for strategy in flag.strategies for segment in strategy.segments)
    }
    while True:  # dependents of changed flags, to any depth
        dependents = {
            name
            for name, flag in after.items()
            if name not in changed and any(d.feature in changed for d in flag.dependencies)
        }
        if not dependents:
            return sorted(changed)
        changed |= dependents


class ShipwiseProvider(AbstractProvider):
    """OpenFeature flags from a Shipwise client.

    ``initialize`` waits up to ``ready_timeout`` seconds for the client's first flags;
    without them it reports not ready, and announces ready when they arrive. Every new
    snapshot is announced as a configuration change naming the flags that changed.
    ``shutdown`` closes the client (sending its last exposure counts).
    """

    def __init__(self, client: Client, *, ready_timeout: float = 10.0) -> None:
        super().__init__()
        self.client = client
        self._ready_timeout = ready_timeout
        self._announce_ready = False  # initialize gave up waiting; say so when flags come
        self._state_lock = threading.Lock()

    def get_metadata(self) -> Metadata:
        return Metadata(name="shipwise")

    # -- life cycle -------------------------------------------------------------------

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        self.client._subscribe(self._snapshot_changed)
        if self.client.wait_until_ready(self._ready_timeout):
            return
        with self._state_lock:
            if self.client.wait_until_ready(0):
                return  # the flags arrived just now
            # From here the first snapshot announces READY. (Should it land in the
            # instant between this raise and the registry recording ERROR, the status
            # reads ERROR while evaluations are already right.)
            self._announce_ready = True
        raise ProviderNotReadyError(
            f"no flags from the Shipwise server after {self._ready_timeout:g} s; "
            "evaluations give defaults until they arrive"
        )

    def shutdown(self) -> None:
        self.client._unsubscribe(self._snapshot_changed)
        self.client.close()

    def _snapshot_changed(self, previous: Snapshot, current: Snapshot) -> None:
        with self._state_lock:
            announce_ready, self._announce_ready = self._announce_ready, False
        if announce_ready:
            self.emit_provider_ready(ProviderEventDetails(message="flags arrived"))
        revision = current.state.revision
        self.emit_provider_configuration_changed(
            ProviderEventDetails(
                flags_changed=changed_flags(previous.state, current.state),
                metadata={} if revision is None else {"revision": revision},
            )
        )

    # -- resolution -------------------------------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        context = shipwise_context(evaluation_context)
        explanation = self.client._explain_counted(flag_key, context, default_value, variant=False)
        failure = self._failure(explanation, default_value)
        if failure is not None:
            return failure
        return FlagResolutionDetails(
            value=explanation.enabled,
            reason=_REASONS.get(explanation.reason, OpenFeatureReason.UNKNOWN),
            flag_metadata=_metadata(explanation),
        )

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        return self._resolve_variant(flag_key, default_value, evaluation_context, _as_string)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        return self._resolve_variant(flag_key, default_value, evaluation_context, _as_integer)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        return self._resolve_variant(flag_key, default_value, evaluation_context, _as_float)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        return self._resolve_variant(flag_key, default_value, evaluation_context, _as_object)

    def _resolve_variant(
        self,
        flag_key: str,
        default_value: T,
        evaluation_context: EvaluationContext | None,
        convert: Callable[[Variant, str], T],
    ) -> FlagResolutionDetails[T]:
        context = shipwise_context(evaluation_context)
        explanation = self.client._explain_counted(flag_key, context, False, variant=True)
        failure = self._failure(explanation, default_value)
        if failure is not None:
            return failure
        variant = explanation.variant
        if not variant.enabled:  # off, no rule matched, or the flag has no variants
            off = explanation.reason is Reason.FLAG_OFF
            reason = OpenFeatureReason.DISABLED if off else OpenFeatureReason.DEFAULT
            return FlagResolutionDetails(
                value=default_value, reason=reason, flag_metadata=_metadata(explanation)
            )
        try:
            value = convert(variant, flag_key)
        except _Mismatch as mismatch:
            return FlagResolutionDetails(
                value=default_value,
                reason=OpenFeatureReason.ERROR,
                error_code=mismatch.code,
                error_message=mismatch.message,
                variant=variant.name,
                flag_metadata=_metadata(explanation),
            )
        chosen_by_rule = explanation.variant_source is VariantSource.OVERRIDE
        return FlagResolutionDetails(
            value=value,
            reason=OpenFeatureReason.TARGETING_MATCH if chosen_by_rule else OpenFeatureReason.SPLIT,
            variant=variant.name,
            flag_metadata=_metadata(explanation),
        )

    def _failure(self, explanation: Explanation, default: T) -> FlagResolutionDetails[T] | None:
        if explanation.reason is Reason.NOT_READY:
            return FlagResolutionDetails(
                value=default,
                reason=OpenFeatureReason.ERROR,
                error_code=ErrorCode.PROVIDER_NOT_READY,
                error_message=explanation.message,
                flag_metadata=_metadata(explanation),
            )
        if explanation.reason is Reason.UNKNOWN_FLAG:
            return FlagResolutionDetails(
                value=default,
                reason=OpenFeatureReason.ERROR,
                error_code=ErrorCode.FLAG_NOT_FOUND,
                error_message=explanation.message,
            )
        if explanation.reason is Reason.ERROR:
            return FlagResolutionDetails(
                value=default,
                reason=OpenFeatureReason.ERROR,
                error_code=ErrorCode.GENERAL,
                error_message=explanation.message,
                flag_metadata=_metadata(explanation),
            )
        return None
