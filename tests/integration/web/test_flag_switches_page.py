"""The flag page's switches (toggle, rollout percentage, kill with a reason), posted as
the page rendered them: each is the API's service call with the signed-in person's
Principal, a stale version is a 409 "someone changed this; reload", a protected
environment's refusal names the way that gets there, and bad input is a 422 beside its
field. Nothing changes unless the action is done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.web.flag_pages import API, PAGES, FlagWorld, flag_world, ok, page

from shipwise.engine import Snapshot

FLAG_PAGE = f"{PAGES}/checkout"


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[FlagWorld]:
    with flag_world(database_url, tmp_path) as running:
        running.flag("checkout")
        yield running


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[FlagWorld]:
    with flag_world(f"sqlite:///{tmp_path / 'shipwise.db'}", tmp_path) as running:
        running.flag("checkout")
        yield running


def _post_form(browser: httpx.Client, action_ends: str, **typed: str) -> httpx.Response:
    """Submit the flag page's form whose action ends so, with ``typed`` filled in."""
    form = page(browser.get(FLAG_PAGE)).form(action_ends)
    return browser.post(form.action, data={**form.fields, **typed})


def test_toggle__posted_from_the_page__switches_the_flag_on_for_sdks(world: FlagWorld) -> None:
    browser = world.signed_in("alice", "developer")
    key = world.sdk_key("staging")
    sdk = httpx.Client(base_url=world.server.url, headers={"Authorization": f"Bearer {key}"})
    assert Snapshot.load(ok(sdk.get("/sdk/v1/snapshot"))).is_enabled("checkout") is False

    answer = _post_form(browser, "/envs/staging/toggle")

    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{FLAG_PAGE}?done=")
    redirected = browser.get(answer.headers["location"])
    assert "checkout switched on in staging" in redirected.text  # the flash message
    served = Snapshot.load(ok(sdk.get("/sdk/v1/snapshot")))  # what every SDK evaluates
    sdk.close()
    assert served.is_enabled("checkout", {"userId": "42"}) is True
    assert world.rules("checkout", "staging")["enabled"] is True
    audit = ok(world.admin.get("/api/v1/audit", params={"limit": 1}))["records"][0]
    assert (audit["action"], audit["environment"]) == ("flag.enable", "staging")
    assert "alice" in audit["actor"]


def test_toggle__when_the_flag_changed_since_the_page_loaded__answers_409_and_changes_nothing(
    world: FlagWorld,
) -> None:
    browser = world.signed_in("alice", "developer")
    form = page(browser.get(FLAG_PAGE)).form("/envs/staging/toggle")
    ok(
        world.admin.post(
            f"{API}/flags/checkout/environments/staging/rollout", json={"percentage": 5}
        )
    )
    before, newest = world.rules("checkout", "staging"), world.newest_audit_id()

    answer = browser.post(form.action, data=form.fields)

    assert answer.status_code == 409
    assert "Someone changed this flag since this page was loaded; reload it" in page(
        answer
    ).text_of("problem-staging")
    assert world.rules("checkout", "staging") == before
    assert world.newest_audit_id() == newest


def test_rollout__when_the_percentage_is_150__answers_422_beside_the_field(
    world: FlagWorld,
) -> None:
    browser = world.signed_in("alice", "developer")
    before, newest = world.rules("checkout", "staging"), world.newest_audit_id()

    answer = _post_form(browser, "/envs/staging/rollout", percentage="150")

    assert answer.status_code == 422
    shown = page(answer)
    assert "percentage must be 0-100, got 150" in shown.text_of("error-staging-rollout-percentage")
    field = shown.by_id["staging-rollout-percentage"]
    assert field.attrs["aria-describedby"] == "error-staging-rollout-percentage"
    assert field.attrs["value"] == "150"  # what was typed, to correct
    assert world.rules("checkout", "staging") == before
    assert world.newest_audit_id() == newest


def test_rollout__posted_from_the_page__sets_the_percentage(sqlite_world: FlagWorld) -> None:
    browser = sqlite_world.signed_in("alice", "developer")

    answer = _post_form(browser, "/envs/dev/rollout", percentage="30")

    assert answer.status_code == 303
    strategy = sqlite_world.rules("checkout", "dev")["strategies"][0]
    assert (strategy["name"], strategy["parameters"]["rollout"]) == ("flexibleRollout", "30")


