"""GitHub webhook deliveries as facts: the signature check, and each event's payload read
into a small frozen value. Pure: bytes and dictionaries in, values out, no I/O. What a
fact changes is the intake service's business (``server/services/github_intake.py``).

Events read, in GitHub's documented payload shapes::

    pull_request          opened, reopened, ready_for_review  → PullRequestOpened
                          edited                              → PullRequestEdited
                          synchronize (new commits on head)   → PullRequestPushed
                          closed, merged                      → PullRequestMerged
    pull_request_review   submitted, approved or changes_requested → ReviewSubmitted
    push                  to a branch                         → Push
    status                                                    → CiStatus
    check_suite           completed, with a pass or a failure → CiStatus (the app is the context)
    deployment_status     success, failure or error           → DeploymentStatus
    ping                                                      → Ping

Anything else (other events, other actions, a neutral check suite, a deployment still
pending) is an ``Ignored`` fact whose ``reason`` says why, never an error.

CI results and deployment statuses carry GitHub's time of the event (``updated_at``, else
``created_at``, in UTC): which one stands is decided by it (``github_order``).

A pull request names its release with a line of its body: ``Release: rel-12`` (any
case, the key optionally in backticks; one line per release).

Exceptions::

    ValueError
     └── MalformedPayload   the body is not a JSON object, or a field the event needs is
                            missing, of the wrong type, or not storable; ``field`` names it
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shipwise.domain.commits import commit_problem, normalize_commit

__all__ = [
    "CiState",
    "CiStatus",
    "DeployState",
    "DeploymentStatus",
    "Fact",
    "Ignored",
    "MalformedPayload",
    "Ping",
    "PullRequestEdited",
    "PullRequestInfo",
    "PullRequestMerged",
    "PullRequestOpened",
    "PullRequestPushed",
    "Push",
    "ReviewState",
    "ReviewSubmitted",
    "parse_event",
    "release_keys",
    "sign",
    "verify_signature",
]


class MalformedPayload(ValueError):
    """A delivery whose body cannot be read as its event; ``field`` is the dotted path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


# -- the signature ---------------------------------------------------------------------------


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body`` (for tests and tools)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``sha256=<hex HMAC-SHA256 of the raw body>``) is GitHub's
    signature of ``body`` under ``secret``, compared in constant time. A missing or
    malformed header, or an empty secret, never verifies."""
    if not secret or header is None:
        return False
    algorithm, separator, digest = header.strip().partition("=")
    if not separator or algorithm.lower() != "sha256":
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), digest.lower().encode("utf-8", "replace"))


# -- the facts -------------------------------------------------------------------------------


class ReviewState(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class CiState(StrEnum):
    """Shipwise's CI vocabulary (``EvidenceService.report_ci``)."""

    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
    PENDING = "pending"


