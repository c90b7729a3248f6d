"""The ways a feature may reach more users in a protected environment, and the words of
a refusal when a change takes another way.

Two ways only: the flag's release, once it has passed its gates into the environment,
whose rollout plan then takes the flag from 10% to 100%; or a change request approved by
the people the policy asks for. Release and experiment flags follow their release;
operational, kill-switch and permission flags follow change requests. Every refusal says
why, names the releases involved, and gives the command that gets there, spelled as the
CLI takes it (quoted for a POSIX shell, the project always named).

Pure: releases and the policy come in as values; ``services`` loads them.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from shipwise.domain.exposure import Widening
from shipwise.domain.flags import FlagKind
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import Release, ReleaseStatus

__all__ = [
    "Standing",
    "flag_refusal",
    "import_refusal",
    "plan_release_refusal",
    "release_standing",
    "rollouts_busy_refusal",
    "segment_refusal",
    "shipping_releases",
    "unarchive_refusal",
]

# Flags whose way to users is their release; the other kinds change by request.
RELEASED_KINDS = frozenset({FlagKind.RELEASE.value, FlagKind.EXPERIMENT.value})
# Releases that may still carry a flag to users: not rolled back, not abandoned.
_LIVE = frozenset({ReleaseStatus.IN_PROGRESS, ReleaseStatus.RELEASED})


@dataclass(frozen=True, slots=True)
class Standing:
    """Whether a release has passed its gates into an environment; if not, in words why
    and what to run."""

    reached: bool
    why: str = ""
    remedy: str = ""


def command(project: str, *words: str) -> str:
    """One ``shipwise`` command line, runnable as written (placeholders in capitals)."""
    return "`shipwise " + " ".join(shlex.quote(w) for w in (*words, "-p", project)) + "`"


def release_standing(release: Release, environment: str, policy: Policy) -> Standing:
    """Reached when the release is live and its stage is ``environment`` or later in the
    pipeline (a hotfix that went straight to production has reached it too)."""
    order = [s.environment for s in policy.stages]
    if release.status not in _LIVE:
        return Standing(
            False,
            f"{release.key} was {release.status.value.replace('-', ' ')}: it no longer ships, "
            f"so a new release must take its flags to {environment}",
            command(release.project, "release", "create", "TITLE", *_flags(release)),
        )
    stage = release.stage
    if stage in order and environment in order and order.index(stage) >= order.index(environment):
        return Standing(True)
    where = f"it is in {stage}" if stage else "it is in no environment yet"
    return Standing(
        False,
        f"{release.key} has not passed its gates into {environment} ({where})",
        command(release.project, "release", "promote", release.key, "--env", environment),
    )


def shipping_releases(flag: str, releases: Sequence[Release]) -> list[Release]:
    """The live releases that ship ``flag``, by key."""
    return sorted((r for r in releases if flag in r.flags and r.status in _LIVE), key=_by_key)


def _furthest_first(releases: Sequence[Release], policy: Policy) -> list[Release]:
    order = [s.environment for s in policy.stages]

    def reach(release: Release) -> int:
        return order.index(release.stage) if release.stage in order else -1

    return sorted(releases, key=lambda r: (-reach(r), _by_key(r)))


def _by_key(release: Release) -> tuple[int, str]:
    """rel-9 before rel-10: the number of a numbered key, then the key."""
    number = release.key.rpartition("-")[2]
    return (int(number) if number.isdigit() else 0, release.key)


def flag_refusal(
    *,
    project: str,
    flag: str,
    kind: str,
    environment: str,
    doing: str,
    widening: Widening,
    releases: Sequence[Release],
    policy: Policy,
    request_option: str = "--rules FILE",
) -> str:
    """A hand edit (``doing``: "enabling 'bulk-edit'") that would widen exposure."""
    head = (
        f"{environment} is protected: {doing} would show it to more users ({widening.describe()})."
    )
    return f"{head} {_remedy(project, flag, kind, environment, releases, policy, request_option)}"


def plan_release_refusal(
    *,
    project: str,
    flag: str,
    kind: str,
    environment: str,
    release: Release | None,
    releases: Sequence[Release],
    policy: Policy,
    lead: str = "",
) -> str | None:
    """Why a rollout plan may not start (or resume: ``lead`` names the plan) on ``flag``
    in the protected ``environment`` with ``release`` (None: no release given); None when
    it may."""
    head = f"{lead}{environment} is protected: a rollout plan there ships a release that has "
    if release is not None:
        standing = release_standing(release, environment, policy)
        if standing.reached:
            return None
        then = f", then {_start(project, flag, environment, release.key)}"
        return (
            f"{head}passed its gates, and {standing.why}. Run {standing.remedy} first"
            f"{then if release.status in _LIVE else ''}. Nothing changed."
        )
    head += "passed its gates, and none was given (--release)."
    return f"{head} {_remedy(project, flag, kind, environment, releases, policy, '--rollout PCT')}"


def rollouts_busy_refusal(
    *, project: str, environment: str, limit: int, running: Sequence[str]
) -> str:
    """``running``: "rollout plan #4 (search-v2, rel-2)" for each plan in the way."""
    plans = "s" if limit > 1 else ""
    verb = "is" if len(running) == 1 else "are"
    return (
        f"{environment} rolls out at most {limit} feature{plans} at a time, and "
        f"{', '.join(running)} {verb} under way there: wait for {'it' if verb == 'is' else 'them'} "
        f"to finish, or stop one ({command(project, 'rollout', 'abort', 'ID', '--reason', 'WHY')}"
        "). Nothing changed."
    )


def segment_refusal(
    *,
    project: str,
    segment: str,
    widening: Widening,
    exposed: Sequence[tuple[str, str]],
    policy: Policy,
) -> str:
    """``exposed``: (flag, environment) pairs, each flag on there and using the segment."""
    by_environment: dict[str, list[str]] = {}
    for flag, environment in exposed:
        by_environment.setdefault(environment, []).append(repr(flag))
    where = "; ".join(f"{', '.join(flags)} in {env}" for env, flags in by_environment.items())
    environments = " and ".join(by_environment)
    approvals = _approvals(policy)
    return (
        f"{environments} {'is' if len(by_environment) == 1 else 'are'} protected: this change "
        f"to segment {segment!r} would show {where} to more users ({widening.describe()}). "
        f"A segment that flags there use changes through an approved change request "
        f"({approvals}): {command(project, 'change', 'segment', segment, '--constraints', 'FILE')}"
        "; or make a new segment and give it to the flags through their releases. "
        "Nothing changed."
    )


def unarchive_refusal(*, project: str, flag: str, environments: Sequence[str]) -> str:
    """Unarchiving puts a flag back into the SDKs' snapshots, on wherever it was left on."""
    where = " and ".join(environments)
    off = "; ".join(command(project, "flag", "disable", flag, "-e", e) for e in environments)
    return (
        f"{where} {'is' if len(environments) == 1 else 'are'} protected: unarchiving "
        f"{flag!r} would show it to users again (it is on in {where}). Switch it off there "
        f"first ({off}), then unarchive it and bring it back through its release or an "
        "approved change request. Nothing changed."
    )


