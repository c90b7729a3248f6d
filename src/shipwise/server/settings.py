"""Server settings, from flags and the environment (``SHIPWISE_*``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shipwise.server.api.limits import DEFAULT_LIMITS, BodyLimits
from shipwise.server.clocks import AcceleratedClock, system_clock


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("shipwise-data")
    database_url: str | None = None  # default: SQLite in data_dir
    # SQLite: seconds a write waits for another process's lock before answering 503.
    database_busy_timeout: float = 10.0
    admin_token: str | None = None  # the first admin token, instead of a generated one
    host: str = "127.0.0.1"
    port: int = 4242
    demo: bool = False  # on first start, load the demo flags into the default project
    github_webhook_secret: str | None = None  # signs GitHub webhook deliveries
    notify_webhook_url: str | None = None  # rollout notifications, signed JSON POSTs
    notify_webhook_secret: str | None = None  # the HMAC key receivers verify with
    runner: bool = True  # run the rollout runner in this process (one instance acts)
    runner_interval: float = 1.0  # seconds between the runner's rounds
    runner_lease: float = 15.0  # SQLite: seconds before a silent runner's lease lapses
    metric_timeout: float = 5.0  # seconds a pulled metric source may take
    body_limits: BodyLimits = DEFAULT_LIMITS  # request sizes and JSON depth (api/limits.py)
    # Simulations and tests: run on an accelerated clock (see ``clocks.AcceleratedClock``).
    clock_speed: float = 1.0
    clock_start: str | None = None  # ISO time the simulated clock starts at
    clock_origin: float | None = None  # the wall-clock moment (unix seconds) it starts

    def clock(self) -> Callable[[], datetime]:
        if self.clock_speed == 1.0 and self.clock_start is None:
            return system_clock
        start = datetime.fromisoformat(self.clock_start) if self.clock_start else system_clock()
        return AcceleratedClock(start, self.clock_speed, self.clock_origin)

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
            "github_webhook_secret": os.environ.get("SHIPWISE_GITHUB_WEBHOOK_SECRET") or None,
            "notify_webhook_url": os.environ.get("SHIPWISE_NOTIFY_WEBHOOK_URL") or None,
            "notify_webhook_secret": os.environ.get("SHIPWISE_NOTIFY_WEBHOOK_SECRET") or None,
            "runner": os.environ.get("SHIPWISE_RUNNER", "1") not in ("0", "false", "no"),
            "runner_lease": float(os.environ.get("SHIPWISE_RUNNER_LEASE_SECONDS", "15") or 15),
            "clock_speed": float(os.environ.get("SHIPWISE_CLOCK_SPEED", "1") or 1),
            "clock_start": os.environ.get("SHIPWISE_CLOCK_START") or None,
            "clock_origin": float(os.environ["SHIPWISE_CLOCK_ORIGIN"])
            if os.environ.get("SHIPWISE_CLOCK_ORIGIN")
            else None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
