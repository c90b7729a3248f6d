"""Flag keys as Unleash writes them, through the CLI against a real server: the command
sends each key as one path segment, whatever punctuation Unleash allows in it, and a
bad key comes back in words, as exit code 2."""

from __future__ import annotations

import pytest
from tests.integration.cli.cli_runner import Shipwise


@pytest.mark.parametrize("key", ["newCheckout", "Feature.C", "a~b", "Promo(2024)!*'"])
def test_flag_create_enable_show__unleash_style_key__the_flag_of_that_exact_name(
    shipwise: Shipwise, remote: tuple[str, ...], key: str
) -> None:
    project = f"keys-{abs(hash(key)) % 10**8}"
    assert shipwise("project", "create", project, *remote).exit_code == 0

    created = shipwise("flag", "create", key, "-p", project, *remote)
    enabled = shipwise("flag", "enable", key, "-e", "dev", "-p", project, *remote)
    shown = shipwise.json("flag", "show", key, "-p", project, *remote)
    other_case = shipwise("flag", "show", key.swapcase(), "-p", project, *remote)

    assert created.exit_code == 0, created.output
    assert enabled.exit_code == 0, enabled.output
    assert shown["key"] == key
    assert shown["environments"]["dev"]["enabled"] is True
    assert other_case.exit_code != 0
    assert f"no flag {key.swapcase()!r}" in other_case.output


def test_flag_create__bad_key__the_rule_in_words_and_exit_2(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("flag", "create", "new checkout", *remote)

    assert result.exit_code == 2
    assert "'new checkout' is not a valid flag key: ' ' at position 4 is not allowed" in (
        result.output
    )
    assert "try 'new-checkout'" in result.output
