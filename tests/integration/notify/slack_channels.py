"""Two Slack stand-ins on loopback, and a project channel pointed at one of them: what the
delivery tests set up before they break a channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.slack_standin import SlackStandin, slack_standin

from shipwise.server.bootstrap import Services
from shipwise.server.services.principal import SYSTEM


@pytest.fixture
def two_slacks() -> Iterator[tuple[SlackStandin, SlackStandin]]:
    with slack_standin() as first, slack_standin() as second:
        yield first, second


def hook(services: Services, name: str, slack: SlackStandin) -> None:
    """Channel ``name`` of project ``default``: ``slack``'s incoming webhook."""
    services.channels.create(
        SYSTEM, "default", name, "slack", {}, {"webhook_url": slack.webhook_url}
    )
