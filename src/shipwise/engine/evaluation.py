"""What an evaluation says about itself: the reason, as data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shipwise.engine.variants import Variant


class Reason(StrEnum):
    STRATEGY_MATCH = "strategy_match"  # a strategy (and its constraints, segments) matched
    NO_STRATEGIES = "no_strategies"  # the flag is on and has no strategies: on for everyone
    NO_STRATEGY_MATCHED = "no_strategy_matched"
    FLAG_OFF = "flag_off"  # the flag is switched off in this environment
    DEPENDENCY_UNMET = "dependency_unmet"
    UNKNOWN_FLAG = "unknown_flag"
    ERROR = "error"  # evaluation failed; the default was returned
    NOT_READY = "not_ready"  # (SDK) an online client with no snapshot yet: the default


class VariantSource(StrEnum):
    STRATEGY = "strategy"  # the matching strategy's own variants
    FLAG = "flag"  # the flag's variants
    OVERRIDE = "override"  # a variant override matched a context field
    NONE = "none"  # no variant: the flag is off, or has no variants


@dataclass(frozen=True, slots=True)
class StrategyTrace:
    """How one strategy judged the context."""

    index: int
    name: str
    title: str | None
    matched: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "title": self.title,
            "matched": self.matched,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """A flag's value for a context together with why."""

    flag: str
    enabled: bool
    variant: Variant
    reason: Reason
    message: str
    strategy: int | None = None  # index of the strategy that decided, if one did
    variant_source: VariantSource = VariantSource.NONE
    trace: tuple[StrategyTrace, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "enabled": self.enabled,
            "variant": self.variant.to_dict(),
            "reason": self.reason.value,
            "message": self.message,
            "strategy": self.strategy,
            "variant_source": self.variant_source.value,
            "trace": [t.to_dict() for t in self.trace],
            "error": self.error,
        }