class DeployState(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PullRequestInfo:
    """What every pull request payload says about the pull request itself."""

    number: int
    title: str
    url: str | None  # html_url: the page people open
    author: str  # the login that opened it
    head_branch: str
    head_sha: str
    base_branch: str
    release_keys: tuple[str, ...] = ()  # from ``Release: <key>`` lines of the body
    merged: bool = False
    merge_commit: str | None = None  # only once merged (before, GitHub's test merge)


@dataclass(frozen=True, slots=True)
class PullRequestOpened:
    pull: PullRequestInfo
    sender: str


@dataclass(frozen=True, slots=True)
class PullRequestEdited:
    pull: PullRequestInfo
    sender: str


@dataclass(frozen=True, slots=True)
class PullRequestPushed:
    """New commits on the pull request's head: it moved from ``before`` to ``after``."""

    pull: PullRequestInfo
    sender: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class PullRequestMerged:
    pull: PullRequestInfo  # merged, with its merge commit
    sender: str


@dataclass(frozen=True, slots=True)
class ReviewSubmitted:
    pull: PullRequestInfo
    reviewer: str
    state: ReviewState
    commit_id: str  # the head the reviewer saw
    sender: str


@dataclass(frozen=True, slots=True)
class Push:
    branch: str
    before: str | None  # None when the push created the branch
    after: str
    commits: tuple[str, ...]
    forced: bool
    sender: str


@dataclass(frozen=True, slots=True)
class CiStatus:
    sha: str
    context: str  # the check's name: a status context, or a check suite's app
    state: CiState
    sender: str
    at: datetime  # when GitHub says it happened, not when it arrived


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    environment: str  # GitHub's environment name, as sent
    sha: str
    state: DeployState
    ref: str  # the branch, tag or sha that was deployed
    sender: str
    at: datetime  # when GitHub says it happened, not when it arrived


@dataclass(frozen=True, slots=True)
class Ping:
    zen: str
    hook_id: int | None


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


Fact = (
    PullRequestOpened
    | PullRequestEdited
    | PullRequestPushed
    | PullRequestMerged
    | ReviewSubmitted
    | Push
    | CiStatus
    | DeploymentStatus
    | Ping
    | Ignored
)

# -- reading ---------------------------------------------------------------------------------

_RELEASE_LINE = re.compile(
    r"^[ \t]*release[ \t]*:[ \t]*`?([a-z0-9][a-z0-9._-]{0,62})`?[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_ZERO_SHA = re.compile(r"^0+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def release_keys(body: str | None) -> tuple[str, ...]:
    """The release keys a pull request body names, one ``Release: <key>`` line each, in
    order and without repeats."""
    if not body:
        return ()
    return tuple(dict.fromkeys(m.group(1).lower() for m in _RELEASE_LINE.finditer(body)))


def parse_event(event: str, body: bytes) -> Fact:
    """The fact a delivery of ``event`` (the ``X-GitHub-Event`` header) states."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedPayload("body", f"not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("body", "not a JSON object")
    reader = _READERS.get(event)
    if reader is None:
        return Ignored(f"Shipwise does not read {event!r} events")
    return reader(payload)


_PULL_REQUEST_ACTIONS = frozenset(
    {"opened", "reopened", "ready_for_review", "edited", "synchronize", "closed"}
)


def _pull_request(payload: Mapping[str, Any]) -> Fact:
    action = _text(payload, "action", 100)
    if action not in _PULL_REQUEST_ACTIONS:
        return Ignored(f"pull request #{payload.get('number')} {action}: nothing for a release")
    pull = _pull(_object(payload, "pull_request"), "pull_request")
    sender = _login(payload, "sender")
    if action == "edited":
        return PullRequestEdited(pull, sender)
    if action == "synchronize":
        before, after = _sha(payload, "before"), _sha(payload, "after")
        return PullRequestPushed(pull, sender, before, after)
    if action == "closed":
        if pull.merged and pull.merge_commit is not None:
            return PullRequestMerged(pull, sender)
        return Ignored(f"pull request #{pull.number} was closed without being merged")
    return PullRequestOpened(pull, sender)


def _review(payload: Mapping[str, Any]) -> Fact:
    action = _text(payload, "action", 100)
    if action != "submitted":
        return Ignored(f"a review was {action}: only submitted reviews are read")
    review = _object(payload, "review")
    pull = _pull(_object(payload, "pull_request"), "pull_request")
    raw_state = _text(review, "state", 100, "review").lower()
    try:
        state = ReviewState(raw_state)
    except ValueError:
        return Ignored(
            f"a {raw_state} review of pull request #{pull.number} neither approves nor "
            "requests changes"
        )
    reviewer = _login(review, "user", "review")
    commit_id = _sha(review, "commit_id", "review")
    return ReviewSubmitted(pull, reviewer, state, commit_id, _login(payload, "sender"))


def _push(payload: Mapping[str, Any]) -> Fact:
    ref = _text(payload, "ref", 300)
    if not ref.startswith("refs/heads/"):
        return Ignored(f"a push to {ref}, not to a branch")
    branch = _branch(ref.removeprefix("refs/heads/"), "ref")
    if payload.get("deleted") is True:
        return Ignored(f"branch {branch} was deleted")
    before, after = _sha(payload, "before"), _sha(payload, "after")
    if _ZERO_SHA.match(after):
        return Ignored(f"branch {branch} was deleted")
    commits = payload.get("commits") or []
    if not isinstance(commits, list):
        raise MalformedPayload("commits", "not a list")
    ids = tuple(
        _sha(_dict(commit, f"commits[{i}]"), "id", f"commits[{i}]")
        for i, commit in enumerate(commits)
    )
    return Push(
        branch=branch,
        before=None if _ZERO_SHA.match(before) else before,
        after=after,
        commits=ids,
        forced=payload.get("forced") is True,
        sender=_login(payload, "sender"),
    )


def _status(payload: Mapping[str, Any]) -> Fact:
    raw = _text(payload, "state", 100).lower()
    try:
        state = CiState(raw)
    except ValueError:
        return Ignored(f"a commit status in state {raw!r}, which is not a CI result")
    return CiStatus(
        sha=_sha(payload, "sha"),
        context=_text(payload, "context", 200),
        state=state,
        sender=_login(payload, "sender"),
        at=_event_time(payload),
    )


# A completed suite's conclusion in Shipwise's words; neutral and skipped are neither a
# pass nor a failure ("no data is never healthy"), so they are not recorded.
_CONCLUSIONS: dict[str, CiState] = {
    "success": CiState.SUCCESS,
    "failure": CiState.FAILURE,
    "timed_out": CiState.FAILURE,
    "startup_failure": CiState.FAILURE,
    "cancelled": CiState.ERROR,
    "action_required": CiState.ERROR,
    "stale": CiState.ERROR,
}


def _check_suite(payload: Mapping[str, Any]) -> Fact:
    action = _text(payload, "action", 100)
    suite = _object(payload, "check_suite")
    sha = _sha(suite, "head_sha", "check_suite")
    if action != "completed":
        return Ignored(f"a check suite on {sha[:12]} was {action}: no result yet")
    app = _object(suite, "app", "check_suite")
    context = _text(app, "name", 200, "check_suite.app")
    conclusion = str(suite.get("conclusion") or "none")
    state = _CONCLUSIONS.get(conclusion)
    if state is None:
        return Ignored(f"{context} on {sha[:12]} concluded {conclusion}: neither a pass nor a fail")
    at = _event_time(suite, "check_suite")  # a completed suite's updated_at: its completion
    return CiStatus(sha=sha, context=context, state=state, sender=_login(payload, "sender"), at=at)


def _deployment_status(payload: Mapping[str, Any]) -> Fact:
    status = _object(payload, "deployment_status")
    deployment = _object(payload, "deployment")
    environment = _text(status, "environment", 255, "deployment_status")
    raw = _text(status, "state", 100, "deployment_status").lower()
    try:
        state = DeployState(raw)
    except ValueError:
        return Ignored(f"the deployment to {environment} is {raw}: not finished")
    return DeploymentStatus(
        environment=environment,
        sha=_sha(deployment, "sha", "deployment"),
        state=state,
        ref=_text(deployment, "ref", 300, "deployment"),
        sender=_login(payload, "sender"),
        at=_event_time(status, "deployment_status"),
    )


def _ping(payload: Mapping[str, Any]) -> Fact:
    hook_id = payload.get("hook_id")
    zen = payload.get("zen")
    return Ping(
        zen=zen if isinstance(zen, str) else "",
        hook_id=hook_id if isinstance(hook_id, int) and not isinstance(hook_id, bool) else None,
    )


_READERS: dict[str, Callable[[Mapping[str, Any]], Fact]] = {
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "push": _push,
    "status": _status,
    "check_suite": _check_suite,
    "deployment_status": _deployment_status,
    "ping": _ping,
}

# -- fields ----------------------------------------------------------------------------------


def _pull(pr: Mapping[str, Any], at: str) -> PullRequestInfo:
    number = pr.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise MalformedPayload(f"{at}.number", "not a pull request number")
    head = _object(pr, "head", at)
    base = _object(pr, "base", at)
    body = pr.get("body")
    merged = pr.get("merged") is True or pr.get("merged_at") is not None
    url = pr.get("html_url")
    return PullRequestInfo(
        number=number,
        title=_text(pr, "title", 300, at),
        url=_text(pr, "html_url", 500, at) if isinstance(url, str) and url else None,
        author=_login(pr, "user", at),
        head_branch=_branch(_text(head, "ref", 300, f"{at}.head"), f"{at}.head.ref"),
        head_sha=_sha(head, "sha", f"{at}.head"),
        base_branch=_branch(_text(base, "ref", 300, f"{at}.base"), f"{at}.base.ref"),
        release_keys=release_keys(body if isinstance(body, str) else None),
        merged=merged,
        merge_commit=_sha(pr, "merge_commit_sha", at) if merged else None,
    )


def _path(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _dict(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(field, "missing, or not an object")
    return value


def _object(payload: Mapping[str, Any], key: str, at: str = "") -> Mapping[str, Any]:
    return _dict(payload.get(key), _path(at, key))


def _text(payload: Mapping[str, Any], key: str, max_length: int, at: str = "") -> str:
    """A one-line string Shipwise can store: no control characters, valid UTF-8, at most
    ``max_length`` characters (the database's column)."""
    field = _path(at, key)
    value = payload.get(key)
    if not isinstance(value, str):
        raise MalformedPayload(field, "missing, or not a string")
    if _CONTROL.search(value):
        raise MalformedPayload(field, "contains control characters")
    if len(value) > max_length:
        raise MalformedPayload(field, f"longer than {max_length} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedPayload(field, "contains a lone UTF-16 surrogate") from None
    return value


def _branch(name: str, field: str) -> str:
    if not name or len(name) > 200:
        raise MalformedPayload(field, "a branch name of 1 to 200 characters is needed")
    return name


def _sha(payload: Mapping[str, Any], key: str, at: str = "") -> str:
    if problem := commit_problem(value := _text(payload, key, 64, at)):
        raise MalformedPayload(_path(at, key), problem)
    return normalize_commit(value)


def _login(payload: Mapping[str, Any], key: str, at: str = "") -> str:
    return _text(_object(payload, key, at), "login", 100, _path(at, key))


def _event_time(payload: Mapping[str, Any], at: str = "") -> datetime:
    """``updated_at``, else ``created_at``: ISO 8601 with a zone (without one the event
    could not be put in order, so it is refused rather than guessed), given in UTC."""
    key = "updated_at" if payload.get("updated_at") is not None else "created_at"
    raw = _text(payload, key, 64, at)
    try:
        moment: datetime | None = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise MalformedPayload(_path(at, key), f"{raw!r} is not an ISO 8601 time with a zone")
    return moment.astimezone(UTC)  # one zone, so stored and compared times agree
