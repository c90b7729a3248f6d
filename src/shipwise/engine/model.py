"""The flag model: what a snapshot holds, as plain immutable values.

Both input formats (the Unleash client API document and Shipwise's own snapshot) are
parsed into these types; the compiler turns them into fast evaluators. Nothing here
evaluates anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# A strategy parameter as it travels in JSON: Unleash sends strings ("25"), some tools numbers.
ParameterValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Constraint:
    """One condition on a context field, e.g. ``plan IN [beta, internal]``."""

    context_name: str
    operator: str
    values: tuple[str, ...] = ()
    value: str | None = None
    inverted: bool = False
    case_insensitive: bool = False

    def describe(self) -> str:
        operand = self.value if self.value is not None else list(self.values)
        negation = "NOT " if self.inverted else ""
        return f"{negation}{self.context_name} {self.operator} {operand!r}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A named, shared set of constraints (e.g. "beta testers"), referenced by id."""

    id: int
    name: str | None = None
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True, slots=True)
class Payload:
    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Override:
    """Pins a variant for listed values of a context field, before any hashing."""

    context_name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VariantDefinition:
    name: str
    weight: int
    payload: Payload | None = None
    stickiness: str | None = None
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    segments: tuple[int, ...] = ()
    variants: tuple[VariantDefinition, ...] = ()
    title: str | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Dependency:
    """This flag is on only if ``feature`` is on (or off, when ``enabled`` is False),
    and, when ``variants`` is given, only if the parent's variant is one of them."""

    feature: str
    enabled: bool = True
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    enabled: bool
    strategies: tuple[Strategy, ...] = ()
    variants: tuple[VariantDefinition, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    kind: str = "release"
    description: str | None = None
    project: str | None = None
    impression_data: bool = False


@dataclass(frozen=True, slots=True)
class FlagState:
    """Every flag and segment of one environment, as last delivered."""

    flags: Mapping[str, Flag] = field(default_factory=dict)
    segments: Mapping[int, Segment] = field(default_factory=dict)
    revision: str | None = None
    environment: str | None = None
