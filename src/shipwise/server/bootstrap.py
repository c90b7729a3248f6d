"""The one place that wires adapters (storage, bus) into services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from shipwise.data import demo_snapshot
from shipwise.engine import Snapshot
from shipwise.server.ports import ChangeBus, Clock
from shipwise.server.services.audit import AuditService
from shipwise.server.services.flags import FlagService
from shipwise.server.services.github_intake import GitHubIntake
from shipwise.server.services.importing import ImportService
from shipwise.server.services.metrics import MetricsService
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.projects import ProjectService
from shipwise.server.services.releases import ReleaseService
from shipwise.server.services.segments import SegmentService
from shipwise.server.services.snapshots import SnapshotService
from shipwise.server.services.tokens import TokenService
from shipwise.server.settings import Settings
from shipwise.server.storage.bus import LocalBus, PostgresBus
from shipwise.server.storage.database import Database

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    database: Database
    bus: ChangeBus
    projects: ProjectService
    flags: FlagService
    segments: SegmentService
    tokens: TokenService
    audit: AuditService
    snapshots: SnapshotService
    importing: ImportService
    metrics: MetricsService
    releases: ReleaseService
    github: GitHubIntake
    first_admin_secret: str | None = None  # set when first start generated one

    def close(self) -> None:
        self.bus.close()
        self.database.dispose()


def open_database(settings: Settings) -> Database:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.resolved_database_url)


def build(settings: Settings, clock: Clock = system_clock) -> Services:
    """Open the database, migrate it, wire everything, and on an empty database create
    the default project and the first admin token."""
    database = open_database(settings)
    database.upgrade()
    bus: ChangeBus = LocalBus() if database.is_sqlite else PostgresBus(database.url)
    database.attach_bus(bus)
    releases = ReleaseService(database, clock)
    services = Services(
        database=database,
        bus=bus,
        projects=ProjectService(database),
        flags=FlagService(database),
        segments=SegmentService(database),
        tokens=TokenService(database, clock),
        audit=AuditService(database),
        snapshots=SnapshotService(database),
        importing=ImportService(database),
        metrics=MetricsService(database),
        releases=releases,
        github=GitHubIntake(database, clock, releases, settings.github_webhook_secret),
    )
    bus.subscribe(services.snapshots.on_change)
    first_start, services.first_admin_secret = services.tokens.bootstrap_admin(settings.admin_token)
    if first_start and not services.projects.all(SYSTEM):
        services.projects.create(SYSTEM, "default", "Default project")
        if settings.demo:
            seed_demo(services)
    return services


def seed_demo(services: Services) -> None:
    """The demo flags in every environment of the default project, through the same
    import a team moving in from Unleash uses (so it is audited like any change)."""
    document = Snapshot.load(demo_snapshot()).to_unleash()
    for environment in ("dev", "staging", "production"):
        services.importing.import_unleash(SYSTEM, "default", environment, document)