def test_kill__when_the_reason_is_empty__answers_422_beside_the_field(world: FlagWorld) -> None:
    ok(world.admin.post(f"{API}/flags/checkout/environments/dev/enable"))
    browser = world.signed_in("alice", "developer")
    before, newest = world.rules("checkout", "dev"), world.newest_audit_id()

    answer = _post_form(browser, "/envs/dev/kill", reason="  ")

    assert answer.status_code == 422
    assert "say why the flag is killed" in page(answer).text_of("error-dev-kill-reason")
    assert world.rules("checkout", "dev") == before
    assert world.newest_audit_id() == newest


def test_kill__with_a_reason__switches_the_flag_off_and_the_history_says_why(
    sqlite_world: FlagWorld,
) -> None:
    ok(sqlite_world.admin.post(f"{API}/flags/checkout/environments/dev/enable"))
    browser = sqlite_world.signed_in("alice", "developer")

    answer = _post_form(browser, "/envs/dev/kill", reason="error spike")

    assert answer.status_code == 303
    assert sqlite_world.rules("checkout", "dev")["enabled"] is False
    shown = browser.get(answer.headers["location"])
    assert "checkout killed in dev" in shown.text  # the flash message
    history = shown.text.split('id="history-heading"', 1)[1]
    assert "flag.kill" in history
    assert "error spike" in history


def test_toggle__in_protected_production__answers_409_with_the_way_that_gets_there(
    world: FlagWorld,
) -> None:
    browser = world.signed_in("alice", "developer")
    before, newest = world.rules("checkout", "production"), world.newest_audit_id()

    answer = _post_form(browser, "/envs/production/toggle")

    assert answer.status_code == 409
    refusal = page(answer).text_of("problem-production")
    assert "production is protected" in refusal
    assert "shipwise change request checkout" in refusal
    assert world.rules("checkout", "production") == before
    assert world.newest_audit_id() == newest


def test_flag_page__for_a_viewer__shows_no_switches_and_a_forged_post_is_403(
    world: FlagWorld,
) -> None:
    viewer = world.signed_in("vic", "viewer")
    shown = page(viewer.get(FLAG_PAGE))
    assert [f.action for f in shown.forms if f.method == "post" and "/envs/" in f.action] == []
    csrf = next(f.fields["csrf_token"] for f in shown.forms if "csrf_token" in f.fields)
    version = str(world.rules("checkout", "staging")["version"])
    before, newest = world.rules("checkout", "staging"), world.newest_audit_id()

    forged = viewer.post(
        f"{FLAG_PAGE}/envs/staging/toggle",
        data={"csrf_token": csrf, "version": version, "enabled": "true"},
    )

    assert forged.status_code == 403
    assert world.rules("checkout", "staging") == before
    assert world.newest_audit_id() == newest


def test_toggle__without_the_csrf_token__is_403_and_changes_nothing(
    sqlite_world: FlagWorld,
) -> None:
    browser = sqlite_world.signed_in("alice", "developer")
    form = page(browser.get(FLAG_PAGE)).form("/envs/staging/toggle")
    fields = {k: v for k, v in form.fields.items() if k != "csrf_token"}
    newest = sqlite_world.newest_audit_id()

    answer = browser.post(form.action, data=fields)

    assert answer.status_code == 403
    assert sqlite_world.rules("checkout", "staging")["enabled"] is False
    assert sqlite_world.newest_audit_id() == newest


def test_flag_page__for_an_unknown_flag_or_environment__is_a_404_page(
    sqlite_world: FlagWorld,
) -> None:
    browser = sqlite_world.signed_in("alice", "developer")
    form = page(browser.get(FLAG_PAGE)).form("/envs/staging/toggle")

    missing = browser.get(f"{PAGES}/no-such-flag")
    elsewhere = browser.post(form.action.replace("/staging/", "/qa/"), data=form.fields)

    assert (missing.status_code, elsewhere.status_code) == (404, 404)
    assert "no-such-flag" in page(missing).text_of("main")
    assert "qa" in page(elsewhere).text_of("main")
