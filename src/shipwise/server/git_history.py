"""The ``GitHistory`` port over dulwich: a project's repository read in-process, never
by running ``git`` and parsing its text.

A location is either a path on the server (a bare or working repository, read where it
is) or a URL (``https://``, ``http://``, ``ssh://``, ``git://``, ``file://``): that one is
cloned, bare, into ``cache_dir`` the first time and fetched before every walk, so the
notes see what was pushed since. One lock per location keeps two refreshes of the same
clone from fetching into it at once.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Sequence
from pathlib import Path

from dulwich import porcelain
from dulwich.errors import NotGitRepository
from dulwich.objects import Commit, ObjectID
from dulwich.repo import Repo

from shipwise.domain.release_notes import GitCommit
from shipwise.server.ports import GitUnavailable
from shipwise.server.ports.release_notes import is_remote

__all__ = ["DulwichHistory"]

MAX_MESSAGE = 10_000  # characters of a commit message kept: the notes need its head


def _decoded(commit: Commit) -> str:
    encoding = (commit.encoding or b"utf-8").decode("ascii", "replace")
    try:
        text: str = commit.message.decode(encoding, "replace")
    except LookupError:  # an encoding header Python does not know
        text = commit.message.decode("utf-8", "replace")
    return text[:MAX_MESSAGE]


class DulwichHistory:
    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, location: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(location, threading.Lock())

    def _open(self, location: str) -> Repo:
        if not is_remote(location):
            try:
                return Repo(location)
            except (NotGitRepository, OSError) as error:
                raise GitUnavailable(
                    f"{location!r} is not a git repository the server can read ({error})"
                ) from None
        name = hashlib.sha256(location.encode()).hexdigest()[:24]
        target = self._cache_dir / name
        quiet = io.BytesIO()
        try:
            if not (target / "HEAD").exists():
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                return porcelain.clone(
                    location, str(target), bare=True, checkout=False, errstream=quiet
                )
            repo = Repo(str(target))
            porcelain.fetch(repo, location, outstream=io.StringIO(), errstream=quiet)
            return repo
        except Exception as error:  # dulwich raises many kinds (HTTP, SSH, OS): all one here
            raise GitUnavailable(f"cannot fetch {location!r}: {error}") from None

    def commits_between(
        self, location: str, head: str, base: str | None, limit: int
    ) -> Sequence[GitCommit]:
        with self._lock(location):
            repo = self._open(location)
            try:
                return self._walk(repo, location, head, base, limit)
            finally:
                repo.close()

    @staticmethod
    def _walk(
        repo: Repo, location: str, head: str, base: str | None, limit: int
    ) -> list[GitCommit]:
        for sha in (head, base):
            if sha is not None and ObjectID(sha.encode()) not in repo.object_store:
                raise GitUnavailable(
                    f"commit {sha} is not in the repository at {location!r}: push it there "
                    "(or fix the release's commit)"
                )
        exclude = [ObjectID(base.encode())] if base is not None else None
        walker = repo.get_walker(
            include=[ObjectID(head.encode())], exclude=exclude, max_entries=limit
        )
        return [
            GitCommit(
                sha=entry.commit.id.decode(),
                message=_decoded(entry.commit),
                parents=tuple(p.decode() for p in entry.commit.parents),
            )
            for entry in walker
        ]
