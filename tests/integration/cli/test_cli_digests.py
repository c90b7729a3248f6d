"""``shipwise channel subscribe … --digest daily --at HH:MM``: the subscription is saved
and listed with its time; a Slack channel's is refused as bad input (exit 2) naming ``digest``."""

from __future__ import annotations

import json

from tests.integration.cli.cli_runner import Shipwise


def test_subscribe_with_a_digest__is_listed_with_its_time__and_refused_for_slack(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    email = [
        "--set", "host=127.0.0.1", "--set", "port=2525", "--set", "security=none",
        "--set", "from=shipwise@shop.example", "--set", 'recipients=["rm@shop.example"]',
    ]  # fmt: skip
    added = shipwise("channel", "add", "digest-mail", "--kind", "email", *email, *remote)
    slack = shipwise(
        "channel", "add", "digest-slack", "--kind", "slack",
        "--secret", "webhook_url=https://hooks.example/x", *remote,
    )  # fmt: skip

    saved = shipwise(
        "channel", "subscribe", "digest-mail", "--events", "*", "--digest", "daily",
        "--at", "08:30", *remote,
    )  # fmt: skip
    listed = shipwise("channel", "subscriptions", "--channel", "digest-mail", *remote)
    as_json = shipwise("channel", "subscriptions", "--channel", "digest-mail", "--json", *remote)
    refused = shipwise(
        "channel", "subscribe", "digest-slack", "--events", "*", "--digest", "daily",
        "--json", *remote,
    )  # fmt: skip

    assert added.exit_code == 0, added.output
    assert slack.exit_code == 0, slack.output
    assert saved.exit_code == 0, saved.output
    assert "daily digest at 08:30" in saved.output
    assert "daily digest at 08:30" in listed.output
    [row] = json.loads(as_json.output)["subscriptions"]
    assert (row["digest"], row["digest_at"]) == ("daily", "08:30")
    assert refused.exit_code == 2, refused.output  # bad input, as cli/errors.py says
    assert "only an email channel takes a digest" in refused.output
    assert "(field: digest)" in refused.output
