"""``shipwise channel``: add a channel with a secret, list, show, test and remove it;
nothing printed holds the secret."""

from __future__ import annotations

from tests.integration.cli.cli_runner import Shipwise
from tests.support.slack_standin import slack_standin


def test_channel_commands__add_list_show_test_remove__never_print_the_secret(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    with slack_standin() as slack:
        added = shipwise(
            "channel",
            "add",
            "releases",
            "--kind",
            "slack",
            "--secret",
            f"webhook_url={slack.webhook_url}",
            *remote,
        )
        listed = shipwise("channel", "list", *remote)
        shown = shipwise("channel", "show", "releases", *remote)
        tested = shipwise("channel", "test", "releases", *remote)
        slack.refuse(500)
        failed = shipwise("channel", "test", "releases", *remote)
        removed = shipwise("channel", "remove", "releases", *remote)
        after = shipwise("channel", "list", "--json", *remote)

    for result in (added, listed, shown, tested, failed, removed, after):
        assert "standin-webhook-secret-path" not in result.output
    assert added.exit_code == 0, added.output
    assert "releases" in listed.output
    assert "webhook_url" in shown.output
    assert "write-only" in shown.output
    assert tested.exit_code == 0, tested.output
    assert "sent" in tested.output
    assert len(slack.posts) == 1
    assert failed.exit_code == 1
    assert "500" in failed.output
    assert removed.exit_code == 0, removed.output
    assert '"channels": []' in after.output
