"""The one place that wires adapters (storage, bus) into services.

``wire_services`` builds every service over any ``Store``: ``build`` gives it the
database, the service unit tests a memory store. Time comes from the store alone: the
services read ``now`` from their unit of work, and the token cache (which reads time
outside any) from the store's clock, so a simulated clock reaches everything at once;
only people's sessions, sign-in links and token expiry may be given a clock of their own
(``people_clock``: the wall clock under ``serve --demo``'s accelerated one)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Generic, TypeAlias, TypeVar

from shipwise.data import demo_snapshot
from shipwise.engine import Snapshot
from shipwise.server.clocks import system_clock
from shipwise.server.demo_world import seed_demo_work
from shipwise.server.git_history import DulwichHistory
from shipwise.server.metrics import pulled_sources
from shipwise.server.notify.channels import Senders
from shipwise.server.notify.log import LogNotifier
from shipwise.server.notify.mailout import SmtpMailer
from shipwise.server.notify.secrets import KEY_VARIABLE, FernetBox, secret_box
from shipwise.server.notify.webhook import WebhookNotifier
from shipwise.server.ports import (
    ChangeBus,
    ChannelSenders,
    Clock,
    GitHistory,
    MetricSource,
    Notifier,
    RunnerLock,
    SecretBox,
    Store,
)
from shipwise.server.ports.mailout import Mailer
from shipwise.server.services.announcements import AnnouncementService
from shipwise.server.services.audit import AuditService
from shipwise.server.services.calendar_feeds import CalendarFeedService
from shipwise.server.services.change_requests import ChangeRequestService
from shipwise.server.services.channels import ChannelService
from shipwise.server.services.deliveries import DeliveryService
from shipwise.server.services.email_announcements import EmailAnnouncementService
from shipwise.server.services.evidence import EvidenceService
from shipwise.server.services.fix_sweep import FixSweep
from shipwise.server.services.flags import FlagService
from shipwise.server.services.github_intake import GitHubIntake
from shipwise.server.services.help_docs import HelpDocsService
from shipwise.server.services.importing import ImportService
from shipwise.server.services.learnings import LearningsService
from shipwise.server.services.mailout_sending import MailoutSender
from shipwise.server.services.metric_catalog import MetricCatalog
from shipwise.server.services.metrics import MetricsService
from shipwise.server.services.notifications import Notifications
from shipwise.server.services.observations import Observer
from shipwise.server.services.policies import PolicyService
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.projects import ProjectService
from shipwise.server.services.promotion import PromotionService
from shipwise.server.services.release_board import ReleaseBoard
from shipwise.server.services.release_news import DEFAULT_PUBLIC_URL, Links, ReleaseNews
from shipwise.server.services.release_notes import ReleaseNotesService
from shipwise.server.services.release_policy import ReleasePolicy
from shipwise.server.services.release_records import ReleaseRecords
from shipwise.server.services.releases import ReleaseService
from shipwise.server.services.rollback import RollbackService
from shipwise.server.services.rollout_news import RolloutNews
from shipwise.server.services.rollouts import RolloutService
from shipwise.server.services.runner import RolloutRunner
from shipwise.server.services.schedules import ScheduleService
from shipwise.server.services.segments import SegmentService
from shipwise.server.services.snapshots import SnapshotService
from shipwise.server.services.subscriptions import SubscriptionService
from shipwise.server.services.success_reports import SuccessReports
from shipwise.server.services.tokens import TokenService
from shipwise.server.services.upcoming import UpcomingNotice
from shipwise.server.services.vercel_drains import (
    VercelDrains,
    VercelDrainSettings,
    parse_retention,
)
from shipwise.server.services.web_sessions import WebSessionService
from shipwise.server.settings import Settings
from shipwise.server.storage.bus import LocalBus
from shipwise.server.storage.database import Database
from shipwise.server.storage.locks import PostgresAdvisoryLock, SqliteLease
from shipwise.server.worker import DeliveryLoop, RunnerLoop

log = logging.getLogger(__name__)

StoreT = TypeVar("StoreT", bound=Store)


@dataclass
class Wired(Generic[StoreT]):
    """Every service over one store, and the bus that carries its changes. The server's
    are ``Services`` (over the database); the service unit tests wire a memory store."""

    store: StoreT
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
    evidence: EvidenceService
    promotion: PromotionService
    github: GitHubIntake
    notifications: Notifications
    metric_catalog: MetricCatalog
    rollouts: RolloutService
    rollback: RollbackService
    runner: RolloutRunner
    change_requests: ChangeRequestService
    policies: PolicyService
    web_sessions: WebSessionService
    board: ReleaseBoard
    channels: ChannelService
    subscriptions: SubscriptionService
    release_notes: ReleaseNotesService
    deliveries: DeliveryService
    fix_sweep: FixSweep
    schedules: ScheduleService
    calendar_feeds: CalendarFeedService
    announcements: AnnouncementService
    success_reports: SuccessReports
    learnings: LearningsService
    release_records: ReleaseRecords
    vercel_drains: VercelDrains
    runner_loop: RunnerLoop | None = None  # started by ``start_runner``
    delivery_loop: DeliveryLoop | None = None  # started with it, delivers while it holds
    first_admin_secret: str | None = None  # set when first start generated one
    # Email announcements and help-docs links (set by ``wire_services`` once the release
    # notes they draft from are wired).
    mailouts: EmailAnnouncementService = field(init=False)
    mailout_sender: MailoutSender = field(init=False)
    help_docs: HelpDocsService = field(init=False)

    @property
    def database(self) -> StoreT:
        """The store, by the name the server's code and tests know it."""
        return self.store

    def start_runner(
        self: Wired[Database], interval: float = 1.0, lease: float = 15.0
    ) -> RunnerLoop:
        """Run the rollout runner in this process (it acts only while holding the lock)."""
        if self.runner_loop is None:
            lock = runner_lock(self.database, lease)
            sweeps = (self.fix_sweep.sweep, self.success_reports.sweep, self.vercel_drains.sweep)
            self.runner_loop = RunnerLoop(self.runner, lock, interval, sweeps)
            self.metric_catalog.on_wake = self.runner_loop.nudge
            self.runner_loop.start()
            loop = self.runner_loop
            self.delivery_loop = DeliveryLoop(self.notifications, lambda: loop.holding, interval)
            self.delivery_loop.start()
        return self.runner_loop

    def close(self: Wired[Database]) -> None:
        if self.delivery_loop is not None:
            self.delivery_loop.stop()
        if self.runner_loop is not None:
            self.runner_loop.stop()
        self.bus.close()
        self.database.dispose()


