"""A project's settings pages, through a real server and the real sign-in, on SQLite and
PostgreSQL: the pipeline's stages in order with their gates in words; a token created
from the page is shown once and works against the API, and revoked from the page stops
working; a policy with three mistakes lists all three by line and key and applies
nothing; a valid one applies; a weakening one becomes a change request; a viewer reads
and sees no form, and a forged POST is 403; a POST without the CSRF token is 403.
Channels: test_settings_channels.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.integration.web.release_pages import API, PROJECT, World, read
from tests.integration.web.settings_pages import SETTINGS, post_forms, team, words

__all__ = ["team"]  # a fixture

THREE_MISTAKES = """\
timezone = "UTC"

[window]
start = 5

[[stage]]
environment = "dev"
branch = 3
bogus = true
"""


def policy(team: World) -> dict[str, Any]:
    response = team.admin.get(f"{API}/policy")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def token_names(team: World) -> list[str]:
    response = team.admin.get("/api/v1/tokens", params={"project": PROJECT})
    return [t["name"] for t in response.json()["tokens"]]


def test_settings__the_pipeline_in_order__each_stage_with_its_gates_in_words(team: World) -> None:
    with team.person("vic") as vic:
        response = vic.get(SETTINGS)

    assert response.status_code == 200, response.text
    assert re.findall(r'data-stage="([^"]+)"', response.text) == ["dev", "staging", "production"]
    text = words(response)
    assert "Approvals: 2 approvals from a code-owner, QA or release-manager" in text
    assert "QA sign-off: QA sign-off on staging" in text
    assert "Rollback rehearsed: the rollback rehearsed in staging since the last change" in text
    assert "Business hours: during business hours (Mon-Fri 09:00-17:00 UTC)" in text
    assert "protected: only its releases and approved change requests" in text
    assert "No policy file applied: the defaults are in force" in text


def test_settings__a_token_created_from_the_page__is_shown_once_and_works_against_the_api(
    team: World,
) -> None:
    with team.person("ada") as ada:
        form = read(ada.get(SETTINGS)).form("/settings/tokens")
        fields = {**form.fields, "name": "ci-bot", "kind": "api", "role": "developer"}
        created = ada.post(form.action, data=fields)
        again = ada.get(SETTINGS)

    assert created.status_code == 201, created.text
    found = re.search(
        r'id="issued-secret" type="text" readonly value="(sw_api_[^"]+)"', created.text
    )
    assert found is not None, created.text
    secret = found.group(1)
    assert "it is shown this once" in read(created).text
    assert secret not in again.text  # never again
    assert "ci-bot" in read(again).text  # listed, without its secret
    with httpx.Client(base_url=team.server.url, timeout=30) as client:
        answer = client.get(f"{API}/flags", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.text


def test_settings__an_sdk_key_created_from_the_page__reads_its_environments_snapshot(
    team: World,
) -> None:
    with team.person("ada") as ada:
        form = read(ada.get(SETTINGS)).form("/settings/tokens")
        fields = {**form.fields, "name": "web", "kind": "server", "environment": "staging"}
        created = ada.post(form.action, data=fields)

    assert created.status_code == 201, created.text
    found = re.search(r'value="(sw_srv_[^"]+)"', created.text)
    assert found is not None
    with httpx.Client(base_url=team.server.url, timeout=30) as client:
        snapshot = client.get("/sdk/v1/snapshot", headers={"Authorization": found.group(1)})
    assert snapshot.status_code == 200, snapshot.text


def test_settings__a_token_the_service_refuses__is_422_beside_its_field_and_nothing_made(
    team: World,
) -> None:
    before = token_names(team)
    with team.person("ada") as ada:
        form = read(ada.get(SETTINGS)).form("/settings/tokens")
        fields = {**form.fields, "name": "web", "kind": "server", "role": "viewer"}
        refused = ada.post(form.action, data=fields)

    assert refused.status_code == 422, refused.text
    assert 'id="error-token-role"' in refused.text
    assert "a server key has no role" in read(refused).text
    assert read(refused).form("/settings/tokens").fields["name"] == "web"  # kept as typed
    assert token_names(team) == before


def test_settings__a_token_with_an_expiry_of_90d__expires_in_90_days_as_the_clis_would(
    team: World,
) -> None:
    with team.person("ada") as ada:
        form = read(ada.get(SETTINGS)).form("/settings/tokens")
        fields = {**form.fields, "name": "ci-bot", "kind": "api", "role": "qa", "expires": "90d"}
        created = ada.post(form.action, data=fields)
        expiring = {**form.fields, "name": "temp", "kind": "api", "role": "qa"}
        dated = ada.post(form.action, data={**expiring, "expires": "2999-01-31"})

    assert created.status_code == 201, created.text
    assert dated.status_code == 201, dated.text
    listed = team.admin.get("/api/v1/tokens", params={"project": PROJECT}).json()["tokens"]
    expiry = {t["name"]: t["expires_at"] for t in listed}
    made = datetime.fromisoformat(next(t["created_at"] for t in listed if t["name"] == "ci-bot"))
    assert datetime.fromisoformat(expiry["ci-bot"]) - made == pytest.approx(
        timedelta(days=90), abs=timedelta(minutes=5)
    )
    assert expiry["temp"].startswith("2999-01-31T00:00:00")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("soon", "'soon' is neither a duration (90d, 12h, 2w) nor a date (2027-01-31)"),
        ("2020-01-31", "'2020-01-31' is not in the future"),
        ("-3d", "a duration (90d, 12h, 2w)"),
    ],
    ids=["not-a-duration", "a-past-date", "negative"],
)
def test_settings__a_token_with_an_expiry_the_page_cannot_use__is_422_beside_the_field(
    team: World, typed: str, says: str
) -> None:
    before = token_names(team)
    with team.person("ada") as ada:
        form = read(ada.get(SETTINGS)).form("/settings/tokens")
        fields = {**form.fields, "name": "ci-bot", "kind": "api", "role": "qa", "expires": typed}
        refused = ada.post(form.action, data=fields)

    assert refused.status_code == 422, refused.text
    assert 'id="error-token-expires"' in refused.text
    assert says in read(refused).text
    assert read(refused).form("/settings/tokens").fields["expires"] == typed  # kept as typed
    assert token_names(team) == before


def test_settings__revoked_from_the_page_after_confirming__the_token_stops_working(
    team: World,
) -> None:
    made = team.admin.post(
        "/api/v1/tokens",
        json={"name": "old-ci", "kind": "api", "project": PROJECT, "role": "developer"},
    ).json()
    secret, number = made["secret"], made["id"]
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=team.server.url, timeout=30, headers=headers) as old_ci:
        assert old_ci.get(f"{API}/flags").status_code == 200

        with team.person("ada") as ada:
            listed = ada.get(SETTINGS)
            confirm_url = f"{SETTINGS}/tokens/{number}/revoke"
            assert f'href="{confirm_url}"' in listed.text
            confirm = read(ada.get(confirm_url))
            assert "Revoke old-ci?" in confirm.text
            assert "this cannot be undone" in confirm.text
            form = confirm.form(f"/tokens/{number}/revoke")
            revoked = ada.post(form.action, data=form.fields)
            after = ada.get(revoked.headers["location"])

        assert revoked.status_code == 303, revoked.text
        assert "Revoked old-ci" in read(after).text
        refused = old_ci.get(f"{API}/flags")
    assert refused.status_code == 401
    assert "was revoked" in refused.json()["error"]["message"]


def test_settings__a_policy_with_three_mistakes__lists_all_three_by_line_and_applies_nothing(
    team: World,
) -> None:
    with team.person("rita") as rita:
        form = read(rita.get(SETTINGS)).form("/settings/policy")
        refused = rita.post(form.action, data={**form.fields, "source": THREE_MISTAKES})

    assert refused.status_code == 422, refused.text
    text = words(refused)
    assert "Nothing was applied: 3 problems in the file." in text
    assert re.findall(r'<li data-line="(\d+)">', refused.text) == ["4", "8", "9"]
    assert "line 4, key window.start: 5 (a whole number) is not a time" in text
    assert "line 8, key stage[0].branch: expected text in quotes" in text
    assert 'line 9, key stage[0].bogus: unknown key "bogus"' in text
    assert "bogus = true" in refused.text  # the text as typed, to fix in place
    assert policy(team)["version"] is None  # the defaults still rule


def test_settings__a_valid_stronger_policy__applies_and_is_shown_as_applied(team: World) -> None:
    stronger = policy(team)["effective"].replace(
        'approvals = { count = 2, roles = ["code-owner", "qa", "release-manager"] }',
        'approvals = { count = 3, roles = ["code-owner", "qa", "release-manager"] }',
    )
    with team.person("rita") as rita:
        form = read(rita.get(SETTINGS)).form("/settings/policy")
        applied = rita.post(form.action, data={**form.fields, "source": stronger})
        after = rita.get(applied.headers["location"])

    assert applied.status_code == 303, applied.text
    assert policy(team)["version"] == 1
    assert policy(team)["source"] == stronger
    text = read(after).text
    assert "Applied the policy (version 1)" in text
    assert "The policy applied from a file (version 1)" in text
    assert "3 approvals from a code-owner, QA or release-manager" in text


def test_settings__a_weakening_policy__becomes_a_change_request_named_with_its_commands(
    team: World,
) -> None:
    weaker = policy(team)["effective"].replace("business_hours = true", "business_hours = false")
    with team.person("rita") as rita:
        form = read(rita.get(SETTINGS)).form("/settings/policy")
        waiting = rita.post(form.action, data={**form.fields, "source": weaker})

    assert waiting.status_code == 202, waiting.text
    requests = team.admin.get(f"{API}/change-requests").json()
    (request,) = requests["change_requests"]
    number = request["id"]
    assert request["kind"] == "policy"
    text = words(waiting)
    assert f"change request #{number}" in text
    assert f"shipwise change approve {number} -p {PROJECT}" in text
    assert f"shipwise change apply {number} -p {PROJECT}" in text
    assert "business hours" in text.lower()
    assert policy(team)["version"] is None  # not applied


def test_settings__a_viewer_reads_without_forms__and_a_forged_post_is_403_changing_nothing(
    team: World,
) -> None:
    tokens_before = token_names(team)
    with team.person("vic") as vic:
        page = vic.get(SETTINGS)
        csrf = read(page).form("/sign-out").fields["csrf_token"]
        forged_token = vic.post(
            f"{SETTINGS}/tokens",
            data={"csrf_token": csrf, "name": "mine", "kind": "api", "role": "admin"},
        )
        forged_policy = vic.post(
            f"{SETTINGS}/policy", data={"csrf_token": csrf, "source": 'timezone = "UTC"\n'}
        )
        number = team.admin.get("/api/v1/tokens", params={"project": PROJECT}).json()["tokens"][0]
        forged_revoke = vic.post(
            f"{SETTINGS}/tokens/{number['id']}/revoke", data={"csrf_token": csrf}
        )

    assert page.status_code == 200
    assert post_forms(page.text) == ["/sign-out"]
    text = read(page).text
    assert "Tokens and SDK keys are shown to the project's admins" in text
    assert "Metric definitions" in text
    for forged in (forged_token, forged_policy, forged_revoke):
        assert forged.status_code == 403, forged.text
        assert "text/html" in forged.headers["content-type"]
    assert token_names(team) == tokens_before
    assert policy(team)["version"] is None
    live = team.admin.get(f"/api/v1/tokens/{number['id']}").json()
    assert live["revoked_at"] is None


def test_settings__a_post_without_the_csrf_token__is_403_and_creates_nothing(
    team: World,
) -> None:
    tokens_before = token_names(team)
    with team.person("ada") as ada:
        no_token = ada.post(f"{SETTINGS}/tokens", data={"name": "x", "kind": "api", "role": "qa"})
        wrong = ada.post(
            f"{SETTINGS}/policy", data={"csrf_token": "not-this-sessions", "source": "x = 1"}
        )

    assert no_token.status_code == 403
    assert wrong.status_code == 403
    assert "CSRF token" in no_token.text
    assert token_names(team) == tokens_before
    assert policy(team)["version"] is None


def test_settings__metric_definitions_are_listed_with_their_secrets_starred(team: World) -> None:
    body = {
        "source": "prometheus",
        "settings": {
            "url": "http://prom.example:9090",
            "query": "up",
            "headers": {"Authorization": "Bearer hunter2"},
        },
        "description": "Scrape health",
    }
    with team.api_as("alice") as alice:
        assert alice.put(f"{API}/metrics/up-ratio", json=body).status_code == 200

    with team.person("vic") as vic:
        response = vic.get(SETTINGS)

    text = read(response).text
    assert 'data-metric="up-ratio"' in response.text
    assert "Scrape health" in text
    assert "hunter2" not in response.text
