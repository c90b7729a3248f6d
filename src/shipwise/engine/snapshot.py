"""A loaded, compiled set of flags for one environment: the engine's front door."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shipwise.engine.compiler import CompiledFlag, compile_flags, system_clock
from shipwise.engine.context import EMPTY_CONTEXT, Context
from shipwise.engine.evaluation import Explanation, Reason
from shipwise.engine.model import FlagState
from shipwise.engine.snapshot_format import dump_snapshot, load_snapshot
from shipwise.engine.strategies import StrategyEnvironment, default_environment
from shipwise.engine.unleash_format import (
    apply_unleash_events,
    state_from_unleash,
    state_to_unleash,
)
from shipwise.engine.variants import DISABLED, Variant


class Snapshot:
    """Immutable once built; a change produces a new Snapshot (``apply_unleash_events``).

    ``environment`` supplies randomness and the host name, ``clock`` the time for date
    constraints when a context has no ``currentTime``: both are injected so the engine
    stays pure and tests stay deterministic.
    """

    __slots__ = ("_clock", "_env", "flags", "state")

    def __init__(
        self,
        state: FlagState,
        *,
        environment: StrategyEnvironment | None = None,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        self.state = state
        self._env = environment or default_environment()
        self._clock = clock
        self.flags: Mapping[str, CompiledFlag] = compile_flags(
            state.flags, state.segments, self._env, clock
        )

    @classmethod
    def from_unleash(cls, document: object, **options: Any) -> Snapshot:
        return cls(state_from_unleash(document), **options)

    @classmethod
    def load(cls, document: object, **options: Any) -> Snapshot:
        return cls(load_snapshot(document), **options)

    def dump(self) -> dict[str, Any]:
        return dump_snapshot(self.state)

    def to_unleash(self) -> dict[str, Any]:
        return state_to_unleash(self.state)

    def apply_unleash_events(self, events: list[Any]) -> Snapshot:
        return Snapshot(
            apply_unleash_events(self.state, events), environment=self._env, clock=self._clock
        )

    def is_enabled(self, name: str, context: Context | None = None, default: bool = False) -> bool:
        flag = self.flags.get(name)
        if flag is None:
            return default
        try:
            return flag.is_on(EMPTY_CONTEXT if context is None else context)
        except Exception:
            return default

    def variant(self, name: str, context: Context | None = None) -> Variant:
        flag = self.flags.get(name)
        if flag is None:
            return DISABLED
        try:
            return flag.variant(EMPTY_CONTEXT if context is None else context)
        except Exception:
            return DISABLED

    def explain(
        self, name: str, context: Context | None = None, default: bool = False
    ) -> Explanation:
        flag = self.flags.get(name)
        if flag is None:
            return Explanation(
                name,
                default,
                DISABLED,
                Reason.UNKNOWN_FLAG,
                f"no flag named {name!r} in this snapshot; the default ({default}) applies",
            )
        try:
            return flag.explain(EMPTY_CONTEXT if context is None else context)
        except Exception as error:
            problem = describe_context_problem(context) or f"{type(error).__name__}: {error}"
            return Explanation(
                name,
                default,
                DISABLED,
                Reason.ERROR,
                f"evaluation failed, so the default ({default}) applies: {problem}",
                error=problem,
            )


def describe_context_problem(context: object) -> str | None:
    """Say what is wrong with an odd context, in words a developer can act on."""
    if context is None:
        return None
    if not isinstance(context, Mapping):
        return f"the context must be a dict, got {type(context).__name__}"
    properties = context.get("properties")
    if properties is not None and not isinstance(properties, Mapping):
        return f"context['properties'] must be a dict, got {type(properties).__name__}"
    return None