Services: TypeAlias = Wired[Database]


def runner_lock(database: Database, lease: float = 15.0) -> RunnerLock:
    if database.is_sqlite:
        return SqliteLease(database.engine, ttl=timedelta(seconds=lease))
    return PostgresAdvisoryLock(database.engine)


def change_bus(database: Database) -> ChangeBus:
    """In-process on SQLite; LISTEN/NOTIFY on PostgreSQL. psycopg is imported only here,
    for a PostgreSQL URL: it is the ``postgres`` extra, which a SQLite server lacks."""
    if database.is_sqlite:
        return LocalBus()
    from shipwise.server.storage.postgres_bus import PostgresBus  # noqa: PLC0415 (see above)

    return PostgresBus(database.url)


def notifiers(settings: Settings) -> dict[str, Notifier]:
    found: dict[str, Notifier] = {"log": LogNotifier()}
    if settings.notify_webhook_url:
        if not settings.notify_webhook_secret:
            raise ValueError(
                "SHIPWISE_NOTIFY_WEBHOOK_URL needs SHIPWISE_NOTIFY_WEBHOOK_SECRET: receivers "
                "verify each notification's signature with it"
            )
        found["webhook"] = WebhookNotifier(
            settings.notify_webhook_url, settings.notify_webhook_secret
        )
    return found


def database_secret_box(database: Database) -> FernetBox:
    """Channel secrets' key: ``SHIPWISE_SECRET_KEY``, else (SQLite) a key file made once
    beside the database, else (PostgreSQL) none: storing a secret is then refused."""
    name = database.engine.url.database
    sqlite_file = Path(name) if database.is_sqlite and name and name != ":memory:" else None
    box = secret_box(os.environ.get(KEY_VARIABLE) or None, sqlite_file)
    log.info("channel secrets: key from %s", box.origin)
    return box


def metric_sources(settings: Settings) -> dict[str, MetricSource]:
    return pulled_sources(settings.metric_timeout)  # one list of the kinds, in metrics/


def open_database(settings: Settings, clock: Clock = system_clock) -> Database:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(
        settings.resolved_database_url, clock=clock, busy_timeout=settings.database_busy_timeout
    )


