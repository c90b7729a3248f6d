"""Whether a change to a flag's rules (or to a segment's constraints) could show the flag,
or one of its variants, to someone who did not see it before; and, in words, why.

Protected environments let anyone reduce exposure at once but hold back anything that
widens it (``services.flag_changes``). So this module must be conservative: a change
counts as a narrowing only when it provably is one, and everything else is a widening.

The rules are the dicts of ``FlagConfig.rules()`` (the engine's Unleash shapes). The
engine turns a flag on for a context when it is enabled, its dependencies hold, and no
strategies are left (after dropping disabled ones) or one of them matches; the variant
comes from the first matching strategy that has variants, else from the flag's own.
Provable narrowings, from that:

- switching the flag off (or leaving it off), or identical rules;
- a subsequence of the strategies, each kept one equal or narrower: a lower rollout
  percentage with the same stickiness and group, fewer user ids, addresses or host
  names, more constraints or segments (strategies are matched in order, so a reordering
  is not proved harmless);
- more dependencies.

When a strategy carries variants, a user who stops matching one strategy may match a
later one and get its variants, which they never saw: then only the last strategy may
be narrowed, and the others must stay as they were.

Not judged here: other flags. A flag that depends on this one being *off* shows to more
users when this one is narrowed; turning a flag off must stay one step away for anyone,
so that is left to the people who write such dependencies.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Widening", "rules_widening", "segment_widening"]


@dataclass(frozen=True, slots=True)
class Widening:
    """Why a change could show a flag to more people; no reasons: it cannot."""

    reasons: tuple[str, ...] = ()

    @property
    def widens(self) -> bool:
        return bool(self.reasons)

    def describe(self) -> str:
        return "; ".join(self.reasons)


def rules_widening(before: Mapping[str, Any], after: Mapping[str, Any]) -> Widening:
    """Whether the rules ``after`` could show the flag (or a variant) to anyone ``before``
    did not, and why."""
    if not after.get("enabled"):
        return Widening()
    if not before.get("enabled"):
        return Widening(("switches the flag on",))
    if _canonical(before) == _canonical(after):
        return Widening()
    reasons = _strategy_reasons(_active(before), _active(after))
    if _canonical(before.get("variants")) != _canonical(after.get("variants")):
        reasons.append("changes the variants")
    reasons += _dependency_reasons(before.get("dependencies"), after.get("dependencies"))
    return Widening(tuple(reasons))


def segment_widening(before: Sequence[Any], after: Sequence[Any]) -> Widening:
    """Whether a segment's new constraints could match anyone the old ones did not: they
    cannot only when they are the old ones plus more."""
    removed, added = _multiset_difference(before, after)
    return Widening(tuple(_constraint_words(removed, added, "")))


# -- strategies --------------------------------------------------------------------------

# A strategy with its position in the flag's list (1-based, as people count).
_Numbered = tuple[int, Mapping[str, Any]]


def _active(rules: Mapping[str, Any]) -> list[_Numbered]:
    """The strategies the engine evaluates: disabled ones are dropped."""
    strategies = rules.get("strategies") or []
    return [
        (number, s if isinstance(s, Mapping) else {"name": s})
        for number, s in enumerate(strategies, start=1)
        if not (isinstance(s, Mapping) and s.get("disabled") is True)
    ]


def _strategy_reasons(before: list[_Numbered], after: list[_Numbered]) -> list[str]:
    if not after:
        if not before:
            return []
        return ["leaves no active strategy, so the flag is on for everyone"]
    if not before:
        # On for everyone before; every strategy narrows that, unless it brings variants.
        if any(s.get("variants") for _, s in after):
            return ["adds strategies with variants"]
        return []
    if any(s.get("variants") for _, s in before + after):
        return _reasons_with_variants(before, after)
    return _subsequence_reasons(before, after)


def _subsequence_reasons(before: list[_Numbered], after: list[_Numbered]) -> list[str]:
    """Each strategy of ``after`` narrows a distinct strategy of ``before``, in order.
    Matching each to the earliest one it narrows finds such a mapping if there is one."""
    position = 0
    for index, (number, strategy) in enumerate(after):
        found = next(
            (
                p
                for p in range(position, len(before))
                if not _narrowing_reasons(before[p][1], strategy, number)
            ),
            None,
        )
        if found is None:
            return [_why_not_narrower(before, after, index, position)]
        position = found + 1
    return []


def _why_not_narrower(
    before: list[_Numbered], after: list[_Numbered], index: int, position: int
) -> str:
    """Words for the first strategy of ``after`` that narrows none left in ``before``:
    compared with one of the same name (in its place first), else it is a new one."""
    removed, added = _multiset_difference(
        [_evaluated(s) for _, s in before], [_evaluated(s) for _, s in after]
    )
    if not removed and not added:
        return "reorders the strategies"
    number, strategy = after[index]
    same_place = [s for n, s in before if n == number]
    for candidate in [*same_place, *(s for _, s in before[position:])]:
        if candidate.get("name") == strategy.get("name"):
            reasons = _narrowing_reasons(candidate, strategy, number)
            if reasons:
                return reasons[0]
    renamed = same_place and same_place[0].get("name") != strategy.get("name")
    if renamed and len(after) <= len(before):
        return _narrowing_reasons(same_place[0], strategy, number)[0]
    return f"adds strategy {number} ({strategy.get('name')})"


def _reasons_with_variants(before: list[_Numbered], after: list[_Numbered]) -> list[str]:
    """Only the last strategy kept may be narrower; the ones before it stay as they were
    (any user who stops matching one would fall through to a later one's variants)."""
    if len(after) > len(before):
        number, strategy = after[len(before)]
        return [f"adds strategy {number} ({strategy.get('name')})"]
    *kept, (last_number, last) = after
    for (number, strategy), (_, old) in zip(kept, before, strict=False):
        reasons = _narrowing_reasons(old, strategy, number)
        if reasons:
            return [reasons[0]]
        if _canonical(_evaluated(old)) != _canonical(_evaluated(strategy)):
            return [
                f"narrows strategy {number}, so some of its users fall through to a later "
                "strategy and its variants"
            ]
    reasons = _narrowing_reasons(before[len(kept)][1], last, last_number)
    return reasons[:1]


def _narrowing_reasons(
    before: Mapping[str, Any], after: Mapping[str, Any], number: int
) -> list[str]:
    """Why ``after`` could match a context ``before`` did not; empty: it cannot."""
    label = _label(number)
    name = after.get("name")
    if before.get("name") != name:
        return [f"changes {label} from {before.get('name')!r} to {name!r}"]
    reasons = _parameter_reasons(str(name), before, after, label)
    removed, added = _multiset_difference(before.get("constraints"), after.get("constraints"))
    reasons += _constraint_words(removed, added, f" of {label}")
    lost = Counter(_segment_list(before)) - Counter(_segment_list(after))
    reasons += [f"takes segment {s} off {label}" for s in sorted(lost, key=str)]
    if _canonical(before.get("variants")) != _canonical(after.get("variants")):
        reasons.append(f"changes {label}'s variants")
    known = {"name", "title", "parameters", "constraints", "segments", "variants", "disabled"}
    for key in sorted((set(before) | set(after)) - known):
        if _canonical(before.get(key)) != _canonical(after.get(key)):
            reasons.append(f"changes {label}'s {key}")
    return reasons


def _label(number: int) -> str:
    return f"strategy {number}"


def _evaluated(strategy: Mapping[str, Any]) -> dict[str, Any]:
    """What of a strategy the engine reads (its title is for people)."""
    return {k: v for k, v in strategy.items() if k not in {"title", "disabled"}}


def _segment_list(strategy: Mapping[str, Any]) -> list[Any]:
    segments = strategy.get("segments")
    return list(segments) if isinstance(segments, list) else []


# -- parameters, by strategy name ----------------------------------------------------------

_ParameterRule = Callable[[Mapping[str, Any], Mapping[str, Any], str], list[str]]


def _percentage_rule(key: str, *same: str) -> _ParameterRule:
    """A rollout: narrower at a lower percentage over the same buckets (``same``)."""

    def rule(before: Mapping[str, Any], after: Mapping[str, Any], label: str) -> list[str]:
        reasons = [
            f"changes {label}'s {name}"
            for name in same
            if _canonical(before.get(name)) != _canonical(after.get(name))
        ]
        old, new = _percentage(before.get(key, 0)), _percentage(after.get(key, 0))
        if old is None or new is None:
            if _canonical(before.get(key)) != _canonical(after.get(key)):
                reasons.append(f"changes {label}'s rollout from {before.get(key)!r}")
        elif new > old:
            reasons.append(f"raises {label}'s rollout from {old}% to {new}%")
        return reasons + _other_parameters(before, after, label, {key, *same})

    return rule


def _list_rule(key: str, what: str, *, fold_case: bool = False) -> _ParameterRule:
    """A list of who is included: narrower with fewer of them."""

    def items(parameters: Mapping[str, Any]) -> set[str]:
        raw = parameters.get(key, "")
        text = raw if isinstance(raw, str) else str(raw)
        found = {item.strip() for item in text.split(",") if item.strip()}
        return {item.lower() for item in found} if fold_case else found

    def rule(before: Mapping[str, Any], after: Mapping[str, Any], label: str) -> list[str]:
        added = sorted(items(after) - items(before))
        reasons = [f"adds {what} {', '.join(added[:3])} to {label}"] if added else []
        return reasons + _other_parameters(before, after, label, {key})

    return rule


def _everyone(before: Mapping[str, Any], after: Mapping[str, Any], label: str) -> list[str]:
    return []  # "default" reads no parameter: it includes everyone whatever they say


_PARAMETER_RULES: dict[str, _ParameterRule] = {
    "default": _everyone,
    "flexibleRollout": _percentage_rule("rollout", "stickiness", "groupId"),
    "gradualRolloutUserId": _percentage_rule("percentage", "groupId"),
    "gradualRolloutSessionId": _percentage_rule("percentage", "groupId"),
    "gradualRolloutRandom": _percentage_rule("percentage", "groupId"),
    "userWithId": _list_rule("userIds", "user ids"),
    "remoteAddress": _list_rule("IPs", "addresses"),
    "applicationHostname": _list_rule("hostNames", "host names", fold_case=True),
}


def _parameter_reasons(
    name: str, before: Mapping[str, Any], after: Mapping[str, Any], label: str
) -> list[str]:
    old = before.get("parameters") or {}
    new = after.get("parameters") or {}
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        same = _canonical(old) == _canonical(new)
        return [] if same else [f"changes {label}'s parameters"]
    rule = _PARAMETER_RULES.get(name)
    if rule is None:  # a strategy the engine does not know: only the same one is safe
        return _other_parameters(old, new, label, set())
    return rule(old, new, label)


def _other_parameters(
    before: Mapping[str, Any], after: Mapping[str, Any], label: str, judged: set[str]
) -> list[str]:
    changed = sorted(
        key
        for key in (set(before) | set(after)) - judged
        if _canonical(before.get(key)) != _canonical(after.get(key))
    )
    return [f"changes {label}'s parameter {key!r}" for key in changed]


def _percentage(raw: Any) -> int | None:
    """The engine's reading of a percentage: a number, clamped to 0-100."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    return max(0, min(100, int(value)))


# -- constraints and dependencies ------------------------------------------------------------


def _constraint_words(removed: list[Any], added: list[Any], where: str) -> list[str]:
    """A constraint taken away (or changed: taken away and another added) widens."""
    if not removed:
        return []
    changed = {_context_name(c) for c in added}
    reasons = []
    for constraint in removed:
        field = _context_name(constraint)
        on = f" (on {field!r})" if field is not None else ""
        verb = "changes" if field in changed else "removes"
        reasons.append(f"{verb} a constraint{where}{on}")
    return reasons


def _context_name(constraint: Any) -> str | None:
    if isinstance(constraint, Mapping) and isinstance(constraint.get("contextName"), str):
        return str(constraint["contextName"])
    return None


def _dependency_reasons(before: Any, after: Any) -> list[str]:
    removed, added = _multiset_difference(before, after)
    changed = {_feature(d) for d in added}
    reasons = []
    for dependency in removed:
        feature = _feature(dependency)
        verb = "changes" if feature is not None and feature in changed else "removes"
        reasons.append(f"{verb} the dependency on {feature!r}")
    return reasons


def _feature(dependency: Any) -> str | None:
    if isinstance(dependency, Mapping) and isinstance(dependency.get("feature"), str):
        return str(dependency["feature"])
    return None


def _multiset_difference(before: Any, after: Any) -> tuple[list[Any], list[Any]]:
    """Items of ``before`` missing from ``after`` (counting repeats), and the reverse."""
    old = list(before) if isinstance(before, list | tuple) else []
    new = list(after) if isinstance(after, list | tuple) else []
    left = Counter(_canonical(item) for item in new)
    removed = []
    for item in old:
        key = _canonical(item)
        if left[key]:
            left[key] -= 1
        else:
            removed.append(item)
    right = Counter(_canonical(item) for item in old)
    added = []
    for item in new:
        key = _canonical(item)
        if right[key]:
            right[key] -= 1
        else:
            added.append(item)
    return removed, added


def _canonical(value: Any) -> str:
    """One spelling of a JSON value, so equal rules compare equal whatever the key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
