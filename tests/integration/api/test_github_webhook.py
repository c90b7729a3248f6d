"""GitHub webhooks against a real server: a delivery without the right signature is
refused before anything is read and changes nothing; signed deliveries (payloads in
GitHub's documented shapes, ``tests/fixtures/github``) link pull requests to releases,
count code owners' reviews as approvals, and record CI results, merges and deploys, all
audited as ``github:<login>``.

The release under test: rel-1, "New checkout", written by alice on
feature/new-checkout, with no commit until its pull request (#42, into dev) is linked.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.clock import ManualClock
from tests.support.github_webhooks import (
    EVENTS,
    HEAD,
    MERGE,
    NEW_HEAD,
    SECRET,
    WEDNESDAY_10,
    P,
    deliver,
    fixture,
    gate,
    new_release,
    newest_audit,
    ok,
    payload,
    state,
)
from tests.support.server import RunningServer, running_server

from shipwise.domain.github import sign


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_10)


@pytest.fixture
def server(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(
        database_url=database_url, data_dir=tmp_path, clock=clock, github_webhook_secret=SECRET
    ) as running:
        yield running


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


@pytest.fixture
def release(admin: httpx.Client) -> str:
    return new_release(admin)


# -- refused before anything is read ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_delivery_without_signature__401_and_nothing_changes(
    server: RunningServer, admin: httpx.Client, release: str, name: str
) -> None:
    before = state(admin, release)
    response = deliver(server, EVENTS[name], payload(name), secret=None)
    assert response.status_code == 401, response.text
    assert "X-Hub-Signature-256" in response.json()["error"]["message"]
    assert state(admin, release) == before


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body: sign(b"not-the-secret", body), id="another secret"),
        pytest.param(lambda body: sign(SECRET.encode(), body + b" "), id="another body"),
        pytest.param(lambda body: sign(SECRET.encode(), body)[7:], id="no sha256= prefix"),
        pytest.param(lambda body: "sha256=" + "0" * 64, id="zeros"),
        pytest.param(lambda body: "sha256=zz", id="not hex"),
    ],
)
@pytest.mark.parametrize("name", ["pull_request.opened", "pull_request_review.submitted"])
def test_delivery_with_wrong_signature__401_and_nothing_changes(
    server: RunningServer, admin: httpx.Client, release: str, name: str, forge: Any
) -> None:
    body = json.dumps(payload(name)).encode()
    before = state(admin, release)
    response = deliver(server, EVENTS[name], body, signature=forge(body))
    assert response.status_code == 401, response.text
    assert "does not match" in response.json()["error"]["message"]
    assert state(admin, release) == before


def test_delivery_with_wrong_signature__even_an_unreadable_body__is_a_401(
    server: RunningServer,
) -> None:
    response = deliver(server, "push", b"{not json", signature="sha256=" + "1" * 64)
    assert response.status_code == 401


def test_server_without_secret__503_saying_how_to_set_it(tmp_path: Path) -> None:
    with running_server(data_dir=tmp_path) as server, server.admin() as admin:
        before = ok(admin.get("/api/v1/audit", params={"limit": 500}))
        response = deliver(server, "pull_request", payload("pull_request.opened"))
        assert response.status_code == 503
        assert "SHIPWISE_GITHUB_WEBHOOK_SECRET" in response.json()["error"]["message"]
        assert ok(admin.get("/api/v1/audit", params={"limit": 500})) == before


def test_signed_but_unreadable_delivery__422_and_nothing_changes(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    before = state(admin, release)
    broken = payload("pull_request.opened")
    del broken["pull_request"]["head"]
    for body in (b"{not json", json.dumps(broken).encode()):
        response = deliver(server, "pull_request", body)
        assert response.status_code == 422, response.text
    assert state(admin, release) == before


def test_signed_form_encoded_delivery__415_asking_for_json(server: RunningServer) -> None:
    response = deliver(
        server, "push", b"payload=%7B%7D", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]["message"]


def test_ping__200_for_an_existing_project_404_for_another(server: RunningServer) -> None:
    assert deliver(server, "ping", payload("ping")).status_code == 200
    body = json.dumps(payload("ping")).encode()
    headers = {
        "X-GitHub-Event": "ping",
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
        "Content-Type": "application/json",
    }
    missing = httpx.post(f"{server.url}/webhooks/github/nope", content=body, headers=headers)
    assert missing.status_code == 404


def test_unread_event__202_saying_it_was_ignored(server: RunningServer) -> None:
    response = deliver(server, "issues", {"action": "opened", "issue": {"number": 7}})
    assert response.status_code == 202
    assert response.json()["applied"] == []
    assert "issues" in response.json()["skipped"][0]


# -- pull requests ---------------------------------------------------------------------------


def test_pull_request_with_release_line__links_it_and_gives_the_release_its_head(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    summary = fixture(server, "pull_request.opened").json()
    assert any("linked #42" in line for line in summary["applied"]), summary

    linked = ok(admin.get(f"{P}/releases/{release}"))["release"]
    assert [p["number"] for p in linked["pull_requests"]] == [42]
    assert linked["pull_requests"][0]["url"] == "https://github.com/acme/shop/pull/42"
    assert linked["commit"] == HEAD
    update = newest_audit(admin, release)[0]
    assert (update["actor"], update["action"]) == ("github:alice", "release.update")
    assert update["after"]["pull_requests"] == [42]


def test_pull_request_without_release_line__links_by_its_head_branch(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    data = payload("pull_request.opened")
    data["pull_request"]["body"] = "No release line here."
    assert deliver(server, "pull_request", data).status_code == 202
    linked = ok(admin.get(f"{P}/releases/{release}"))["release"]
    assert [p["number"] for p in linked["pull_requests"]] == [42]


def test_pull_request_delivered_twice__changes_the_release_once(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    """The same event in a second delivery of its own (re-serialised, so not a repeat of
    the first delivery's body): applying it again changes nothing."""
    fixture(server, "pull_request.opened")
    after_first = state(admin, release)
    body = json.dumps(payload("pull_request.opened"), indent=2).encode()
    again = deliver(server, "pull_request", body)
    assert again.status_code == 202, again.text
    assert again.json()["applied"] == []
    assert state(admin, release) == after_first


# -- reviews ---------------------------------------------------------------------------------


def test_code_owners_approving_review__counts_as_an_approval(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    assert gate(admin, release, "approvals")["passed"] is False

    summary = fixture(server, "pull_request_review.submitted").json()

    assert summary["applied"] == ["rel-1: bob approved it for dev (code owner)"]
    approvals = gate(admin, release, "approvals")
    assert approvals["passed"] is True, approvals
    assert "bob" in approvals["detail"]
    record = newest_audit(admin, release)[0]
    assert (record["actor"], record["action"], record["environment"]) == (
        "github:bob",
        "release.approval",
        "dev",
    )


def test_review_by_the_author__is_not_counted(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    data = payload("pull_request_review.submitted")
    data["review"]["user"]["login"] = data["sender"]["login"] = "alice"

    summary = ok(deliver(server, "pull_request_review", data))

    assert summary["applied"] == []
    assert "alice wrote the change" in summary["skipped"][0]
    assert gate(admin, release, "approvals")["passed"] is False
    assert all(r["action"] != "release.approval" for r in newest_audit(admin, release))


def test_review_by_someone_not_among_the_policys_code_owners__is_not_counted(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    ok(admin.put(f"{P}/policy", json={"source": 'code_owners = ["carol"]\n'}))
    fixture(server, "pull_request.opened")
    summary = fixture(server, "pull_request_review.submitted").json()
    assert "bob is not a code owner" in summary["skipped"][0]
    assert gate(admin, release, "approvals")["passed"] is False


def test_review_of_an_older_head__is_not_counted(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    data = payload("pull_request_review.submitted")
    data["review"]["commit_id"] = NEW_HEAD  # not what the release records
    summary = ok(deliver(server, "pull_request_review", data))
    assert "not the release's commit" in summary["skipped"][0]
    assert gate(admin, release, "approvals")["passed"] is False


def test_changes_requested__records_nothing(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    before = state(admin, release)
    data = payload("pull_request_review.submitted")
    data["review"]["state"] = "changes_requested"
    summary = ok(deliver(server, "pull_request_review", data))
    assert "requests changes" in summary["skipped"][0]
    assert state(admin, release) == before


# -- CI, pushes, merges and deploys ----------------------------------------------------------


@pytest.mark.parametrize("name", ["status", "check_suite.completed"])
def test_ci_success_on_the_releases_commit__passes_the_ci_gate(
    server: RunningServer, admin: httpx.Client, release: str, name: str
) -> None:
    fixture(server, "pull_request.opened")
    assert gate(admin, release, "ci")["passed"] is False

    fixture(server, name)

    ci = gate(admin, release, "ci")
    assert ci["passed"] is True, ci
    assert ("ci/tests" if name == "status" else "GitHub Actions") in ci["detail"]


def test_ci_failure__fails_the_ci_gate(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    data = payload("status")
    data["state"] = "failure"
    assert deliver(server, "status", data).status_code == 202
    ci = gate(admin, release, "ci")
    assert ci["passed"] is False
    assert "red in CI" in ci["detail"]


def test_deployment_status_success_to_staging__records_the_deploy(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    assert gate(admin, release, "previous-deploy", "production")["passed"] is False

    summary = fixture(server, "deployment_status").json()

    assert summary["applied"] == [f"{HEAD[:12]} deployed to staging"]
    deployed = gate(admin, release, "previous-deploy", "production")
    assert deployed["passed"] is True, deployed
    records = ok(admin.get("/api/v1/audit", params={"target_type": "deploy"}))["records"]
    assert (records[0]["actor"], records[0]["environment"]) == ("github:ci-bot", "staging")


def test_deployment_to_an_unknown_environment__is_skipped(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    before = state(admin, release)
    data = payload("deployment_status")
    data["deployment_status"]["environment"] = "preview-42"
    summary = ok(deliver(server, "deployment_status", data))
    assert "preview-42" in summary["skipped"][0]
    assert state(admin, release) == before


def test_deployment_environment__found_by_key_in_any_case_or_by_branch(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    for name, expected in (("Staging", "staging"), ("main", "production")):
        data = payload("deployment_status")
        data["deployment_status"]["environment"] = name
        summary = ok(deliver(server, "deployment_status", data))
        assert summary["applied"] == [f"{HEAD[:12]} deployed to {expected}"]


def test_push_to_the_releases_branch__moves_its_commit_and_withdraws_approvals(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    fixture(server, "pull_request_review.submitted")
    version = ok(admin.get(f"{P}/releases/{release}"))["release"]["content_version"]

    fixture(server, "push")

    moved = ok(admin.get(f"{P}/releases/{release}"))["release"]
    assert (moved["commit"], moved["content_version"]) == (NEW_HEAD, version + 1)
    approvals = gate(admin, release, "approvals")
    assert approvals["passed"] is False
    assert "withdrawn" in approvals["detail"]


def test_push_to_the_branch_of_a_release_pinned_elsewhere__leaves_it(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    ok(admin.patch(f"{P}/releases/{release}", json={"commit": MERGE}))
    before = state(admin, release)
    summary = fixture(server, "push").json()
    assert "rel-1 stays at" in summary["skipped"][0]
    assert state(admin, release) == before


def test_merge_into_dev__merge_commit_becomes_the_commit_approvals_stand(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    fixture(server, "pull_request_review.submitted")
    linked = ok(admin.get(f"{P}/releases/{release}"))["release"]

    fixture(server, "pull_request.closed.merged")

    merged = ok(admin.get(f"{P}/releases/{release}"))["release"]
    assert merged["commit"] == MERGE
    assert merged["content_version"] == linked["content_version"]
    assert merged["pull_requests"][0]["merged"] is True
    assert gate(admin, release, "approvals")["passed"] is True
    ci = gate(admin, release, "ci")  # the merge commit has its own CI to pass
    assert ci["passed"] is False
    assert MERGE[:12] in ci["detail"]

    data = payload("status")
    data["sha"] = MERGE
    assert deliver(server, "status", data).status_code == 202
    assert gate(admin, release, "ci")["passed"] is True


def test_merge_of_another_head__leaves_the_commit(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    data = payload("pull_request.closed.merged")
    data["pull_request"]["head"]["sha"] = NEW_HEAD  # pushed after the release saw HEAD
    summary = ok(deliver(server, "pull_request", data))
    assert "the commit stays" in summary["skipped"][0]
    assert ok(admin.get(f"{P}/releases/{release}"))["release"]["commit"] == HEAD


def test_one_delivery__is_one_transaction(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    """A review that links the pull request and approves it: both, in one delivery."""
    summary = fixture(server, "pull_request_review.submitted").json()
    assert len(summary["applied"]) == 2, summary
    records = newest_audit(admin, release)
    assert [r["action"] for r in records[:2]] == ["release.approval", "release.update"]
    delivery = records[0]["reason"]
    assert delivery.startswith("GitHub pull_request_review delivery ")
    assert records[1]["reason"] == delivery


def test_release_line_naming_a_released_or_missing_release__changes_nothing(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    before = state(admin, release)
    data = copy.deepcopy(payload("pull_request.opened"))
    data["pull_request"]["body"] = "Release: rel-99"
    summary = ok(deliver(server, "pull_request", data))
    assert "rel-99" in summary["skipped"][0]
    assert state(admin, release) == before


def test_new_commits_on_the_pull_request__move_the_commit_along(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    fixture(server, "pull_request.opened")
    version = ok(admin.get(f"{P}/releases/{release}"))["release"]["content_version"]
    fixture(server, "pull_request.synchronize")
    moved = ok(admin.get(f"{P}/releases/{release}"))["release"]
    assert (moved["commit"], moved["content_version"]) == (NEW_HEAD, version + 1)


def test_two_releases_on_the_head_branch__neither_is_linked(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    twin = {"title": "Checkout copy", "kind": "feature", "branch": "feature/new-checkout"}
    other = ok(admin.post(f"{P}/releases", json=twin))["key"]
    data = payload("pull_request.opened")
    data["pull_request"]["body"] = ""
    summary = ok(deliver(server, "pull_request", data))
    assert "are all on branch feature/new-checkout" in summary["skipped"][0]
    for key in (release, other):
        assert ok(admin.get(f"{P}/releases/{key}"))["release"]["pull_requests"] == []


def test_promotion_pull_request__review_of_the_merged_code_approves_staging(
    server: RunningServer, admin: httpx.Client, release: str
) -> None:
    """Feature PR #42 into dev is merged; carol opens #43, dev → staging, naming rel-1;
    bob approves #43 at the merge commit: an approval for staging. Carol, who only
    opened the promotion, does not become an author."""
    fixture(server, "pull_request.opened")
    fixture(server, "pull_request.closed.merged")
    promotion = payload("pull_request.opened")
    pull = promotion["pull_request"]
    pull.update(number=43, title="Promote rel-1 to staging", body="Release: rel-1")
    pull["html_url"] = "https://github.com/acme/shop/pull/43"
    pull["user"]["login"] = promotion["sender"]["login"] = "carol"
    pull["head"].update(ref="dev", sha=MERGE)
    pull["base"]["ref"] = "staging"
    promotion["number"] = 43
    assert deliver(server, "pull_request", promotion).status_code == 202
    review = payload("pull_request_review.submitted")
    review["pull_request"] = pull
    review["review"]["commit_id"] = MERGE

    summary = ok(deliver(server, "pull_request_review", review))

    assert summary["applied"] == ["rel-1: bob approved it for staging (code owner)"]
    linked = ok(admin.get(f"{P}/releases/{release}"))["release"]
    assert ([p["number"] for p in linked["pull_requests"]], linked["commit"]) == ([42, 43], MERGE)
    assert "carol" not in linked["authors"]
    approvals = gate(admin, release, "approvals", "staging")
    assert approvals["passed"] is True, approvals
