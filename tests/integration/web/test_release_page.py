"""The release page, through a real server and the real sign-in, on SQLite and
PostgreSQL: the next stage's gates and the evidence; actions as forms that call the
API's own services as the signed-in person (303, then the new state); a refused
promotion shown in place with every failing gate, nothing changed; a viewer sees no
action and a forged POST is 403; a bad value is 422 beside its field."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.web.release_pages import API, World, read, release_page, world

from shipwise.domain.gates import gate_label


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        yield made


def test_release_page__shows_the_gates_the_evidence_the_pull_requests_and_the_audit_trail(
    team: World,
) -> None:
    key = team.release(
        "Bulk edit",
        pull_requests=[{"number": 12, "title": "Bulk edit UI", "url": "https://git.example/pr/12"}],
        rollback_plan="Switch bulk-edit off; revert the merge.",
    )
    commit = team.state(key)["release"]["commit"]
    deploy = {"environment": "dev", "commit": commit, "succeeded": True}
    assert team.admin.post(f"{API}/deploys", json=deploy).status_code == 201
    with team.api_as("bob") as bob:
        assert bob.post(f"{API}/releases/{key}/approve", json={}).status_code == 200

    with team.person("alice") as alice:
        response = alice.get(release_page(key))
    assert response.status_code == 200, response.text
    page = read(response)
    text = page.text

    assert "Gates for dev" in text
    assert "Every gate passes: rel-1 may go to dev now." in text
    assert "Approvals ✓ passed" not in text  # the mark is CSS; the state is a word
    assert "passed 1 approval for dev (bob), 1 needed" in text
    assert "bob for dev (as code-owner)" in text
    assert f"{commit[:12]} (the release's commit)" in text
    assert "CI tests: success" in text
    assert "Deployed to dev: succeeded" in text
    assert '<a href="https://git.example/pr/12" rel="noreferrer">#12</a>' in response.text
    assert "Switch bulk-edit off; revert the merge." in text
    assert "release.approval" in text
    assert "release.create" in text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_release_page__approve_by_a_second_person_then_promote__by_form_posts(
    team: World,
) -> None:
    key = team.release("Dark mode")
    url = release_page(key)
    with team.person("bob") as bob:
        form = read(bob.get(url)).form("/approve")
        approved = bob.post(form.action, data=form.fields)
        assert approved.status_code == 303, approved.text
        assert approved.headers["location"].startswith(f"{url}?done=")
        after = read(bob.get(approved.headers["location"]))
        assert "bob approved rel-1" in after.text

        promoted = bob.post(after.form("/promote").action, data=after.form("/promote").fields)
        assert promoted.status_code == 303, promoted.text
        landed = read(bob.get(promoted.headers["location"]))

    assert "Promoted rel-1 to dev" in landed.text
    assert team.state(key)["release"]["stage"] == "dev"
    assert "Gates for staging" in landed.text


def test_release_page__a_refused_promotion__is_409_with_every_failing_gate_and_nothing_changed(
    team: World,
) -> None:
    key = team.release("Unapproved")
    # No approval, and the commit changed to one CI never saw: two gates fail.
    with team.api_as("alice") as alice:
        change = {"commit": secrets.token_hex(20)}
        assert alice.patch(f"{API}/releases/{key}", json=change).status_code == 200
    before = team.state(key)

    with team.person("alice") as alice:
        audited = team.audit_count()  # after the sign-in, which is audited
        page = read(alice.get(release_page(key)))
        response = alice.post(page.form("/promote").action, data=page.form("/promote").fields)

    assert response.status_code == 409
    refused = read(response)
    in_place = refused.text.split("Promotion refused; nothing changed.")[1].split("Each gate")[0]
    assert in_place.startswith(" 2 gates not met:")
    # Every failing gate, in the API gate check's words (up to the command).
    gates = team.admin.get(f"{API}/releases/{key}/gates").json()["gates"]
    unmet = [g for g in gates if not g["passed"]]
    assert [g["gate"] for g in unmet] == ["approvals", "ci"]
    for gate in unmet:
        assert f"{gate_label(gate['gate'])}: {gate['remedy'].split(': `shipwise')[0]}" in in_place
    assert team.state(key) == before
    assert team.audit_count() == audited


def test_release_page__a_viewer__sees_no_action_and_a_forged_post_is_403_changing_nothing(
    team: World,
) -> None:
    key = team.release("Read only")
    with team.person("vic") as vic:
        page = read(vic.get(release_page(key)))
        assert [f.action for f in page.forms] == ["/sign-out"]
        assert "Actions" not in page.text
        csrf = page.form("/sign-out").fields["csrf_token"]
        audited = team.audit_count()
        for action in ("approve", "promote", "signoff"):
            response = vic.post(f"{release_page(key)}/{action}", data={"csrf_token": csrf})
            assert response.status_code == 403, (action, response.text)
            assert "may not" in read(response).text
        forged = {"csrf_token": csrf, "reason": "because"}
        assert vic.post(f"{release_page(key)}/abandon", data=forged).status_code == 403

    assert team.state(key)["release"]["status"] == "in-progress"
    assert team.audit_count() == audited


def test_release_page__a_post_without_the_csrf_token__is_403_changing_nothing(
    team: World,
) -> None:
    key = team.release("No token")
    with team.person("bob") as bob:
        audited = team.audit_count()
        response = bob.post(f"{release_page(key)}/approve", data={})
    assert response.status_code == 403
    assert team.audit_count() == audited


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("drill", {"succeeded": "maybe"}, "drill-succeeded", "say whether the drill succeeded"),
        ("abandon", {"reason": "   "}, "abandon-reason", "say why the release is abandoned"),
    ],
)
def test_release_page__a_bad_form_value__is_422_with_the_message_beside_the_field(
    team: World, action: str, data: dict[str, str], field: str, message: str
) -> None:
    key = team.release("Typos")
    with team.person("bob") as bob:
        audited = team.audit_count()
        form = read(bob.get(release_page(key))).form(f"/{action}")
        response = bob.post(form.action, data={**form.fields, **data})
    assert response.status_code == 422
    page = read(response)
    assert message in page.text
    assert f'id="error-{field}"' in response.text
    assert f'aria-invalid="true" aria-describedby="error-{field}"' in response.text
    assert team.audit_count() == audited
