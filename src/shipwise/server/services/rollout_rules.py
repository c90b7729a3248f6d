"""What a rollout step does to a flag's rules.

A plan owns two kinds of strategy on its flag, marked by their title: one percentage
rollout (``flexibleRollout``, sticky on the user, with the flag's key as group id so a
user's bucket never changes and everyone who had the feature keeps it as the percentage
rises), and one strategy per extra audience (a segment such as beta testers). Strategies
a person added by hand (internal users, a customer) are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipwise.domain.rollout import Step

ROLLOUT_TITLE = "rollout plan"
AUDIENCE_TITLE = "rollout plan audience"
_PLAN_TITLES = frozenset({ROLLOUT_TITLE, AUDIENCE_TITLE})


def _is_plan_rollout(strategy: Mapping[str, Any]) -> bool:
    return strategy.get("title") == ROLLOUT_TITLE or (
        strategy.get("name") == "flexibleRollout" and not strategy.get("title")
    )


def rules_for_step(
    current: Mapping[str, Any], flag_key: str, step: Step, segment_ids: Mapping[str, int]
) -> dict[str, Any]:
    """``current`` with the plan's strategies set to ``step``, switched on. An existing
    untitled percentage rollout is taken over (keeping its stickiness and group id)."""
    strategies = [dict(s) for s in current.get("strategies") or []]
    kept: list[dict[str, Any]] = []
    rollout: dict[str, Any] | None = None
    for strategy in strategies:
        if rollout is None and _is_plan_rollout(strategy):
            rollout = strategy
        elif strategy.get("title") not in _PLAN_TITLES:
            kept.append(strategy)
    parameters = dict((rollout or {}).get("parameters") or {})
    parameters["rollout"] = str(step.percentage)
    parameters.setdefault("stickiness", "default")
    parameters.setdefault("groupId", flag_key)
    plan_strategies: list[dict[str, Any]] = [
        {
            "name": "flexibleRollout",
            "title": ROLLOUT_TITLE,
            "parameters": parameters,
            "constraints": list((rollout or {}).get("constraints") or []),
        }
    ]
    for audience in step.audiences:
        plan_strategies.append(
            {
                "name": "default",
                "title": AUDIENCE_TITLE,
                "parameters": {},
                "constraints": [],
                "segments": [segment_ids[audience]],
            }
        )
    return {**current, "enabled": True, "strategies": plan_strategies + kept}


def switched_off(current: Mapping[str, Any]) -> dict[str, Any]:
    return {**current, "enabled": False}
