"""Variant results and weighted, sticky variant selection."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shipwise.engine.context import Context, field_reader
from shipwise.engine.hashing import VARIANT_SEED, hash32
from shipwise.engine.model import VariantDefinition


@dataclass(frozen=True, slots=True)
class Variant:
    """What ``get_variant`` returns. ``enabled`` says a real variant was chosen;
    ``feature_enabled`` says the flag itself was on."""

    name: str
    enabled: bool
    feature_enabled: bool
    payload: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "enabled": self.enabled}
        if self.payload is not None:
            out["payload"] = dict(self.payload)
        out["feature_enabled"] = self.feature_enabled
        return out


DISABLED = Variant("disabled", enabled=False, feature_enabled=False)
DISABLED_FEATURE_ON = Variant("disabled", enabled=False, feature_enabled=True)


def _result(definition: VariantDefinition) -> Variant:
    payload = None
    if definition.payload is not None:
        payload = {"type": definition.payload.type, "value": definition.payload.value}
    return Variant(definition.name, enabled=True, feature_enabled=True, payload=payload)


class VariantSelector:
    """Chooses among weighted variants: an override first, else the variant whose weight
    range holds ``murmur3(group:stickiness value) % total + 1``. Results are built once."""

    __slots__ = (
        "_cumulative",
        "_overrides",
        "_read_seed",
        "_results",
        "_total",
        "group_id",
        "stickiness",
    )

    def __init__(
        self,
        definitions: Sequence[VariantDefinition],
        group_id: str,
        stickiness: str | None,
        rand: Callable[[], float],
    ) -> None:
        self.group_id = group_id
        self.stickiness = stickiness or "default"
        self._results = tuple(_result(d) for d in definitions)
        cumulative, running = [], 0
        for definition in definitions:
            running += definition.weight
            cumulative.append(running)
        self._cumulative = cumulative
        self._total = running
        self._overrides = tuple(
            (field_reader(o.context_name), frozenset(o.values), result)
            for definition, result in zip(definitions, self._results, strict=True)
            for o in definition.overrides
        )
        self._read_seed = _seed_reader(self.stickiness, rand)

    def __bool__(self) -> bool:
        return self._total > 0

    def select(self, context: Context) -> tuple[Variant, bool] | None:
        """The chosen variant and whether an override chose it; None if all weights are 0."""
        if self._total <= 0:
            return None
        for read, values, result in self._overrides:
            if read(context) in values:
                return result, True
        target = (
            hash32(f"{self.group_id}:{self._read_seed(context)}", VARIANT_SEED, False) % self._total
            + 1
        )
        return self._results[bisect_left(self._cumulative, target)], False


def _seed_reader(stickiness: str, rand: Callable[[], float]) -> Callable[[Context], str]:
    def random_seed() -> str:
        return str(int(rand() * 1_000_000))

    if stickiness == "default":
        readers = [field_reader(name) for name in ("userId", "sessionId", "remoteAddress")]

        def default_seed(context: Context) -> str:
            for read in readers:
                value = read(context)
                if value is not None:
                    return value
            return random_seed()

        return default_seed
    if stickiness == "random":
        return lambda _context: random_seed()
    read = field_reader(stickiness)
    return lambda context: read(context) or random_seed()
