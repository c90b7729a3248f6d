"""Change requests through the admin API, on SQLite and PostgreSQL: a flag or segment
change reviewed by two people (never the requester), applied once, audited at every step,
stale when its target changes under it; and the policy guarding itself (a weakening
waits for a second release manager, a strengthening applies at once)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import as_token, create_flag, issue, rules_path
from tests.support.server import RunningServer

P = "/api/v1/projects/default"
CR = f"{P}/change-requests"
ON_FOR_EVERYONE = {"enabled": True, "strategies": [{"name": "default"}]}
EVERY_DAY = '[window]\nweekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
A_FREEZE = '[[freeze]]\nname = "Christmas"\nstart = 2026-12-20\nend = 2027-01-02\n'


@dataclass
class Team:
    admin: httpx.Client
    alice: httpx.Client  # developer
    bob: httpx.Client  # developer
    carol: httpx.Client  # qa
    rita: httpx.Client  # release manager
    sam: httpx.Client  # release manager


@pytest.fixture
def team(server: RunningServer) -> Iterator[Team]:
    with server.admin() as admin:
        roles = {
            "alice": "developer",
            "bob": "developer",
            "carol": "qa",
            "rita": "release-manager",
            "sam": "release-manager",
        }
        clients = {
            name: as_token(server, issue(admin, kind="api", project="default", role=r, name=name))
            for name, r in roles.items()
        }
        yield Team(admin, **clients)
        for client in clients.values():
            client.close()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, words: str) -> str:
    assert response.status_code == 409, response.text
    message = str(response.json()["error"]["message"])
    assert words in message, message
    return message


def audit_actions(admin: httpx.Client, request_id: int) -> list[str]:
    params = {"project": "default", "target_type": "change-request", "target_key": request_id}
    records = ok(admin.get("/api/v1/audit", params=params))["records"]
    return [r["action"] for r in reversed(records)]


def request_flag(client: httpx.Client, flag: str, rules: dict[str, Any]) -> dict[str, Any]:
    body = {"kind": "flag", "flag": flag, "environment": "production", "rules": rules}
    return ok(client.post(CR, json={**body, "reason": "customers asked"}), 201)  # type: ignore[no-any-return]


def test_flag_request__two_reviewers_then_apply__changes_the_flag_once_audited_throughout(
    team: Team,
) -> None:
    # Given an operational flag, off in production, and alice's request to switch it on
    create_flag(team.admin, "bulk-edit", kind="operational")
    before = ok(team.admin.get(rules_path("bulk-edit")))
    request = request_flag(team.alice, "bulk-edit", ON_FOR_EVERYONE)
    number = request["id"]
    assert request["state"] == "open"
    assert request["needs"] == 2
    assert request["base_version"] == before["version"]
    assert '-  "enabled": false,' in request["diff"]

    # Then alice cannot approve her own request
    refused(team.alice.post(f"{CR}/{number}/approve"), "alice requested change request")

    # When bob approves, one approval is not enough
    once = ok(team.bob.post(f"{CR}/{number}/approve", json={"comment": "looks right"}))
    assert once["state"] == "open"
    assert once["waiting_for"] == "1 of 2 approvals (bob)"
    refused(team.alice.post(f"{CR}/{number}/apply"), "it needs 1 more")
    refused(team.bob.post(f"{CR}/{number}/approve"), "bob already approved")
    assert ok(team.admin.get(rules_path("bulk-edit")))["enabled"] is False

    # When carol approves too, it is approved, and alice applies it
    assert ok(team.carol.post(f"{CR}/{number}/approve"))["state"] == "approved"
    applied = ok(team.alice.post(f"{CR}/{number}/apply"))

    # Then the flag has the requested rules, and the request is applied, once
    assert applied["state"] == "applied"
    now = ok(team.admin.get(rules_path("bulk-edit")))
    assert now["enabled"] is True
    assert [s["name"] for s in now["strategies"]] == ["default"]
    assert applied["applied_version"] == now["version"] == before["version"] + 1
    refused(team.alice.post(f"{CR}/{number}/apply"), "already applied")
    assert ok(team.admin.get(rules_path("bulk-edit")))["version"] == now["version"]

    # And every step is in the audit log, with the diff reviewers saw
    assert audit_actions(team.admin, number) == [
        "change-request.open",
        "change-request.approve",
        "change-request.approve",
        "change-request.apply",
    ]
    params = {"project": "default", "target_type": "change-request", "target_key": number}
    newest = ok(team.admin.get("/api/v1/audit", params={**params, "limit": 1}))["records"][0]
    assert newest["after"]["approvals"] == ["bob", "carol"]
    assert '+  "enabled": true,' in newest["after"]["diff"]
    flag_log = ok(
        team.admin.get(
            "/api/v1/audit",
            params={"project": "default", "target_type": "flag", "target_key": "bulk-edit"},
        )
    )["records"]
    assert flag_log[0]["action"] == "flag.configure"
    assert "alice" in flag_log[0]["actor"]
    assert flag_log[0]["after"]["authority"] == f"change request #{number}"


def test_flag_request__flag_changes_under_it__goes_stale_and_apply_is_refused(
    team: Team,
) -> None:
    # Given an approved request to roll a flag out, based on its current version
    create_flag(team.admin, "bulk-edit", kind="operational")
    number = request_flag(team.alice, "bulk-edit", ON_FOR_EVERYONE)["id"]
    ok(team.bob.post(f"{CR}/{number}/approve"))
    ok(team.carol.post(f"{CR}/{number}/approve"))

    # When someone changes the flag meanwhile (switching it off is always allowed)
    changed = ok(team.bob.post(f"{rules_path('bulk-edit')}/disable"))

    # Then the request is stale, saying why, and applying it is refused, changing nothing
    shown = ok(team.alice.get(f"{CR}/{number}"))
    assert shown["state"] == "stale"
    assert shown["closed_reason"] == f"flag changed under it: version {changed['version']}"
    refused(team.alice.post(f"{CR}/{number}/apply"), "request the change again")
    assert ok(team.admin.get(rules_path("bulk-edit")))["version"] == changed["version"]
    assert audit_actions(team.admin, number)[-1] == "change-request.withdraw"
    listed = ok(team.admin.get(CR, params={"state": "stale", "flag": "bulk-edit"}))
    assert [r["id"] for r in listed["change_requests"]] == [number]


def test_flag_request__rejected__can_be_neither_approved_nor_applied(team: Team) -> None:
    create_flag(team.admin, "bulk-edit", kind="operational")
    number = request_flag(team.alice, "bulk-edit", ON_FOR_EVERYONE)["id"]

    rejected = ok(team.bob.post(f"{CR}/{number}/reject", json={"reason": "not this week"}))

    assert rejected["state"] == "rejected"
    assert rejected["closed_reason"] == "not this week"
    refused(team.carol.post(f"{CR}/{number}/approve"), "is rejected")
    refused(team.alice.post(f"{CR}/{number}/apply"), "is rejected (not this week)")
    assert ok(team.admin.get(rules_path("bulk-edit")))["enabled"] is False
    assert audit_actions(team.admin, number) == ["change-request.open", "change-request.reject"]


def test_flag_request__withdrawn_by_someone_else__is_refused_and_by_the_requester_works(
    team: Team,
) -> None:
    create_flag(team.admin, "bulk-edit", kind="operational")
    number = request_flag(team.alice, "bulk-edit", ON_FOR_EVERYONE)["id"]

    refused(team.bob.post(f"{CR}/{number}/withdraw"), "only they withdraw it")
    withdrawn = ok(team.alice.post(f"{CR}/{number}/withdraw", json={"reason": "wrong flag"}))

    assert withdrawn["state"] == "withdrawn"
    assert withdrawn["closed_reason"] == "wrong flag"


def test_flag_request__with_rules_that_cannot_be_stored__is_refused_422(team: Team) -> None:
    create_flag(team.admin, "bulk-edit", kind="operational")
    bad = {
        "enabled": True,
        "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "150"}}],
    }
    body = {"kind": "flag", "flag": "bulk-edit", "environment": "production", "rules": bad}

    response = team.alice.post(CR, json=body)

    assert response.status_code == 422, response.text
    assert ok(team.admin.get(CR))["change_requests"] == []


def test_segment_request__approved_and_applied__replaces_its_constraints(team: Team) -> None:
    # Given a segment of beta testers, and a request to widen it
    beta = [{"contextName": "userId", "operator": "IN", "values": ["1", "2"]}]
    segment = ok(team.admin.post(f"{P}/segments", json={"name": "beta", "constraints": beta}), 201)
    wider = [{"contextName": "userId", "operator": "IN", "values": ["1", "2", "3"]}]
    request = ok(
        team.alice.post(CR, json={"kind": "segment", "segment": "beta", "constraints": wider}), 201
    )
    assert request["base_version"] == segment["version"]

    # When two others approve it and it is applied
    ok(team.bob.post(f"{CR}/{request['id']}/approve"))
    ok(team.rita.post(f"{CR}/{request['id']}/approve"))
    applied = ok(team.bob.post(f"{CR}/{request['id']}/apply"))

    # Then the segment has the new constraints, one version on
    now = ok(team.admin.get(f"{P}/segments/beta"))
    assert now["constraints"] == wider
    assert now["version"] == applied["applied_version"] == segment["version"] + 1
    log = ok(
        team.admin.get(
            "/api/v1/audit",
            params={"project": "default", "target_type": "segment", "target_key": "beta"},
        )
    )["records"]
    assert log[0]["after"]["authority"] == f"change request #{request['id']}"


def test_segment_request__segment_changes_under_it__goes_stale(team: Team) -> None:
    # Given a request to change a segment's constraints
    beta = [{"contextName": "userId", "operator": "IN", "values": ["1"]}]
    ok(team.admin.post(f"{P}/segments", json={"name": "beta", "constraints": beta}), 201)
    body = {"kind": "segment", "segment": "beta", "constraints": [*beta, *beta]}
    number = ok(team.alice.post(CR, json=body), 201)["id"]

    # When someone edits the segment directly meanwhile
    edited = team.bob.put(
        f"{P}/segments/beta", json={"constraints": []}, headers={"If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text

    # Then the request is stale, naming the segment's new version
    shown = ok(team.alice.get(f"{CR}/{number}"))
    assert shown["state"] == "stale"
    assert shown["closed_reason"] == "segment changed under it: version 2"


def test_policy__weakening__waits_for_a_second_release_manager(team: Team) -> None:
    # When rita applies a policy that opens the window every day of the week
    response = team.rita.put(f"{P}/policy", json={"source": EVERY_DAY})

    # Then it waits (202) as a change request, saying what it weakens; nothing changed yet
    answer = ok(response, 202)
    assert answer["applied"] is False
    assert answer["weakenings"] == ["window: adds Saturday", "window: adds Sunday"]
    assert answer["source"] is None
    assert '+weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]' in answer["diff"]
    request = answer["change_request"]
    number = request["id"]
    assert request["kind"] == "policy"
    assert request["needs"] == 1
    assert ok(team.admin.get(f"{P}/policy"))["source"] is None

    # And rita cannot approve it, nor can a developer
    refused(team.rita.post(f"{CR}/{number}/approve"), "rita requested")
    refused(team.bob.post(f"{CR}/{number}/approve"), "approved by a release manager or admin")
    refused(team.rita.post(f"{CR}/{number}/apply"), "it needs 1 more")

    # When sam, a second release manager, approves and applies it
    assert ok(team.sam.post(f"{CR}/{number}/approve"))["state"] == "approved"
    applied = ok(team.sam.post(f"{CR}/{number}/apply"))

    # Then it is in force, and the audit record carries the diff and the request
    assert applied["state"] == "applied"
    policy = ok(team.admin.get(f"{P}/policy"))
    assert policy["source"] == EVERY_DAY
    assert applied["applied_version"] == policy["version"]
    records = ok(
        team.admin.get(
            "/api/v1/audit", params={"project": "default", "target_type": "policy", "limit": 1}
        )
    )["records"]
    assert records[0]["action"] == "policy.apply"
    assert records[0]["after"]["authority"] == f"change request #{number}"
    assert '-weekdays = ["mon", "tue", "wed", "thu", "fri"]' in records[0]["after"]["diff"]


def test_policy__strengthening__applies_at_once_with_its_diff_audited(team: Team) -> None:
    answer = ok(team.rita.put(f"{P}/policy", json={"source": A_FREEZE}))

    assert answer["applied"] is True
    assert answer["weakenings"] == []
    assert answer["source"] == A_FREEZE
    assert "Christmas" in answer["effective"]
    records = ok(
        team.admin.get(
            "/api/v1/audit", params={"project": "default", "target_type": "policy", "limit": 1}
        )
    )["records"]
    assert '+name = "Christmas"' in records[0]["after"]["diff"]


def test_policy__changed_while_a_weakening_waits__the_request_goes_stale(team: Team) -> None:
    # Given a weakening policy waiting for review
    number = ok(team.rita.put(f"{P}/policy", json={"source": EVERY_DAY}), 202)["change_request"][
        "id"
    ]

    # When a strengthening policy is applied meanwhile
    ok(team.sam.put(f"{P}/policy", json={"source": A_FREEZE}))

    # Then the waiting request is stale and cannot be applied, even once approved
    assert ok(team.admin.get(f"{CR}/{number}"))["state"] == "stale"
    refused(team.sam.post(f"{CR}/{number}/approve"), "is stale")
    assert ok(team.admin.get(f"{P}/policy"))["source"] == A_FREEZE


def test_policy__proposed_through_post__is_refused_naming_put_policy(team: Team) -> None:
    response = team.rita.post(CR, json={"kind": "policy"})

    assert response.status_code == 422, response.text
    assert "shipwise policy apply" in response.json()["error"]["message"]


def test_flag_request__opened_and_approved__are_announced_to_reviewers(
    server: RunningServer, team: Team
) -> None:
    # Given a request, approved by two people
    create_flag(team.admin, "bulk-edit", kind="operational")
    number = request_flag(team.alice, "bulk-edit", ON_FOR_EVERYONE)["id"]
    ok(team.bob.post(f"{CR}/{number}/approve"))
    ok(team.carol.post(f"{CR}/{number}/approve"))

    # Then the outbox holds one notification when it opened and one when it was approved
    far = datetime(2100, 1, 1, tzinfo=UTC)
    with server.services.database.read() as tx:
        queued = [item.notification for item in tx.due_outbox(far, 100)]
    about = [n for n in queued if n.data.get("change_request") == number]
    assert [n.kind for n in about] == ["change-request.opened", "change-request.approved"]
    assert f"shipwise change approve {number}" in about[0].text
    assert about[0].flag == "bulk-edit"
    assert about[0].environment == "production"
    assert f"shipwise change apply {number}" in about[1].text
