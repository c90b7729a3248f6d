"""A server with something to announce: in project ``default``, flag ``new-checkout`` on
in staging for users ``u-on`` and ``u-other`` only, release ``rel-1`` behind it, and SDK
keys of staging. The server's clock is a ``ManualClock`` at ``START``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tests.support.server import RunningServer

from shipwise.server.services.principal import SYSTEM

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PROJECT, ENVIRONMENT, FLAG, RELEASE = "default", "staging", "new-checkout", "rel-1"
ANNOUNCEMENTS = f"/api/v1/projects/{PROJECT}/releases/{RELEASE}/announcements"
ON_FOR = ("u-on", "u-other")


@dataclass(frozen=True)
class Keys:
    server: str
    frontend: str
    environment_id: int


def seed(server: RunningServer) -> Keys:
    services = server.services
    services.flags.create(SYSTEM, PROJECT, FLAG)
    rules = {
        "enabled": True,
        "strategies": [{"name": "userWithId", "parameters": {"userIds": ",".join(ON_FOR)}}],
    }
    services.flags.update_rules(SYSTEM, PROJECT, FLAG, ENVIRONMENT, rules, expected_version=None)
    services.releases.create(
        SYSTEM, PROJECT, key=RELEASE, title="New checkout", kind="feature", flags=[FLAG]
    )

    def key(kind: str) -> str:
        made = services.tokens.create(
            SYSTEM, name=kind, kind=kind, project_key=PROJECT, environment_key=ENVIRONMENT
        )
        return made.secret

    environment = services.projects.environment(SYSTEM, PROJECT, ENVIRONMENT)
    return Keys(key("server"), key("frontend"), environment.id)


def announce(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    """An announcement of rel-1 to staging from START + 1 h for a day (``fields`` change it)."""
    body: dict[str, Any] = {
        "flag": FLAG,
        "title": "A faster checkout",
        "body": "Pay in **one** step.\n\n<script>alert('x')</script>",
        "link": "https://example.com/new-checkout",
        "starts_at": (START + timedelta(hours=1)).isoformat(),
        "ends_at": (START + timedelta(days=1)).isoformat(),
        "environment": ENVIRONMENT,
    }
    response = admin.post(ANNOUNCEMENTS, json=body | fields)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
