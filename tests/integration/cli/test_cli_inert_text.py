"""What the CLI shows of stored text is inert: a name saved before names were checked,
or free text that may hold anything (descriptions, titles of old releases), is printed
with its control, bidirectional and zero-width characters escaped and its markup as
text, so it can neither reorder a line, forge one, nor drive the terminal.

The hostile values are stored through Shipwise's own services (as a database from before
the rules would hold them), then read back through the CLI against the real server.
"""

from __future__ import annotations

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer

from shipwise.server.services.principal import SYSTEM

# Forges a line, reorders the rest, sets the terminal's title, and tries markup.
HOSTILE = "Leg\u202eycaga\u2028FORGED LINE\x1b]0;pwned\x07[red]red[/red]\ufeff"
ESCAPED = "Leg\\u202eycaga\\u2028FORGED LINE\\u001b]0;pwned\\u0007[red]red[/red]\\ufeff"
RAW = ("\u202e", "\u2028", "\x1b", "\x07", "\ufeff")


@pytest.fixture(scope="module")
def legacy(server: RunningServer) -> str:
    """Project "legacy" named HOSTILE, with a flag and a release whose texts are hostile."""
    services = server.services
    services.projects.create(SYSTEM, "legacy", HOSTILE)
    services.flags.create(SYSTEM, "legacy", "old-flag", description=f"two\nlines {HOSTILE}")
    services.releases.create(SYSTEM, "legacy", key="rel-old", title=HOSTILE, kind="feature")
    return "legacy"


def _shows_inert(output: str) -> None:
    assert ESCAPED in output
    assert not any(char in output for char in RAW)


def test_project_list__with_a_hostile_stored_name__shows_it_escaped(
    shipwise: Shipwise, remote: tuple[str, ...], legacy: str
) -> None:
    result = shipwise("project", "list", *remote)

    assert result.exit_code == 0, result.output
    _shows_inert(result.stdout)


def test_flag_list__with_a_hostile_description__shows_it_on_its_own_row_escaped(
    shipwise: Shipwise, remote: tuple[str, ...], legacy: str
) -> None:
    result = shipwise("flag", "list", "-p", legacy, *remote)

    assert result.exit_code == 0, result.output
    _shows_inert(result.stdout)
    assert "two\\nlines" in result.stdout  # a break inside a row would pass for a new row


def test_release_show__with_a_hostile_title__prints_one_inert_line(
    shipwise: Shipwise, remote: tuple[str, ...], legacy: str
) -> None:
    result = shipwise("release", "show", "rel-old", "-p", legacy, *remote)

    assert result.exit_code == 0, result.output
    _shows_inert(result.stdout)
    [line] = [line for line in result.stdout.splitlines() if "Leg" in line]
    assert line.startswith("rel-old  Leg")
