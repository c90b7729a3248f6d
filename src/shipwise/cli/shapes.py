"""Reading the admin API's JSON for people: lists, a flag's per-environment state, and
one-line summaries of strategies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich.text import Text


def items(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects listed under ``key``, as in ``{"flags": [...]}``."""
    listed = data.get(key) or []
    return [dict(item) for item in listed if isinstance(item, Mapping)]


def configs(flag: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A flag's rules per environment, in pipeline order, as (environment, rules)."""
    environments = flag.get("environments") or {}
    return [(str(k), dict(v)) for k, v in environments.items() if isinstance(v, Mapping)]


def rollout_percentage(config: Mapping[str, Any]) -> int | None:
    for strategy in config.get("strategies") or []:
        if isinstance(strategy, Mapping) and strategy.get("name") == "flexibleRollout":
            value = (strategy.get("parameters") or {}).get("rollout")
            try:
                return int(str(value))
            except ValueError:
                return None
    return None


def state(config: Mapping[str, Any]) -> Text:
    """``on``, ``on 25%``, ``on (3 rules)`` or ``off``, coloured."""
    if not config.get("enabled"):
        return Text("off", style="red")
    strategies = config.get("strategies") or []
    percentage = rollout_percentage(config)
    if percentage is not None and len(strategies) == 1:
        return Text(f"on {percentage}%", style="yellow" if percentage < 100 else "green")
    if strategies:
        return Text(f"on ({len(strategies)} rules)", style="yellow")
    return Text("on", style="green")


def strategy_summary(strategy: Mapping[str, Any], segment_names: Mapping[int, str]) -> str:
    """``flexibleRollout 25% by userId; 2 constraints; segments beta-testers``."""
    name = str(strategy.get("name"))
    parameters = strategy.get("parameters") or {}
    parts = [name]
    if name == "flexibleRollout":
        stickiness = parameters.get("stickiness") or "default"
        parts = [f"{name} {parameters.get('rollout', '100')}% by {stickiness}"]
    elif parameters:
        parts.append(", ".join(f"{k}={v}" for k, v in parameters.items()))
    constraints = strategy.get("constraints") or []
    if constraints:
        parts.append(f"{len(constraints)} constraint{'s' if len(constraints) != 1 else ''}")
    segments = strategy.get("segments") or []
    if segments:
        parts.append("segments " + ", ".join(segment_names.get(s, f"#{s}") for s in segments))
    return "; ".join(parts)


def when(value: Any) -> str | None:
    """An API timestamp for people, in UTC: ``2027-01-31 14:05``."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")
