"""Real git repositories for the release-notes tests, made with the ``git`` command in a
temporary directory: conventional and plain commits, a merged pull request, a squashed
one, a breaking change and a plain branch merge, with two production releases apart.

Each commit gets its own time, a minute after the last, so the history's order is the
same on every run."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class GitRepo:
    path: Path
    _tick: int = 0
    shas: dict[str, str] = field(default_factory=dict)  # name given → commit SHA

    def git(self, *args: str) -> str:
        self._tick += 1
        stamp = f"2026-01-01T10:{self._tick // 60:02d}:{self._tick % 60:02d}+00:00"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path),
        }
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def commit(self, message: str, name: str | None = None) -> str:
        self.git("commit", "--allow-empty", "-q", "-m", message)
        sha = self.git("rev-parse", "HEAD")
        if name:
            self.shas[name] = sha
        return sha


def make_repo(path: Path) -> GitRepo:
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", "main")
    return repo


def two_releases(path: Path) -> GitRepo:
    """main: the first production release's commit ("first"), then, for the second
    ("second"): a fix, a plain commit, a chore, pull request #7 merged with two commits of
    its own, pull request #9 squashed, a breaking change, and a branch merged plainly
    ("Merge branch 'docs-side'") bringing one docs commit."""
    repo = make_repo(path)
    repo.commit("chore: start")
    repo.commit("feat(api): add search", "first")
    repo.commit("fix: crash on an empty cart", "fix")
    repo.commit("Update the readme", "plain")
    repo.commit("chore: bump dependencies", "chore")
    repo.git("checkout", "-q", "-b", "feature/saved-carts")
    repo.commit("wip: saved carts model", "pr7-a")
    repo.commit("saved carts page", "pr7-b")
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge",
        "--no-ff",
        "-q",
        "-m",
        "Merge pull request #7 from team/feature/saved-carts\n\nfeat(cart): saved carts",
        "feature/saved-carts",
    )
    repo.shas["pr7"] = repo.git("rev-parse", "HEAD")
    repo.commit("perf: faster index (#9)", "pr9")
    repo.commit("feat!: drop the v1 API\n\nBREAKING CHANGE: /v1 is gone", "breaking")
    repo.git("checkout", "-q", "-b", "docs-side")
    repo.commit("docs: explain saved carts", "docs")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "--no-ff", "-q", "-m", "Merge branch 'docs-side'", "docs-side")
    repo.shas["second"] = repo.git("rev-parse", "HEAD")
    return repo
