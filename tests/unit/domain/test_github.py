"""``domain.github``: the webhook signature, and each event's payload (fixtures in GitHub's
documented shapes, ``tests/fixtures/github``) read into its fact."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shipwise.domain import github
from shipwise.domain.github import (
    CiState,
    CiStatus,
    DeploymentStatus,
    DeployState,
    Ignored,
    MalformedPayload,
    Ping,
    PullRequestEdited,
    PullRequestInfo,
    PullRequestMerged,
    PullRequestOpened,
    PullRequestPushed,
    Push,
    ReviewState,
    ReviewSubmitted,
    parse_event,
    release_keys,
    verify_signature,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "github"
HEAD = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
NEW_HEAD = "1d3f5b7d9f1b3d5f7b9d1f3b5d7f9b1d3f5b7d9f"
MERGE = "b7e4d1c8a5f2e9b6c3d0a7f4e1b8c5d2a9f6e3b0"

# GitHub's published test vector ("Validating webhook deliveries").
DOC_SECRET = b"It's a Secret to Everybody"
DOC_BODY = b"Hello, World!"
DOC_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

PULL_42 = PullRequestInfo(
    number=42,
    title="New checkout",
    url="https://github.com/acme/shop/pull/42",
    author="alice",
    head_branch="feature/new-checkout",
    head_sha=HEAD,
    base_branch="dev",
    release_keys=("rel-1",),
)


def payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


# -- the signature ---------------------------------------------------------------------------


def test_verify_signature__githubs_published_vector__verifies() -> None:
    assert verify_signature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE)
    assert github.sign(DOC_SECRET, DOC_BODY) == DOC_SIGNATURE


@pytest.mark.parametrize(
    ("secret", "signed_body", "header"),
    [
        pytest.param(DOC_SECRET, DOC_BODY, None, id="missing header"),
        pytest.param(DOC_SECRET, DOC_BODY, "", id="empty header"),
        pytest.param(b"another secret", DOC_BODY, DOC_SIGNATURE, id="wrong secret"),
        pytest.param(DOC_SECRET, b"Hello, World?", DOC_SIGNATURE, id="body changed"),
        pytest.param(DOC_SECRET, DOC_BODY, DOC_SIGNATURE[:-1] + "8", id="digest changed"),
        pytest.param(DOC_SECRET, DOC_BODY, DOC_SIGNATURE[7:], id="no sha256= prefix"),
        pytest.param(
            DOC_SECRET, DOC_BODY, DOC_SIGNATURE.replace("sha256", "sha1"), id="sha1 prefix"
        ),
        pytest.param(DOC_SECRET, DOC_BODY, "sha256=", id="empty digest"),
        pytest.param(DOC_SECRET, DOC_BODY, DOC_SIGNATURE[:20], id="truncated digest"),
        pytest.param(DOC_SECRET, DOC_BODY, "sha256=zzzz\u00e9", id="not hex, not ascii"),
        pytest.param(b"", DOC_BODY, github.sign(b"", DOC_BODY), id="empty secret"),
    ],
)
def test_verify_signature__missing_wrong_or_malformed__does_not_verify(
    secret: bytes, signed_body: bytes, header: str | None
) -> None:
    assert verify_signature(secret, signed_body, header) is False


def test_verify_signature__uppercase_hex_and_spaces__still_verify() -> None:
    header = "  sha256=" + DOC_SIGNATURE.removeprefix("sha256=").upper() + " "
    assert verify_signature(DOC_SECRET, DOC_BODY, header)


# -- release lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        pytest.param("Release: rel-1", ("rel-1",), id="one line"),
        pytest.param("Intro\r\n\r\nrelease:   `Rel-7`  \r\nmore", ("rel-7",), id="crlf, backticks"),
        pytest.param("Release: a\nRelease: b\nRelease: a", ("a", "b"), id="several, no repeats"),
        pytest.param("Fixes the release: see rel-1", (), id="not a line of its own"),
        pytest.param("Release: two words", (), id="not a key"),
        pytest.param(None, (), id="no body"),
    ],
)
def test_release_keys__from_release_lines_only(text: str | None, keys: tuple[str, ...]) -> None:
    assert release_keys(text) == keys


# -- pull requests ---------------------------------------------------------------------------


def test_parse__pull_request_opened__facts_of_the_pull_request() -> None:
    fact = parse_event("pull_request", body(payload("pull_request.opened")))
    assert fact == PullRequestOpened(PULL_42, sender="alice")


@pytest.mark.parametrize("action", ["reopened", "ready_for_review"])
def test_parse__pull_request_reopened_or_ready__is_opened(action: str) -> None:
    data = payload("pull_request.opened")
    data["action"] = action
    assert isinstance(parse_event("pull_request", body(data)), PullRequestOpened)


def test_parse__pull_request_edited__new_title_and_release_line() -> None:
    data = payload("pull_request.opened")
    data["action"] = "edited"
    data["pull_request"]["title"] = "New checkout, v2"
    data["pull_request"]["body"] = "Release: rel-2"
    fact = parse_event("pull_request", body(data))
    assert isinstance(fact, PullRequestEdited)
    assert (fact.pull.title, fact.pull.release_keys) == ("New checkout, v2", ("rel-2",))


def test_parse__pull_request_synchronize__head_moved() -> None:
    fact = parse_event("pull_request", body(payload("pull_request.synchronize")))
    assert isinstance(fact, PullRequestPushed)
    assert (fact.before, fact.after, fact.pull.head_sha) == (HEAD, NEW_HEAD, NEW_HEAD)


def test_parse__pull_request_closed_merged__merged_with_its_merge_commit() -> None:
    fact = parse_event("pull_request", body(payload("pull_request.closed.merged")))
    assert isinstance(fact, PullRequestMerged)
    assert (fact.pull.merged, fact.pull.merge_commit, fact.sender) == (True, MERGE, "carol")


def test_parse__open_pull_request__test_merge_commit_is_not_a_merge() -> None:
    fact = parse_event("pull_request", body(payload("pull_request.opened")))
    assert isinstance(fact, PullRequestOpened)
    assert (fact.pull.merged, fact.pull.merge_commit) == (False, None)


def test_parse__pull_request_closed_unmerged__ignored() -> None:
    data = payload("pull_request.closed.merged")
    data["pull_request"].update(merged=False, merged_at=None)
    fact = parse_event("pull_request", body(data))
    assert fact == Ignored("pull request #42 was closed without being merged")


def test_parse__pull_request_labeled__ignored_without_reading_the_rest() -> None:
    fact = parse_event("pull_request", body({"action": "labeled", "number": 42}))
    assert isinstance(fact, Ignored)
    assert "labeled" in fact.reason


def test_parse__pull_request_with_null_body__no_release_keys() -> None:
    data = payload("pull_request.opened")
    data["pull_request"]["body"] = None
    fact = parse_event("pull_request", body(data))
    assert isinstance(fact, PullRequestOpened)
    assert fact.pull.release_keys == ()


# -- reviews ---------------------------------------------------------------------------------


def test_parse__review_approved__reviewer_state_and_commit() -> None:
    fact = parse_event("pull_request_review", body(payload("pull_request_review.submitted")))
    assert fact == ReviewSubmitted(
        PULL_42, reviewer="bob", state=ReviewState.APPROVED, commit_id=HEAD, sender="bob"
    )


def test_parse__review_changes_requested__its_state() -> None:
    data = payload("pull_request_review.submitted")
    data["review"]["state"] = "changes_requested"
    fact = parse_event("pull_request_review", body(data))
    assert isinstance(fact, ReviewSubmitted)
    assert fact.state is ReviewState.CHANGES_REQUESTED


@pytest.mark.parametrize(
    ("action", "state"),
    [
        pytest.param("submitted", "commented", id="a comment"),
        pytest.param("dismissed", "dismissed", id="dismissed"),
        pytest.param("edited", "approved", id="edited"),
    ],
)
def test_parse__review_neither_approving_nor_requesting__ignored(action: str, state: str) -> None:
    data = payload("pull_request_review.submitted")
    data["action"], data["review"]["state"] = action, state
    assert isinstance(parse_event("pull_request_review", body(data)), Ignored)


# -- pushes ----------------------------------------------------------------------------------


def test_parse__push_to_a_branch__branch_shas_and_commits() -> None:
    fact = parse_event("push", body(payload("push")))
    assert fact == Push(
        branch="feature/new-checkout",
        before=HEAD,
        after=NEW_HEAD,
        commits=(NEW_HEAD,),
        forced=False,
        sender="alice",
    )


def test_parse__push_creating_a_branch__no_before() -> None:
    data = payload("push")
    data.update(before="0" * 40, created=True)
    fact = parse_event("push", body(data))
    assert isinstance(fact, Push)
    assert fact.before is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"ref": "refs/tags/v1.2.0"}, "not to a branch", id="tag"),
        pytest.param({"deleted": True, "after": "0" * 40}, "deleted", id="branch deleted"),
    ],
)
def test_parse__push_of_a_tag_or_a_deletion__ignored(changes: dict[str, Any], reason: str) -> None:
    data = payload("push")
    data.update(changes)
    fact = parse_event("push", body(data))
    assert isinstance(fact, Ignored)
    assert reason in fact.reason


# -- CI --------------------------------------------------------------------------------------


def test_parse__status__sha_context_and_state() -> None:
    fact = parse_event("status", body(payload("status")))
    assert fact == CiStatus(
        HEAD, "ci/tests", CiState.SUCCESS, sender="ci-bot", at=at("2026-12-02T09:20:55")
    )


@pytest.mark.parametrize("state", ["pending", "failure", "error"])
def test_parse__status_states__each_a_ci_state(state: str) -> None:
    data = payload("status")
    data["state"] = state
    fact = parse_event("status", body(data))
    assert isinstance(fact, CiStatus)
    assert fact.state is CiState(state)


@pytest.mark.parametrize(
    ("conclusion", "state"),
    [
        pytest.param("success", CiState.SUCCESS, id="success"),
        pytest.param("failure", CiState.FAILURE, id="failure"),
        pytest.param("timed_out", CiState.FAILURE, id="timed out"),
        pytest.param("cancelled", CiState.ERROR, id="cancelled"),
        pytest.param("action_required", CiState.ERROR, id="action required"),
    ],
)
def test_parse__check_suite_completed__app_is_the_context(conclusion: str, state: CiState) -> None:
    data = payload("check_suite.completed")
    data["check_suite"]["conclusion"] = conclusion
    fact = parse_event("check_suite", body(data))
    assert fact == CiStatus(
        HEAD, "GitHub Actions", state, sender="ci-bot", at=at("2026-12-02T09:21:14")
    )


@pytest.mark.parametrize(
    ("action", "conclusion"),
    [
        pytest.param("requested", None, id="requested"),
        pytest.param("rerequested", None, id="rerequested"),
        pytest.param("completed", "neutral", id="neutral"),
        pytest.param("completed", "skipped", id="skipped"),
    ],
)
def test_parse__check_suite_without_a_pass_or_fail__ignored(
    action: str, conclusion: str | None
) -> None:
    data = payload("check_suite.completed")
    data["action"], data["check_suite"]["conclusion"] = action, conclusion
    assert isinstance(parse_event("check_suite", body(data)), Ignored)


# -- deploys ---------------------------------------------------------------------------------


def test_parse__deployment_status_success__environment_sha_and_state() -> None:
    fact = parse_event("deployment_status", body(payload("deployment_status")))
    assert fact == DeploymentStatus(
        environment="staging",
        sha=HEAD,
        state=DeployState.SUCCESS,
        ref="staging",
        sender="ci-bot",
        at=at("2026-12-02T09:50:55"),
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param("failure", DeployState.FAILURE, id="failure"),
        pytest.param("error", DeployState.ERROR, id="error"),
        pytest.param("in_progress", None, id="in progress"),
        pytest.param("queued", None, id="queued"),
        pytest.param("pending", None, id="pending"),
    ],
)
def test_parse__deployment_status_states__only_finished_ones_are_facts(
    state: str, expected: DeployState | None
) -> None:
    data = payload("deployment_status")
    data["deployment_status"]["state"] = state
    fact = parse_event("deployment_status", body(data))
    if expected is None:
        assert isinstance(fact, Ignored)
    else:
        assert isinstance(fact, DeploymentStatus)
        assert fact.state is expected


# -- the events' own times, and their order --------------------------------------------------


@pytest.mark.parametrize(
    ("event", "name", "path"),
    [
        pytest.param("status", "status", (), id="status"),
        pytest.param("check_suite", "check_suite.completed", ("check_suite",), id="check suite"),
        pytest.param(
            "deployment_status", "deployment_status", ("deployment_status",), id="deployment"
        ),
    ],
)
def test_parse__event_time__updated_at_else_created_at_in_utc(
    event: str, name: str, path: tuple[str, ...]
) -> None:
    data = payload(name)
    inner = data
    for key in path:
        inner = inner[key]
    inner["updated_at"] = "2026-12-02T11:20:55+02:00"  # GitHub Enterprise may send a zone
    fact = parse_event(event, body(data))
    assert isinstance(fact, CiStatus | DeploymentStatus)
    assert fact.at == at("2026-12-02T09:20:55")
    assert fact.at.tzinfo is UTC
    del inner["updated_at"]
    inner["created_at"] = "2026-12-02T09:00:00Z"
    fact = parse_event(event, body(data))
    assert isinstance(fact, CiStatus | DeploymentStatus)
    assert fact.at == at("2026-12-02T09:00:00")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(None, "missing", id="neither time"),
        pytest.param("yesterday", "not an ISO 8601 time with a zone", id="not a time"),
        pytest.param("2026-12-02T09:20:55", "not an ISO 8601 time with a zone", id="no zone"),
    ],
)
def test_parse__status_without_a_usable_time__raises_naming_the_field(
    value: str | None, problem: str
) -> None:
    data = payload("status")
    del data["updated_at"]
    data["created_at"] = value
    with pytest.raises(MalformedPayload) as raised:
        parse_event("status", body(data))
    assert raised.value.field == "created_at"
    assert problem in raised.value.problem


# -- everything else -------------------------------------------------------------------------


def test_parse__ping__zen_and_hook() -> None:
    assert parse_event("ping", body(payload("ping"))) == Ping("Design for failure.", 109948940)


def test_parse__unknown_event__ignored_naming_it() -> None:
    assert parse_event("issues", b'{"action": "opened"}') == Ignored(
        "Shipwise does not read 'issues' events"
    )


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    inner = changed
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return changed


def _replaced(data: dict[str, Any], value: object, *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    inner = changed
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("event", "raw", "field"),
    [
        pytest.param("push", b"{not json", "body", id="not JSON"),
        pytest.param("push", b"[1, 2]", "body", id="not an object"),
        pytest.param("push", b"\xff\xfe", "body", id="not UTF-8"),
        pytest.param(
            "pull_request",
            body(_without(payload("pull_request.opened"), "pull_request", "head")),
            "pull_request.head",
            id="no head",
        ),
        pytest.param(
            "pull_request",
            body(_replaced(payload("pull_request.opened"), "abc", "pull_request", "head", "sha")),
            "pull_request.head.sha",
            id="head sha not a sha",
        ),
        pytest.param(
            "pull_request",
            body(_replaced(payload("pull_request.opened"), "x" * 301, "pull_request", "title")),
            "pull_request.title",
            id="title too long to store",
        ),
        pytest.param(
            "status",
            body(_replaced(payload("status"), "ci\x00tests", "context")),
            "context",
            id="NUL in the context",
        ),
        pytest.param(
            "pull_request_review",
            body(_without(payload("pull_request_review.submitted"), "review", "user")),
            "review.user",
            id="review without reviewer",
        ),
    ],
)
def test_parse__malformed_payload__raises_naming_the_field(
    event: str, raw: bytes, field: str
) -> None:
    with pytest.raises(MalformedPayload) as raised:
        parse_event(event, raw)
    assert raised.value.field == field


def test_all__is_the_public_surface() -> None:
    defined = {
        name
        for name, value in vars(github).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == github.__name__
    }
    assert set(github.__all__) == defined | {"Fact"}
