"""CI results and deploys from GitHub deliveries, recorded in the order the events
happened rather than the order they arrived.

Every ``status`` and completed ``check_suite`` is recorded for its commit. A finished
``deployment_status`` is recorded for the Shipwise environment whose key is GitHub's
environment name (in any case), else whose branch it is; another name is skipped. Each
is recorded only when it is newer, by the time in its payload, than the newest one
already recorded from GitHub for its commit and context (the check, or the
environment): an older one arriving late, or one of the same instant that is no more
decisive, is skipped with the reason (``domain.github_order``). So deliveries out of
order, or an old one redelivered under a new id, cannot turn a red gate green. The rows
keep both times: ``at`` when Shipwise recorded it (what the gates order by: for GitHub's
results that is now the events' own order) and ``event_at`` from the payload. Results
reported through the API have no payload time and are not compared.
"""

from __future__ import annotations

from datetime import datetime

from shipwise.domain.github import CiStatus, DeploymentStatus, DeployState
from shipwise.domain.github_order import why_stale
from shipwise.server.ports import Environment
from shipwise.server.services.evidence import record_ci_in, record_deploy_in
from shipwise.server.services.github_delivery import Delivery

__all__ = ["on_ci", "on_deploy"]


def on_ci(d: Delivery, fact: CiStatus) -> None:
    state = fact.state.value
    recorded = d.tx.last_ci_event(d.project.id, fact.sha, fact.context)
    stale = why_stale(fact.at, state, recorded)
    if stale is not None:
        d.skipped.append(
            f"CI {fact.context}: {state} on {fact.sha[:12]} at {_time(fact.at)} is {stale}: "
            "not recorded"
        )
        return
    check = (fact.context, state)
    record_ci_in(d.tx, d.witness(), d.project, fact.sha, check, d.now, event_at=fact.at)
    d.applied.append(f"CI {fact.context}: {state} on {fact.sha[:12]}")


def on_deploy(d: Delivery, fact: DeploymentStatus) -> None:
    environment = _environment_named(d.environments, fact.environment)
    if environment is None:
        known = ", ".join(e.key for e in d.environments)
        d.skipped.append(
            f"GitHub environment {fact.environment!r} is none of {d.project.key}'s ({known}): "
            "name it after one, or after its branch"
        )
        return
    succeeded = fact.state is DeployState.SUCCESS
    recorded = d.tx.last_deploy_event(d.project.id, environment.key, fact.sha)
    stale = why_stale(fact.at, fact.state.value, recorded)
    if stale is not None:
        d.skipped.append(
            f"deploy of {fact.sha[:12]} to {environment.key}: {fact.state.value} at "
            f"{_time(fact.at)} is {stale}: not recorded"
        )
        return
    record_deploy_in(
        d.tx,
        d.witness(),
        d.project,
        environment.key,
        fact.sha,
        succeeded,
        d.now,
        event_at=fact.at,
        noted={"github_environment": fact.environment},
    )
    outcome = "deployed to" if succeeded else f"deploy ({fact.state.value}) to"
    d.applied.append(f"{fact.sha[:12]} {outcome} {environment.key}")


def _environment_named(environments: list[Environment], name: str) -> Environment | None:
    """By key, then by key in any case (GitHub's names are case-insensitive), then by branch."""
    by_key = {e.key: e for e in environments}
    found = by_key.get(name) or by_key.get(name.lower())
    return found or next((e for e in environments if e.branch == name), None)


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")  # the domain gives event times in UTC
