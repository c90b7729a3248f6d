"""``shipwise release learnings REL [--file FILE]`` and ``shipwise release report REL
[--output FILE]`` against a real server: learnings saved from TOML (its dates as TOML
dates), a stale file refused with exit 1, a bad field exit 2, and the record written."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.cli_runner import Shipwise

TOML = """
went_well = "Quiet rollout."
went_badly = "Slow approvals."
contributing_factors = "Holidays."

[[action_items]]
what = "Two approvers on call"
owner = "carol"
due = 2026-12-31

[[timeline]]
at = 2026-11-02T10:00:00Z
who = "dan"
what = "checked the traces"
"""


def test_release_learnings__from_a_toml_file__saved_and_printed(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path
) -> None:
    project = ("-p", "after-cli")
    assert shipwise("project", "create", "after-cli", *remote).exit_code == 0
    assert shipwise("release", "create", "Checkout", *project, *remote).exit_code == 0
    learnings = tmp_path / "learnings.toml"
    learnings.write_text(TOML, encoding="utf-8")

    saved = shipwise("release", "learnings", "rel-1", "--file", str(learnings), *project, *remote)
    shown = shipwise.json("release", "learnings", "rel-1", *project, *remote)
    printed = shipwise("release", "learnings", "rel-1", *project, *remote)

    assert saved.exit_code == 0, saved.output
    assert "version 1" in saved.stdout
    assert shown["action_items"] == [
        {"what": "Two approvers on call", "owner": "carol", "due": "2026-12-31"}
    ]
    assert "Slow approvals." in printed.stdout
    assert "checked the traces" in printed.stdout
    assert "\nWhat went well:\nQuiet rollout." in printed.stdout  # a heading on its own line


def test_release_learnings__stale_version_or_bad_field__exit_1_or_2_and_nothing_saved(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path
) -> None:
    project = ("-p", "after-stale")
    assert shipwise("project", "create", "after-stale", *remote).exit_code == 0
    assert shipwise("release", "create", "Checkout", *project, *remote).exit_code == 0
    first = tmp_path / "first.json"
    first.write_text('{"went_well": "first"}', encoding="utf-8")
    stale = tmp_path / "stale.json"
    stale.write_text('{"version": 0, "went_well": "second"}', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[action_items]]\nwhat = "x"\nowner = "y"\ndue = "someday"\n')
    file = ("release", "learnings", "rel-1", "--file")
    assert shipwise(*file, str(first), *project, *remote).exit_code == 0

    refused = shipwise(*file, str(stale), *project, *remote)
    wrong = shipwise(*file, str(bad), *project, *remote)

    assert refused.exit_code == 1, refused.output
    assert "reload them" in refused.output
    assert wrong.exit_code == 2, wrong.output
    assert "action_items[0].due" in wrong.output
    shown = shipwise.json("release", "learnings", "rel-1", *project, *remote)
    assert (shown["version"], shown["went_well"]) == (1, "first")


def test_release_report__to_a_file__writes_the_markdown_record(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path
) -> None:
    project = ("-p", "after-record")
    assert shipwise("project", "create", "after-record", *remote).exit_code == 0
    assert shipwise("release", "create", "Checkout", *project, *remote).exit_code == 0
    output = tmp_path / "rel-1.md"

    written = shipwise("release", "report", "rel-1", "--output", str(output), *project, *remote)
    printed = shipwise("release", "report", "rel-1", *project, *remote)

    assert written.exit_code == 0, written.output
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == output.read_text(encoding="utf-8")
    assert printed.stdout.startswith("# Release record: rel-1 (Checkout)\n")
    assert "## Learnings\n\n_Not written yet._" in printed.stdout
