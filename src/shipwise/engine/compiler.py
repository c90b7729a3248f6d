"""Compiling a flag into fast evaluators, once, when a snapshot loads.

Every constraint, segment and strategy becomes a small predicate with its operands
already parsed; a flag becomes ``is_on(context) -> bool`` and ``variant(context)``. The
same compiled parts serve ``explain``, which runs them one by one to say which part
decided, so there is one evaluator, traced or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from shipwise.engine.context import Context, describe_value, field_reader
from shipwise.engine.evaluation import Explanation, Reason, StrategyTrace, VariantSource
from shipwise.engine.model import Constraint, Dependency, Flag, Segment, Strategy
from shipwise.engine.operators import Clock, Predicate, compile_constraint, never
from shipwise.engine.strategies import Activation, StrategyEnvironment, compile_activation
from shipwise.engine.variants import DISABLED, DISABLED_FEATURE_ON, Variant, VariantSelector


def all_of(predicates: Sequence[Predicate]) -> Predicate | None:
    """One predicate true when all are; None (always true) for none. Small cases are
    unrolled because a Python loop costs more than the checks it runs."""
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates

        def both(context: Context) -> bool:
            return first(context) and second(context)

        return both
    checks = tuple(predicates)

    def every(context: Context) -> bool:
        for check in checks:
            if not check(context):
                return False
        return True

    return every


def any_of(predicates: Sequence[Predicate | None]) -> Predicate | None:
    if not predicates:
        return never
    if any(p is None for p in predicates):
        return None
    checks = tuple(p for p in predicates if p is not None)
    if len(checks) == 1:
        return checks[0]

    def some(context: Context) -> bool:
        for check in checks:
            if check(context):
                return True
        return False

    return some


class CompiledCondition:
    """A constraint (or a reference to a segment) ready to test, with its description."""

    __slots__ = ("check", "constraint", "label", "problem")

    def __init__(
        self, label: str, check: Predicate, problem: str | None, constraint: Constraint | None
    ):
        self.label = label
        self.check = check
        self.problem = problem
        self.constraint = constraint


def _conditions(
    constraints: Sequence[Constraint], clock: Clock, prefix: str = ""
) -> list[CompiledCondition]:
    out = []
    for constraint in constraints:
        check, problem = compile_constraint(constraint, clock)
        out.append(CompiledCondition(prefix + constraint.describe(), check, problem, constraint))
    return out


class CompiledStrategy:
    __slots__ = ("activation", "check", "conditions", "index", "name", "title", "variants")

    def __init__(
        self,
        index: int,
        strategy: Strategy,
        *,
        flag: str,
        segments: Mapping[int, Segment],
        clock: Clock,
        env: StrategyEnvironment,
    ) -> None:
        self.index = index
        self.name = strategy.name
        self.title = strategy.title
        conditions: list[CompiledCondition] = []
        for segment_id in strategy.segments:
            segment = segments.get(segment_id)
            if segment is None:
                problem = f"segment {segment_id} does not exist"
                conditions.append(CompiledCondition(f"segment {segment_id}", never, problem, None))
                continue
            label = f"segment {segment.name or segment.id}: "
            conditions.extend(_conditions(segment.constraints, clock, label))
        conditions.extend(_conditions(strategy.constraints, clock))
        self.conditions = tuple(conditions)
        self.activation: Activation = compile_activation(strategy, flag, env)
        predicates = [c.check for c in conditions]
        if self.activation.check is not None:
            predicates.append(self.activation.check)
        self.check: Predicate | None = all_of(predicates)
        group_id = str(strategy.parameters.get("groupId") or flag)
        stickiness = strategy.parameters.get("stickiness")
        self.variants = (
            VariantSelector(
                strategy.variants, group_id, str(stickiness) if stickiness else None, env.random
            )
            if strategy.variants
            else None
        )

    def matches(self, context: Context) -> bool:
        return self.check is None or self.check(context)

    def trace(self, context: Context) -> StrategyTrace:
        for condition in self.conditions:
            if not condition.check(context):
                detail = f"{condition.label} not met"
                if condition.problem:
                    detail += f" ({condition.problem})"
                elif condition.constraint is not None:
                    actual = field_reader(condition.constraint.context_name)(context)
                    detail += f" ({condition.constraint.context_name}={describe_value(actual)})"
                return StrategyTrace(self.index, self.name, self.title, False, detail)
        activation = self.activation
        included, position = activation.includes(context)
        bucket_note = "" if position is None else f" (bucket {position})"
        if not included:
            detail = f"{activation.description}: {activation.problem or 'not included'}"
            return StrategyTrace(self.index, self.name, self.title, False, detail + bucket_note)
        met = [condition.label for condition in self.conditions]
        if activation.check is None and met:
            detail = "; ".join(met) + " met"
        else:
            detail = "; ".join([*met, activation.description])
            if activation.check is not None:
                detail += f": included{bucket_note}"
        return StrategyTrace(self.index, self.name, self.title, True, detail)


class CompiledFlag:
    """One flag, compiled. ``is_on`` and ``variant`` are the hot paths.

    ``has_percentage_rollout``: a strategy of the flag (not a disabled one) includes
    contexts by rollout bucket (``flexibleRollout``, ``gradualRollout*``), so whether the
    flag is on for a context may follow a rollout plan's percentage. Says nothing about
    ``enabled``; a rollout whose percentage does not parse never includes anyone and
    does not count.
    """

    __slots__ = (
        "definition",
        "dependencies",
        "has_percentage_rollout",
        "is_on",
        "name",
        "strategies",
        "variants",
    )

    def __init__(
        self, flag: Flag, segments: Mapping[int, Segment], clock: Clock, env: StrategyEnvironment
    ) -> None:
        self.definition = flag
        self.name = flag.name
        self.strategies = tuple(
            CompiledStrategy(
                index, strategy, flag=flag.name, segments=segments, clock=clock, env=env
            )
            for index, strategy in enumerate(flag.strategies)
            if not strategy.disabled
        )
        self.has_percentage_rollout = any(
            s.activation.percentage is not None for s in self.strategies
        )
        stickiness = flag.variants[0].stickiness if flag.variants else None
        self.variants = (
            VariantSelector(flag.variants, flag.name, stickiness, env.random)
            if flag.variants
            else None
        )
        self.dependencies: tuple[tuple[Dependency, CompiledFlag | None], ...] = ()
        self.is_on: Predicate = self._own_check()

    def _own_check(self) -> Predicate:
        if not self.definition.enabled:
            return never
        if not self.strategies:
            return _always
        combined = any_of([s.check for s in self.strategies])
        return _always if combined is None else combined

    def link(self, flags: Mapping[str, CompiledFlag]) -> None:
        """Resolve dependencies once every flag is compiled. A parent that itself has
        dependencies never satisfies (the specification allows one level, so no cycles)."""
        if not self.definition.dependencies:
            return
        self.dependencies = tuple((d, flags.get(d.feature)) for d in self.definition.dependencies)
        own = self.is_on
        satisfied = self.dependencies_met

        def is_on_with_dependencies(context: Context) -> bool:
            return satisfied(context) and own(context)

        self.is_on = is_on_with_dependencies

    def dependencies_met(self, context: Context) -> bool:
        return self.unmet_dependency(context) is None

    def unmet_dependency(self, context: Context) -> str | None:
        for dependency, parent in self.dependencies:
            if parent is None:
                return f"depends on {dependency.feature!r}, which does not exist"
            if parent.definition.dependencies:
                return f"depends on {dependency.feature!r}, which has dependencies of its own"
            if not dependency.enabled:
                if parent.is_on(context):
                    return f"needs {dependency.feature!r} off, and it is on"
                continue
            if not parent.is_on(context):
                return f"needs {dependency.feature!r} on, and it is off"
            if dependency.variants:
                name = parent.variant(context).name
                if name not in dependency.variants:
                    wanted = list(dependency.variants)
                    return f"needs {dependency.feature!r} variant in {wanted}, got {name!r}"
        return None

    def _matching_strategy(self, context: Context) -> CompiledStrategy | None:
        for strategy in self.strategies:
            if strategy.matches(context):
                return strategy
        return None

    def variant(self, context: Context) -> Variant:
        return self._variant(context)[0]

    def _variant(self, context: Context) -> tuple[Variant, VariantSource]:
        if not self.definition.enabled:
            return DISABLED, VariantSource.NONE
        if self.dependencies and not self.dependencies_met(context):
            return DISABLED, VariantSource.NONE
        strategy = None
        if self.strategies:
            strategy = self._matching_strategy(context)
            if strategy is None:
                return DISABLED, VariantSource.NONE
        return self._pick_variant(strategy, context)

    def _pick_variant(
        self, strategy: CompiledStrategy | None, context: Context
    ) -> tuple[Variant, VariantSource]:
        """The variant for a context the flag is on for; ``strategy`` is the one that
        matched (None for a flag without strategies). Strategy variants come first."""
        if strategy is not None and strategy.variants:
            chosen = strategy.variants.select(context)
            if chosen is not None:
                return chosen[0], VariantSource.OVERRIDE if chosen[1] else VariantSource.STRATEGY
        if self.variants:
            chosen = self.variants.select(context)
            if chosen is not None:
                return chosen[0], VariantSource.OVERRIDE if chosen[1] else VariantSource.FLAG
        return DISABLED_FEATURE_ON, VariantSource.NONE

    def explain(self, context: Context) -> Explanation:
        name = self.name
        if not self.definition.enabled:
            return Explanation(
                name, False, DISABLED, Reason.FLAG_OFF, "the flag is off in this environment"
            )
        unmet = self.unmet_dependency(context) if self.dependencies else None
        if unmet is not None:
            return Explanation(name, False, DISABLED, Reason.DEPENDENCY_UNMET, unmet)
        traces = []
        strategy = None
        for candidate in self.strategies:
            trace = candidate.trace(context)
            traces.append(trace)
            if trace.matched:
                strategy = candidate
                break
        if not self.strategies:
            variant, source = self._pick_variant(None, context)
            return Explanation(
                name,
                True,
                variant,
                Reason.NO_STRATEGIES,
                "the flag is on and has no strategies, so it is on for everyone",
                variant_source=source,
            )
        if strategy is None:
            variant = DISABLED
            why = "; ".join(f"strategy {t.index} ({t.title or t.name}): {t.detail}" for t in traces)
            return Explanation(
                name,
                False,
                variant,
                Reason.NO_STRATEGY_MATCHED,
                f"no strategy matched: {why}",
                trace=tuple(traces),
            )
        label = strategy.title or strategy.name
        variant, source = self._pick_variant(strategy, context)
        return Explanation(
            name,
            True,
            variant,
            Reason.STRATEGY_MATCH,
            f"strategy {strategy.index} ({label}) matched: {traces[-1].detail}",
            strategy=strategy.index,
            variant_source=source,
            trace=tuple(traces),
        )


def _always(_context: Context) -> bool:
    return True


def system_clock() -> datetime:
    return datetime.now(UTC)


def compile_flags(
    flags: Mapping[str, Flag],
    segments: Mapping[int, Segment],
    env: StrategyEnvironment,
    clock: Callable[[], datetime] = system_clock,
) -> dict[str, CompiledFlag]:
    compiled = {name: CompiledFlag(flag, segments, clock, env) for name, flag in flags.items()}
    for flag in compiled.values():
        flag.link(compiled)
    return compiled
