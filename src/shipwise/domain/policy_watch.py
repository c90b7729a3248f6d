"""``[watch]`` of ``shipwise.toml``: how closely the project's rollout plans are watched.

    [watch]
    close_for = "1h"     # the close watch at the start of each step
    close_every = "1m"   # a reading of the guardrails this often in it
    then_every = "5m"    # and this often for the rest of the step
    bake = "24h"         # watched at 100% this long before "released"

Keys left out keep the defaults (``domain.rollout.Watch``). A plan that writes its own
``watch`` keys overrides these for itself (``plan_watch``); a plan that writes none
follows the policy. Durations are ``domain.durations``' grammar, as in a plan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import partial

from shipwise.domain.durations import DurationOutOfRange, format_duration, parse_duration
from shipwise.domain.policy_reading import Table, shown
from shipwise.domain.rollout import PlanSpec, Watch

__all__ = ["WATCH_KEYS", "plan_watch", "read_watch", "watch_lines"]

WATCH_KEYS = ("close_for", "close_every", "then_every", "bake")
_EXAMPLES = {"close_for": '"1h"', "close_every": '"1m"', "then_every": '"5m"', "bake": '"24h"'}
# Each reading queries every guardrail's source: more often than this is a load, not care.
_SHORTEST_EVERY = timedelta(seconds=10)
_LONGEST = timedelta(days=30)


def read_watch(root: Table, base: Watch) -> Watch:
    section = root.table("watch", "[watch]", "write [watch] (single brackets)")
    section.only(WATCH_KEYS)
    found = len(section.context.problems)
    values: dict[str, timedelta] = {}
    for key in WATCH_KEYS:
        values[key] = getattr(base, key)
        if section.has(key):
            values[key] = section.attempt(partial(_duration, section, key), values[key])
    watch = Watch(**values)
    if section.context.clean_since(found) and watch.close_every > watch.then_every:
        blamed = "close_every" if section.has("close_every") else "then_every"
        section.note(
            blamed,
            f"the close watch ({format_duration(watch.close_every)}) would read less often "
            f"than the rest of the step ({format_duration(watch.then_every)}); write "
            "close_every no longer than then_every",
        )
    return watch


def _duration(section: Table, key: str) -> timedelta:
    value = section.data[key]
    example = _EXAMPLES[key]
    try:
        if not isinstance(value, str):
            raise ValueError(value)  # a bare number: the unit would be a guess
        duration = parse_duration(value, longest=_LONGEST)
    except DurationOutOfRange as error:
        section.fail(key, f"{shown(value)} is not a duration for [watch]: {error}")
    except ValueError:
        section.fail(
            key,
            f"{shown(value)} is not a duration; write {key} = {example} (a number and a "
            "unit: d, h, m or s)",
        )
    if key in ("close_every", "then_every") and duration < _SHORTEST_EVERY:
        section.fail(
            key,
            f"{shown(value)} is too often: each reading asks every guardrail's source; "
            f"write {format_duration(_SHORTEST_EVERY)} or more",
        )
    if key == "bake" and not duration:
        section.fail(
            key,
            "is 0s, but a release is watched at 100% before it is called released; "
            'write bake = "24h", or another length above 0s',
        )
    return duration


def watch_lines(watch: Watch) -> list[str]:
    return [
        "",
        "[watch]  # how often rollout plans read their guardrails; a plan's own watch wins",
        f'close_for = "{format_duration(watch.close_for)}"  # the close watch after each step',
        f'close_every = "{format_duration(watch.close_every)}"',
        f'then_every = "{format_duration(watch.then_every)}"',
        f'bake = "{format_duration(watch.bake)}"  # watched at 100% before a plan is released',
    ]


def plan_watch(spec: PlanSpec, policy: Watch, *, given: bool = False) -> PlanSpec:
    """``spec`` with the policy's watch, unless the plan chose its own: ``given`` (its
    text wrote watch keys, already read over the policy's), or a saved plan whose watch
    differs from the built-in default (a template that wrote none stores the default)."""
    if given or spec.watch != Watch():
        return spec
    return replace(spec, watch=policy)
