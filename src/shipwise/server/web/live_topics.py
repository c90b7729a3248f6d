"""What an audit record changed, in the words a dashboard page declares it shows.

Every change writes one audit record in its own transaction, so the audit log is the
one list of "something changed" that every writer (API, CLI, pages, the rollout runner,
GitHub webhooks, another server instance) already keeps. A page names what it shows in
``data-live`` ("release:rel-3 commit:4f2a… board"); a record names what it touched
here. A topic is ``kind:key`` or a bare name for a whole page (``board``, ``flags``);
``*`` means "anything may have changed" (more records arrived than one read takes).
"""

from __future__ import annotations

from collections.abc import Callable

from shipwise.server.ports import AuditEntry

__all__ = ["ANYTHING", "SESSION_TARGETS", "topics_of"]

ANYTHING = "*"
# Records that may end a session: live streams re-check their session when one appears.
SESSION_TARGETS = frozenset({"session", "token"})
# Shown on no page: a sign-in elsewhere is no reason for this page to refresh.
_UNSHOWN = frozenset({"session"})


def _release(entry: AuditEntry) -> tuple[str, ...]:
    return (f"release:{entry.target_key}", "board")


def _commit(entry: AuditEntry) -> tuple[str, ...]:
    # CI results and deploys name their commit; a release page shows its commit's, and
    # the board's "blocked by" line may change with them.
    return (f"commit:{entry.target_key}", "board")


def _rollout(entry: AuditEntry) -> tuple[str, ...]:
    # Audit names a plan "flag@environment#id" (rollout_apply.plan_target).
    flag, _, rest = entry.target_key.partition("@")
    _, _, plan = rest.rpartition("#")
    found = ["board"]
    if plan:
        found.append(f"rollout:{plan}")
    if flag:  # a release page declares its flags, so their plans reach it too
        found += [f"flag:{flag}", "flags"]
    return tuple(found)


def _flag(entry: AuditEntry) -> tuple[str, ...]:
    return (f"flag:{entry.target_key}", "flags")


def _everything_shown(entry: AuditEntry) -> tuple[str, ...]:
    # A project's environments, a policy or a segment reach every page of the project.
    return ("board", "flags", ANYTHING)


# Beyond "type:key", which every record names: the pages a kind of record reaches.
_MORE: dict[str, Callable[[AuditEntry], tuple[str, ...]]] = {
    "release": _release,
    "commit": _commit,
    "deploy": _commit,
    "rollout": _rollout,
    "flag": _flag,
    "change-request": lambda entry: ("flags",),
    "segment": _everything_shown,
    "policy": _everything_shown,
    "environment": _everything_shown,
    "project": _everything_shown,
}


def topics_of(entry: AuditEntry) -> frozenset[str]:
    """The topics ``entry`` touched (see the module docstring)."""
    if entry.target_type in _UNSHOWN:
        return frozenset()
    more = _MORE.get(entry.target_type)
    extra = more(entry) if more is not None else ()
    return frozenset((f"{entry.target_type}:{entry.target_key}", *extra))
