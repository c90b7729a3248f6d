"""Finding a release a principal may act on: the one lookup every release service makes."""

from __future__ import annotations

from typing import Protocol

from shipwise.domain.access import Action
from shipwise.domain.releases import Release
from shipwise.server.ports import Project, ProjectStore, ReleaseStore
from shipwise.server.services._common import project_or_404
from shipwise.server.services.errors import NotFound
from shipwise.server.services.principal import Principal

__all__ = ["ReleaseLookup", "release_or_404"]


class ReleaseLookup(ProjectStore, ReleaseStore, Protocol):
    """What finding a release reads: the project, then the release."""


def release_or_404(
    tx: ReleaseLookup, principal: Principal, project_key: str, key: str, action: Action
) -> tuple[Project, Release]:
    """The project and the release, once ``principal`` may do ``action`` there. A write
    locks the release's row until the transaction ends (two promotions, or a promotion
    and a content change, cannot interleave)."""
    project = project_or_404(tx, project_key)
    principal.require(action, project)
    release = tx.get_release(project.id, key, for_update=action is not Action.READ)
    if release is None:
        raise NotFound(f"no release {key!r} in project {project_key!r}")
    return project, release
