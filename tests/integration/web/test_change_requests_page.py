"""The change request pages, through a real server and the real sign-in, on SQLite and
PostgreSQL: the list (filtered by state and flag in the URL), a request's page (what it
changes in words, who asked, the reviews, the state), and its actions as forms calling
the API's own service as the signed-in person: two others approve, one applies, the
flag changes. A refusal is the page again with why (409), a bad value is 422 beside its
field, a viewer sees no control and a forged form is 403, a form without the CSRF
token is 403; nothing changes unless the action is done. The flag page's
protected-production refusal links here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.web.release_pages import API, PROJECT, World, read, world

LIST = f"/projects/{PROJECT}/change-requests"
RULES_25 = {
    "enabled": True,
    "strategies": [
        {
            "name": "flexibleRollout",
            "parameters": {"rollout": "25", "stickiness": "default", "groupId": "checkout"},
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro"]}],
        }
    ],
}


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        made.tokens["admin"] = made.server.admin_token
        with made.api_as("alice") as alice:
            assert alice.post(f"{API}/flags", json={"key": "checkout"}).status_code == 201
        yield made


def asked_by_alice(team: World, reason: str = "launch to pro users") -> int:
    body = {
        "kind": "flag",
        "flag": "checkout",
        "environment": "production",
        "rules": RULES_25,
        "reason": reason,
    }
    with team.api_as("alice") as alice:
        response = alice.post(f"{API}/change-requests", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def request_state(team: World, request_id: int) -> dict[str, Any]:
    response = team.admin.get(f"{API}/change-requests/{request_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def production_rules(team: World) -> dict[str, Any]:
    response = team.admin.get(f"{API}/flags/checkout")
    assert response.status_code == 200, response.text
    found = response.json()["environments"]["production"]
    return {"enabled": found["enabled"], "strategies": found["strategies"]}


def submit(browser: httpx.Client, url: str, action_ends: str, **typed: str) -> httpx.Response:
    """Post the page's form whose action ends so, with ``typed`` filled in."""
    form = read(browser.get(url)).form(action_ends)
    return browser.post(form.action, data={**form.fields, **typed})


def test_change_request_list__shows_each_request__filtered_by_state_and_flag_kept_in_the_url(
    team: World,
) -> None:
    first = asked_by_alice(team)
    second = asked_by_alice(team, "second thoughts")
    with team.api_as("alice") as alice:
        withdrawn = alice.post(f"{API}/change-requests/{first}/withdraw", json={})
        assert withdrawn.status_code == 200, withdrawn.text

    with team.person("vic") as vic:
        everything = read(vic.get(LIST))
        open_only = vic.get(LIST, params={"state": "open"})
        withdrawn_only = read(vic.get(LIST, params={"state": "withdrawn"}))
        other_flag = read(vic.get(LIST, params={"flag": "search"}))

    assert f"#{first}" in everything.text
    assert f"#{second}" in everything.text
    assert "flag 'checkout' in production" in everything.text
    assert "0 of 2 approvals" in everything.text
    assert f"#{second}" in read(open_only).text
    assert f"#{first}" not in read(open_only).text
    assert '<option value="open" selected>' in open_only.text  # the filter stays in the form
    assert f"#{first}" in withdrawn_only.text
    assert f"#{second}" not in withdrawn_only.text
    assert "No change requests match the filter." in other_flag.text
    assert 'aria-current="page">Change requests</a>' in open_only.text  # the nav's link


def test_change_request_list__with_an_unknown_state__is_422_beside_the_field(team: World) -> None:
    asked_by_alice(team)
    with team.person("vic") as vic:
        response = vic.get(LIST, params={"state": "merged"})

    assert response.status_code == 422
    page = read(response)
    assert "unknown state 'merged'; choose one of open, approved, applied" in page.text
    assert 'id="error-state"' in response.text
    assert "Nothing shown: fix the filter above." in page.text


