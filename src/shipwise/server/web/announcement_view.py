"""What the release page's "In-app announcements" section shows: each announcement with
its state by the server's clock, and what the form to add one offers (the release's
flags, the project's environments, production first chosen).

Its own module so that the release page (which shows it) and the announcement actions
(which show the page again after a refusal) both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipwise.domain.announcements import Announcement
from shipwise.server.bootstrap import Services
from shipwise.server.services.announcements import AnnouncementState
from shipwise.server.services.principal import Principal

__all__ = ["AnnouncementRow", "AnnouncementSection", "announcement_section"]


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    announcement: Announcement
    state: AnnouncementState

    @property
    def over(self) -> bool:
        """Ended (by its window or by someone): nothing left to end, only to remove."""
        return self.state is AnnouncementState.ENDED


@dataclass(frozen=True, slots=True)
class AnnouncementSection:
    rows: list[AnnouncementRow]
    environments: list[str]  # the project's, in pipeline order
    default_environment: str | None  # the last one (production), as the service's default


def announcement_section(
    services: Services, principal: Principal, project: str, key: str
) -> AnnouncementSection:
    """The section of release ``key`` as ``principal`` may read it."""
    service = services.announcements
    found = service.of_release(principal, project, key)
    rows = [AnnouncementRow(a, service.state(a)) for a in found]
    environments = [e.key for e in services.projects.get(principal, project).environments]
    return AnnouncementSection(rows, environments, environments[-1] if environments else None)