def import_refusal(*, project: str, environment: str, widened: Sequence[tuple[str, str]]) -> str:
    """``widened``: (flag, why) for each existing flag the import would show to more users."""
    named = "; ".join(f"{flag!r} ({why})" for flag, why in widened)
    request = command(project, "change", "request", "FLAG", "-e", environment, "--rules", "FILE")
    return (
        f"{environment} is protected: this import would show flags that already exist there "
        f"to more users: {named}. Nothing was imported. Import only flags new to the project "
        f"into {environment}, and bring these through their releases or approved change "
        f"requests ({request})."
    )


def _remedy(
    project: str,
    flag: str,
    kind: str,
    environment: str,
    releases: Sequence[Release],
    policy: Policy,
    request_option: str,
) -> str:
    request = command(
        project, "change", "request", flag, "-e", environment, *request_option.split()
    )
    approvals = _approvals(policy)
    shipping = _furthest_first(shipping_releases(flag, releases), policy)
    if kind not in RELEASED_KINDS:
        text = (
            f"{_a(kind)} flag changes in {environment} through an approved change request "
            f"({approvals}): {request}"
        )
        reached = [r for r in shipping if release_standing(r, environment, policy).reached]
        if reached:
            start = _start(project, flag, environment, reached[0].key)
            text += f"; or through {reached[0].key}: {start}"
        return text + ". Nothing changed."
    return (
        f"{_a(kind)} flag reaches {environment} through its release: "
        f"{_release_path(project, flag, environment, shipping, policy)}; "
        f"any other change needs an approved change request ({approvals}): {request}. "
        "Nothing changed."
    )


def _release_path(
    project: str, flag: str, environment: str, shipping: Sequence[Release], policy: Policy
) -> str:
    if not shipping:
        create = command(project, "release", "create", "TITLE", "--flag", flag)
        return (
            f"{flag!r} is in no release, so create one ({create}), take it through its gates "
            f"({command(project, 'release', 'promote', 'REL', '--env', environment)}), then "
            f"{_start(project, flag, environment, 'REL')}"
        )
    release = shipping[0]
    standing = release_standing(release, environment, policy)
    named = ", ".join(f"{r.key} (in {r.stage or 'no environment yet'})" for r in shipping)
    start = _start(project, flag, environment, release.key)
    if standing.reached:
        return f"it ships in {named}, so its rollout plan takes it to 100%: {start}"
    return f"it ships in {named}: {standing.remedy}, then {start}"


def _start(project: str, flag: str, environment: str, release: str) -> str:
    return command(project, "rollout", "start", flag, "--env", environment, "--release", release)


def _a(kind: str) -> str:
    return f"{'An' if kind[:1] in 'aeiou' else 'A'} {kind}"


def _flags(release: Release) -> list[str]:
    return [word for flag in release.flags for word in ("--flag", flag)]


def _approvals(policy: Policy) -> str:
    count = policy.change_approvals.count
    return f"{count} approval{'s' if count != 1 else ''}, never the requester's own"