def test_change_request_page__shows_what_it_changes_in_words_who_asked_and_the_state(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    with team.person("vic") as vic:
        response = vic.get(f"{LIST}/{request_id}")

    assert response.status_code == 200, response.text
    text = read(response).text
    assert f"Change request #{request_id}: flag 'checkout' in production" in text
    assert "alice" in text
    assert "launch to pro users" in text
    assert "open" in text
    assert "0 of 2 approvals" in text
    assert "removed: off" in text
    assert "added: on" in text
    assert "added: serves 25% of users by default" in text
    assert "added: if plan IN pro" in text


def test_change_request_page__two_others_approve_and_one_applies__changes_the_flag(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    url = f"{LIST}/{request_id}"
    with team.person("bob") as bob:
        approved = submit(bob, url, "/approve", comment="looks right")
        assert approved.status_code == 303, approved.text
        assert approved.headers["location"].startswith(f"{url}?done=")
        assert "bob approved change request" in read(bob.get(approved.headers["location"])).text
    assert production_rules(team)["enabled"] is False  # one approval of two: nothing yet
    with team.person("admin") as admin:
        assert submit(admin, url, "/approve").status_code == 303
    with team.person("bob") as bob:
        applied = submit(bob, url, "/apply")
        assert applied.status_code == 303, applied.text
        landed = read(bob.get(applied.headers["location"]))

    assert "Applied change request" in landed.text
    state = request_state(team, request_id)
    assert state["state"] == "applied"
    assert len(state["approvals"]) == 2
    assert state["approvals"][0] == "bob"
    rules = production_rules(team)
    assert rules["enabled"] is True
    assert rules["strategies"][0]["parameters"]["rollout"] == "25"
    assert "bob approved" in landed.text
    assert "looks right" in landed.text


def test_change_request_page__the_requester_approving_their_own__is_refused_in_place_409(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    url = f"{LIST}/{request_id}"
    with team.person("alice") as alice:
        page = read(alice.get(url))
        assert [f.action for f in page.forms if f.action.endswith("/approve")] == []
        csrf = page.form("/withdraw").fields["csrf_token"]
        forged = alice.post(f"{url}/approve", data={"csrf_token": csrf})

    assert forged.status_code == 409
    assert "alice requested change request" in read(forged).text
    assert "cannot review it" in forged.text
    assert request_state(team, request_id)["approvals"] == []


def test_change_request_page__apply_before_enough_approvals__is_refused_in_place_409(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    url = f"{LIST}/{request_id}"
    with team.person("bob") as bob:
        assert submit(bob, url, "/approve").status_code == 303
        page = read(bob.get(url))
        assert [f.action for f in page.forms if f.action.endswith("/apply")] == []
        csrf = page.form("/sign-out").fields["csrf_token"]
        early = bob.post(f"{url}/apply", data={"csrf_token": csrf})

    assert early.status_code == 409
    assert "1 of 2 approvals (bob): it needs 1 more before it applies" in read(early).text
    assert request_state(team, request_id)["state"] == "open"
    assert production_rules(team)["enabled"] is False


def test_change_request_page__reject_without_a_reason__is_422_beside_the_field(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    url = f"{LIST}/{request_id}"
    with team.person("bob") as bob:
        empty = submit(bob, url, "/reject", reason="  ")
        assert empty.status_code == 422
        assert 'id="error-reject-reason"' in empty.text
        assert "say why the change is rejected" in read(empty).text
        assert request_state(team, request_id)["state"] == "open"

        rejected = submit(bob, url, "/reject", reason="not before the sale")
        assert rejected.status_code == 303, rejected.text
        landed = read(bob.get(rejected.headers["location"]))

    assert request_state(team, request_id)["state"] == "rejected"
    assert "not before the sale" in landed.text
    assert [f.action for f in landed.forms if f.action.startswith(url)] == []  # no controls


def test_change_request_page__the_requester_withdraws_it__by_the_form(team: World) -> None:
    request_id = asked_by_alice(team)
    with team.person("alice") as alice:
        withdrawn = submit(alice, f"{LIST}/{request_id}", "/withdraw", reason="wrong flag")
        assert withdrawn.status_code == 303, withdrawn.text

    state = request_state(team, request_id)
    assert (state["state"], state["closed_reason"]) == ("withdrawn", "wrong flag")


def test_change_request_page__for_a_viewer__shows_no_controls_and_a_forged_post_is_403(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    url = f"{LIST}/{request_id}"
    with team.person("vic") as vic:
        page = read(vic.get(url))
        csrf = page.form("/sign-out").fields["csrf_token"]
        forged = vic.post(f"{url}/approve", data={"csrf_token": csrf})

    assert [f.action for f in page.forms if f.action.startswith(url)] == []
    assert forged.status_code == 403
    assert request_state(team, request_id)["approvals"] == []


def test_change_request_page__a_form_without_the_csrf_token__is_403_and_changes_nothing(
    team: World,
) -> None:
    request_id = asked_by_alice(team)
    with team.person("bob") as bob:
        response = bob.post(f"{LIST}/{request_id}/approve", data={"comment": "ok"})

    assert response.status_code == 403
    assert "CSRF token is missing" in response.text
    assert request_state(team, request_id)["approvals"] == []


def test_change_request_page__an_unknown_request__is_the_404_page(team: World) -> None:
    with team.person("vic") as vic:
        response = vic.get(f"{LIST}/999")
    assert response.status_code == 404
    assert "no change request #999" in read(response).text


def test_flag_page__refused_in_protected_production__links_the_flags_change_requests(
    team: World,
) -> None:
    flag_page = f"/projects/{PROJECT}/flags/checkout"
    with team.person("alice") as alice:
        refused = submit(alice, flag_page, "/envs/production/toggle")
        stale_free = read(alice.get(flag_page))

    assert refused.status_code == 409
    assert f'href="{LIST}?flag=checkout"' in refused.text
    assert "change requests for checkout" in read(refused).text
    assert f'href="{LIST}?flag=checkout"' not in stale_free.text  # only with the refusal
