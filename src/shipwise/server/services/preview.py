""" "Who gets this?": a flag's answer for one context in every environment of its
project, from each environment's published snapshot, by the engine's own ``explain``,
the call an SDK's ``Client.explain`` makes on the same snapshot. So the preview is the
answer SDKs give, never a second evaluator's guess.

Evaluation never raises: an odd context or a broken rule is the engine's ``ERROR``
explanation, in words, like any other answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipwise.engine import Explanation
from shipwise.server.services.principal import Principal
from shipwise.server.services.projects import ProjectService
from shipwise.server.services.snapshots import SnapshotService


@dataclass(frozen=True, slots=True)
class EnvironmentAnswer:
    environment: str
    revision: int  # the snapshot's: what an SDK holding this revision answers
    explanation: Explanation


class Preview:
    """Reads through the project service (so the caller must be allowed to read the
    project) and the snapshots every SDK is served."""

    def __init__(self, projects: ProjectService, snapshots: SnapshotService) -> None:
        self._projects = projects
        self._snapshots = snapshots

    def who_gets(
        self, principal: Principal, project_key: str, flag: str, context: Mapping[str, Any]
    ) -> list[EnvironmentAnswer]:
        """The flag's answer for ``context`` in each environment, in pipeline order."""
        view = self._projects.get(principal, project_key)
        answers = []
        for environment in view.environments:
            published = self._snapshots.current(environment.id)
            explanation = published.engine.explain(flag, context)
            answers.append(EnvironmentAnswer(environment.key, published.revision, explanation))
        return answers
