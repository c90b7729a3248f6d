"""``shipwise project repo set`` and ``shipwise release notes REL [--refresh] [--json]``
against a real server and a real git repository."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.cli_runner import Shipwise
from tests.support.git_repos import two_releases


def test_release_notes__a_repository_set__prints_the_markdown(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path
) -> None:
    repo = two_releases(tmp_path / "repo")
    project = ("-p", "notes-cli")
    assert shipwise("project", "create", "notes-cli", *remote).exit_code == 0
    assert shipwise("project", "repo", "set", str(repo.path), *project, *remote).exit_code == 0
    created = shipwise(
        "release", "create", "Second", "--commit", repo.shas["second"], *project, *remote
    )
    assert created.exit_code == 0, created.output

    printed = shipwise("release", "notes", "rel-1", *project, *remote)
    refreshed = shipwise.json("release", "notes", "rel-1", "--refresh", *project, *remote)
    shown = shipwise("project", "repo", "show", *project, *remote)

    assert printed.exit_code == 0, printed.output
    assert printed.stdout.startswith("# rel-1: Second\n")
    assert "## Breaking changes\n\n- feat: drop the v1 API" in printed.stdout
    assert "add search" in printed.stdout  # no earlier production release: all history
    assert refreshed["markdown"] == printed.stdout
    assert str(repo.path) in shown.stdout
