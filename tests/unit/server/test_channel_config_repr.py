"""A channel's configuration holds its secrets opened, for its sender: its repr (what a
log line, a traceback's message or a failed assertion would show) names none of them."""

from __future__ import annotations

from shipwise.server.ports import ChannelConfig


def test_channel_config__shown__names_its_settings_but_none_of_its_secrets() -> None:
    config = ChannelConfig(
        "slack",
        "releases",
        {"channel": "#releases"},
        {"token": "xoxb-secret-token-5521", "webhook_url": "https://hooks.example/T/B/s3cr3t"},
    )

    shown = repr(config)

    assert "#releases" in shown
    assert "xoxb-secret-token-5521" not in shown
    assert "s3cr3t" not in shown