def wire_services(
    store: StoreT,
    bus: ChangeBus,
    notifiers: Mapping[str, Notifier],
    metric_sources: Mapping[str, MetricSource],
    github_secret: str | None = None,
    git: GitHistory | None = None,
    *,
    box: SecretBox | None = None,
    senders: ChannelSenders | None = None,
    mailer: Mailer | None = None,
    people_clock: Clock | None = None,
    public_url: str = DEFAULT_PUBLIC_URL,
    vercel: VercelDrainSettings | None = None,
) -> Wired[StoreT]:
    """Every service over ``store``, wired once, whatever the store: the server's
    database (``build``) or a memory store (the service unit tests). Revision bumps the
    bus carries refresh the snapshots; revocations empty the token cache. Without
    ``box``, channel secrets cannot be stored (a channel without secrets still works).
    ``people_clock``: what sessions, sign-in links and token expiry run on, when not the
    store's (``serve`` on an accelerated clock keeps them on the wall clock).
    ``public_url``: the dashboard's address, which notifications link under."""
    box = box or FernetBox(None, "none")
    senders = senders or Senders()
    notifications = Notifications(store, notifiers, senders, box)
    release_policy = ReleasePolicy()
    news = ReleaseNews(notifications, Links(public_url))
    upcoming = UpcomingNotice(news)
    releases = ReleaseService(store, release_policy, news)
    observer = Observer(store, metric_sources)
    snapshots = SnapshotService(store)
    change_requests = ChangeRequestService(store, releases, notifications)
    learnings = LearningsService(store)
    # Remote repositories are cloned under the data directory (``build``); elsewhere
    # (the service tests) under the temporary directory.
    release_notes = ReleaseNotesService(
        store, git or DulwichHistory(Path(tempfile.gettempdir()) / "shipwise-git")
    )
    wired = Wired(
        store=store,
        bus=bus,
        projects=ProjectService(store),
        flags=FlagService(store),
        segments=SegmentService(store),
        # The one service that reads time outside a unit of work (its cache of tokens).
        tokens=TokenService(store, people_clock or store.now, bus),
        audit=AuditService(store),
        snapshots=snapshots,
        importing=ImportService(store),
        metrics=MetricsService(store),
        releases=releases,
        evidence=EvidenceService(store, release_policy, news, upcoming),
        promotion=PromotionService(store, release_policy, notifications, news),
        github=GitHubIntake(store, release_policy, github_secret, news, upcoming),
        notifications=notifications,
        metric_catalog=MetricCatalog(store, observer),
        rollouts=RolloutService(store, RolloutNews(notifications, news.links)),
        rollback=RollbackService(store, notifications, snapshots, release_policy, news),
        runner=RolloutRunner(store, observer, RolloutNews(notifications, news.links)),
        change_requests=change_requests,
        policies=PolicyService(store, releases, change_requests),
        web_sessions=WebSessionService(store, people_clock),
        board=ReleaseBoard(store, release_policy),
        channels=ChannelService(store, box, senders),
        subscriptions=SubscriptionService(store),
        deliveries=DeliveryService(store),
        fix_sweep=FixSweep(store, release_policy, news),
        schedules=ScheduleService(store, news.links),
        calendar_feeds=CalendarFeedService(store, news.links),
        announcements=AnnouncementService(store),
        success_reports=SuccessReports(store, news),
        learnings=learnings,
        release_records=ReleaseRecords(store, releases, release_notes, learnings),
        release_notes=release_notes,
        vercel_drains=VercelDrains(store, vercel or VercelDrainSettings()),
    )
    mailer = mailer or SmtpMailer()
    wired.mailouts = EmailAnnouncementService(store, wired.release_notes, mailer)
    wired.mailout_sender = MailoutSender(store, box, mailer)
    wired.help_docs = HelpDocsService(store)
    bus.subscribe(wired.snapshots.on_change)
    bus.subscribe_revocations(wired.tokens.forget)  # before any stream hears of it
    return wired


def build(
    settings: Settings, clock: Clock = system_clock, people_clock: Clock | None = None
) -> Services:
    """Open the database, migrate it, wire everything, and on an empty database create
    the default project and the first admin token. ``clock`` is the database's: every
    service reads the time from it."""
    database = open_database(settings, clock)
    database.upgrade()
    bus = change_bus(database)
    database.attach_bus(bus)
    services = wire_services(
        database,
        bus,
        notifiers(settings),
        metric_sources(settings),
        settings.github_webhook_secret,
        DulwichHistory(settings.data_dir / "git"),
        box=database_secret_box(database),
        people_clock=people_clock,
        public_url=settings.dashboard_url,
        vercel=VercelDrainSettings(
            settings.vercel_drain_secret,
            settings.vercel_verify,
            parse_retention(settings.vercel_retention),
        ),
    )
    first_start, services.first_admin_secret = services.tokens.bootstrap_admin(settings.admin_token)
    if first_start and not services.projects.all(SYSTEM):
        services.projects.create(SYSTEM, "default", "Default project")
        if settings.demo:
            seed_demo(services)
    return services


def seed_demo(services: Services) -> None:
    """The demo flags in every environment of the default project, through the same
    import a team moving in from Unleash uses (so it is audited like any change). It is
    set-up, not a hand edit: its authority ("demo seed") lets the flags that dev created
    arrive on in protected production too."""
    document = Snapshot.load(demo_snapshot()).to_unleash()
    for environment in ("dev", "staging", "production"):
        services.importing.import_unleash(
            SYSTEM, "default", environment, document, authority="demo seed"
        )
    seed_demo_work(services)  # the releases in every column and a rollout that moves
