"""Server settings, from flags and the environment (``SHIPWISE_*``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from shipwise.server.api.limits import DEFAULT_LIMITS, BodyLimits
from shipwise.server.clocks import DEMO_SPEED, AcceleratedClock, persisted_clock, system_clock

DEMO_CLOCK_FILE = "demo-clock"  # the demo's simulated timeline, kept in the data directory


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("shipwise-data")
    database_url: str | None = None  # default: SQLite in data_dir
    # SQLite: seconds a write waits for another process's lock before answering 503.
    database_busy_timeout: float = 10.0
    admin_token: str | None = None  # the first admin token, instead of a generated one
    host: str = "127.0.0.1"
    port: int = 4242
    # Where people open the dashboard (behind a proxy: its public address): notifications
    # link to pages under it. None: this server's own http://host:port.
    public_url: str | None = None
    demo: bool = False  # on first start, load the demo flags into the default project
    github_webhook_secret: str | None = None  # signs GitHub webhook deliveries
    vercel_drain_secret: str | None = None  # signs Vercel drain deliveries
    vercel_verify: str | None = None  # Vercel's endpoint verification token (x-vercel-verify)
    vercel_retention: str | None = None  # how long drain records are kept (default 30 days)
    notify_webhook_url: str | None = None  # rollout notifications, signed JSON POSTs
    notify_webhook_secret: str | None = None  # the HMAC key receivers verify with
    runner: bool = True  # run the rollout runner in this process (one instance acts)
    runner_interval: float = 1.0  # seconds between the runner's rounds
    runner_lease: float = 15.0  # SQLite: seconds before a silent runner's lease lapses
    metric_timeout: float = 5.0  # seconds a pulled metric source may take
    body_limits: BodyLimits = DEFAULT_LIMITS  # request sizes and JSON depth (api/limits.py)
    # Simulations, tests and the demo: run on an accelerated clock (``clocks``). None:
    # real time, or with ``demo`` ``DEMO_SPEED`` (a week of a rollout step in a minute).
    clock_speed: float | None = None
    clock_start: str | None = None  # ISO time the simulated clock starts at
    clock_origin: float | None = None  # the wall-clock moment (unix seconds) it starts

    @property
    def speed(self) -> float:
        """How many times faster than the wall clock the store's clock runs."""
        if self.clock_speed is not None:
            return self.clock_speed
        return DEMO_SPEED if self.demo else 1.0

    def clock(self) -> Callable[[], datetime]:
        """The store's clock: what releases, rollouts, evidence and audit records are
        stamped with and the runner schedules by. People's sessions, sign-in links and
        token expiry keep the wall clock (``serve`` wires them so): a 12-hour session
        must not end in five seconds of a demo."""
        if self.demo and self.clock_start is None:
            # Kept in the data directory, so a restart carries on the demo's timeline.
            return persisted_clock(self.data_dir / DEMO_CLOCK_FILE, self.speed)
        if self.speed == 1.0 and self.clock_start is None:
            return system_clock
        start = datetime.fromisoformat(self.clock_start) if self.clock_start else system_clock()
        return AcceleratedClock(start, self.speed, self.clock_origin)

    @property
    def dashboard_url(self) -> str:
        """The dashboard's absolute base address, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shipwise.db').resolve()}"

    @classmethod
    def from_environment(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": Path(os.environ.get("SHIPWISE_DATA_DIR", "shipwise-data")),
            "database_url": os.environ.get("SHIPWISE_DATABASE_URL") or None,
            "database_busy_timeout": float(
                os.environ.get("SHIPWISE_DATABASE_BUSY_TIMEOUT", "10") or 10
            ),
            "admin_token": os.environ.get("SHIPWISE_ADMIN_TOKEN") or None,
            "public_url": _public_url(os.environ.get("SHIPWISE_PUBLIC_URL") or None),
            "github_webhook_secret": os.environ.get("SHIPWISE_GITHUB_WEBHOOK_SECRET") or None,
            "vercel_drain_secret": os.environ.get("SHIPWISE_VERCEL_DRAIN_SECRET") or None,
            "vercel_verify": os.environ.get("SHIPWISE_VERCEL_VERIFY") or None,
            "vercel_retention": os.environ.get("SHIPWISE_VERCEL_RETENTION") or None,
            "notify_webhook_url": os.environ.get("SHIPWISE_NOTIFY_WEBHOOK_URL") or None,
            "notify_webhook_secret": os.environ.get("SHIPWISE_NOTIFY_WEBHOOK_SECRET") or None,
            "runner": os.environ.get("SHIPWISE_RUNNER", "1") not in ("0", "false", "no"),
            "runner_lease": float(os.environ.get("SHIPWISE_RUNNER_LEASE_SECONDS", "15") or 15),
            "clock_speed": float(os.environ["SHIPWISE_CLOCK_SPEED"])
            if os.environ.get("SHIPWISE_CLOCK_SPEED")
            else None,
            "clock_start": os.environ.get("SHIPWISE_CLOCK_START") or None,
            "clock_origin": float(os.environ["SHIPWISE_CLOCK_ORIGIN"])
            if os.environ.get("SHIPWISE_CLOCK_ORIGIN")
            else None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _public_url(value: str | None) -> str | None:
    """``SHIPWISE_PUBLIC_URL`` when it is an absolute http(s) address, else a
    ``ValueError`` saying what it must be (a link in every message would be broken)."""
    if value is None:
        return None
    parsed = urlsplit(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(
            f"SHIPWISE_PUBLIC_URL must be an absolute http:// or https:// address, got {value!r}"
        )
    return value.strip().rstrip("/")
