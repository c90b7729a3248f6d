"""The ``GitHistory`` port over dulwich: a project's repository read in-process, never
by running ``git`` and parsing its text.

A location is either a path on the server (a bare or working repository, read where it
is) or a URL (``https://``, ``http://``, ``ssh://``, ``git://``, ``file://``): that one is
cloned, bare, into ``cache_dir`` the first time and fetched before every walk, so the
notes see what was pushed since. One lock per location keeps two refreshes of the same
clone from fetching into it at once.

dulwich sets no timeout on a ``git://`` socket (nor, by default, on HTTP), so a remote
that accepts and never answers would hold the request, and the location's lock, forever.
Each walk runs in a thread of its own that holds the lock; the request waits at most
``timeout`` seconds for it and then says so. A walk that hangs keeps the lock until it
ends (at most one per location), so the next request for that location is told a fetch
is still under way instead of fetching into the same clone beside it.
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
TIMEOUT = 30.0  # seconds a request waits for a fetch and walk


def _decoded(commit: Commit) -> str:
    encoding = (commit.encoding or b"utf-8").decode("ascii", "replace")
    try:
        text: str = commit.message.decode(encoding, "replace")
    except LookupError:  # an encoding header Python does not know
        text = commit.message.decode("utf-8", "replace")
    return text[:MAX_MESSAGE]


class DulwichHistory:
    def __init__(self, cache_dir: Path, timeout: float = TIMEOUT) -> None:
        self._cache_dir = cache_dir
        self._timeout = timeout
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
        lock = self._lock(location)
        if not lock.acquire(timeout=self._timeout):
            raise GitUnavailable(
                f"a fetch of {location!r} is still under way (it had no answer within "
                f"{self._timeout:g} s): try again later, or check that the remote answers"
            )
        found: list[Sequence[GitCommit]] = []
        failed: list[GitUnavailable] = []
        done = threading.Event()

        def walk() -> None:  # holds the lock to its end, however long that takes
            try:
                repo = self._open(location)
                try:
                    found.append(self._walk(repo, location, head, base, limit))
                finally:
                    repo.close()
            except GitUnavailable as error:
                failed.append(error)
            except Exception as error:  # dulwich's many kinds: the request hears them all
                failed.append(GitUnavailable(f"cannot read {location!r}: {error}"))
            finally:
                lock.release()
                done.set()

        threading.Thread(target=walk, name="shipwise-git", daemon=True).start()
        if not done.wait(self._timeout):
            raise GitUnavailable(f"cannot fetch {location!r}: no answer within {self._timeout:g} s")
        if failed:
            raise failed[0]
        return found[0]

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
