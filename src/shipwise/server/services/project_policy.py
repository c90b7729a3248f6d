"""The release policy a project runs under: its applied ``shipwise.toml`` over the
defaults for its pipeline and time zone (``domain.policy``). Read by every service that
asks a rule: promotions, change requests, and the protected environments of flag
changes, segments, imports and rollout plans."""

from __future__ import annotations

from typing import Protocol

from shipwise.domain.policy import default_policy, parse_policy
from shipwise.domain.policy_model import Policy
from shipwise.server.ports import PolicySourceStore, Project, ProjectStore


class PolicyReader(ProjectStore, PolicySourceStore, Protocol):
    """What reading a project's policy needs: its environments and its applied source."""


def project_policy(tx: PolicyReader, project: Project, source: str | None = None) -> Policy:
    """The project's policy: ``source`` (or the applied shipwise.toml) over the defaults
    for its pipeline and time zone."""
    environments = tx.list_environments(project.id)
    defaults = default_policy([(e.key, e.branch) for e in environments], project.timezone)
    if source is None:
        stored = tx.get_policy_source(project.id)
        if stored is None:
            return defaults
        source = stored[0]
    known = [e.key for e in environments]
    return parse_policy(source, known_environments=known, defaults=defaults)
