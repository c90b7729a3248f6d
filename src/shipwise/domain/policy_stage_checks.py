"""The ``[[stage]]`` list checked as a pipeline: every environment exists and has one
stage, in promotion order, and what a stage asks to have been tested (sign-offs, the
rollback drill) names an earlier stage. ``policy.parse_policy`` runs these checks once
every stage has been read cleanly; the first problem stops them (one wrong environment
would otherwise be reported again as a missing one and an out-of-order one).
"""

from __future__ import annotations

from collections.abc import Sequence

from shipwise.domain.pipeline import key_problem
from shipwise.domain.policy_model import StageGates
from shipwise.domain.policy_reading import Table, listing
from shipwise.engine.problems import did_you_mean

__all__ = ["check_stages"]


def check_stages(root: Table, stages: tuple[StageGates, ...], known: Sequence[str] | None) -> None:
    """Environments exist, each has one stage, in pipeline order; references point back."""
    order = list(known) if known is not None else [stage.environment for stage in stages]
    seen: list[str] = []
    for index, stage in enumerate(stages):
        key = f"stage[{index}]"
        if stage.environment in seen:
            root.fail(
                f"{key}.environment",
                f'"{stage.environment}" already has a stage (stage[{seen.index(stage.environment)}]'
                "); write one [[stage]] per environment",
            )
        _check_environment(root, f"{key}.environment", stage.environment, known)
        if seen and order.index(stage.environment) < order.index(seen[-1]):
            root.fail(
                f"{key}.environment",
                f'"{stage.environment}" comes before "{seen[-1]}" in the pipeline '
                f"({' → '.join(order)}); write the [[stage]] tables in that order",
            )
        seen.append(stage.environment)
        if stage.require_previous_deploy and index == 0:
            root.fail(
                f"{key}.require_previous_deploy",
                f'"{stage.environment}" is the first stage, so there is no environment to have '
                "deployed to before it; write require_previous_deploy = false",
            )
        where = [f"{key}.signoffs[{n}].environment" for n in range(len(stage.signoffs))]
        where.append(f"{key}.rollback_drill_in")
        tested = [environment for _, environment in stage.signoffs] + [stage.rollback_drill_in]
        for place, environment in zip(where, tested, strict=True):
            if environment is not None:
                _check_earlier(root, place, environment, stage.environment, seen[:-1], known)
    missing = [environment for environment in order if environment not in seen]
    if missing:
        root.fail(
            "stage",
            f'environment "{missing[0]}" has no [[stage]]; write one for each of '
            f"{' → '.join(order)}, in that order",
        )


def _check_environment(
    root: Table, key: str, environment: str, known: Sequence[str] | None
) -> None:
    if known is None:
        if problem := key_problem(environment):
            root.fail(key, f'{problem}, e.g. "production"')
    elif environment not in known:
        root.fail(
            key,
            f'this project has no environment "{environment}"; '
            f"{did_you_mean(environment, list(known))}write one of {listing(list(known))}",
        )


def _check_earlier(
    root: Table,
    key: str,
    environment: str,
    target: str,
    earlier: list[str],
    known: Sequence[str] | None,
) -> None:
    _check_environment(root, key, environment, known)
    if environment not in earlier:
        choices = listing(earlier) if earlier else "none: this is the first stage"
        root.fail(
            key,
            f'"{environment}" is not a stage before "{target}", so nothing can be tested there '
            f"before promoting into {target}; write an earlier environment ({choices})",
        )
