"""The rollout page in a real browser: a plan whose guardrail the server's runner judged
on SDK traffic (a held clock, ticked by the test), its charts drawn, its numbers'
tables opened, no serious accessibility violation (axe-core), and a pause done with
the keyboard alone; and an open page of a running plan whose charts fill as the runner
samples its checks (which write no audit record), without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import expect
from tests.support.clock import ManualClock
from tests.support.dashboard import Browsing, assert_accessible, screenshot, tab_to
from tests.support.server import RunningServer, running_server
from tests.support.team import API, Team, ok

pytestmark = pytest.mark.browser

FLAG = "new-checkout"
HANG_GUARD_MS = 30_000  # the page refreshes its charts every 5 s; never a timed assertion
CLOCK = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """This module's server reads the held clock, so the runner's checks are the test's."""
    with running_server(data_dir=tmp_path_factory.mktemp("rollout"), clock=CLOCK) as running:
        yield running


def judged_plan(server: RunningServer, team: Team) -> int:
    """A plan in staging whose error guardrail was judged three times: too little data,
    healthy, and healthy again with more traffic."""
    admin = team.admin
    ok(admin.post(f"{API}/flags", json={"key": FLAG}))
    ok(admin.put(f"{API}/metrics/errors", json={"source": "sdk", "settings": {"event": "error"}}))
    plan = {
        "steps": [{"percentage": 10}, {"percentage": 50}, {"percentage": 100}],
        "guardrails": [{"metric": "errors", "max_worse": 0.5}],
        "watch": {"close_for": "1h", "close_every": "10m", "then_every": "1h", "bake": "1d"},
    }
    body = {"flag": FLAG, "environment": "staging", "plan": plan}
    plan_id = int(ok(admin.post(f"{API}/rollouts", json=body))["id"])
    key = {"Authorization": team.sdk_key("staging")}
    for shown, errors in ((100, 1), (20_000, 200), (40_000, 390)):
        batch = {"flags": {FLAG: {"yes": shown, "no": shown * 9}}}
        assert httpx.post(f"{server.url}/sdk/v1/metrics", json=batch, headers=key).is_success
        lines = [
            {"flag": FLAG, "arm": "on", "event": "error", "count": errors},
            {"flag": FLAG, "arm": "off", "event": "error", "count": errors * 9},
        ]
        events = {"instanceId": "shop-1", "events": lines}
        assert httpx.post(f"{server.url}/sdk/v1/events", json=events, headers=key).is_success
        CLOCK.advance(minutes=10)
        server.services.runner.tick()
    return plan_id


def test_rollout_page__charts_and_tables_pass_axe__and_a_pause_by_keyboard_works(
    server: RunningServer, team: Team, browsing: Browsing
) -> None:
    plan_id = judged_plan(server, team)
    page = browsing.as_person("alice")
    page.goto(f"/projects/default/rollouts/{plan_id}")

    chart = page.get_by_role("img", name="errors with and without the feature, check by check")
    expect(chart).to_be_visible()
    page.get_by_text("The numbers of errors, check by check").click()
    expect(page.get_by_role("table", name="errors with and without the feature")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "rollout")

    field = page.get_by_label("Why pause?")
    tab_to(page, field)
    page.keyboard.type("errors in Grafana")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash-message")).to_contain_text("paused")
    expect(page.locator("main")).to_contain_text("Paused, at step 1 of 3 (10% for 7d): errors")
    assert_accessible(page)
    plan = ok(team.admin.get(f"{API}/rollouts/{plan_id}"))
    assert plan["state"]["status"] == "paused"
    assert plan["state"]["reason"] == "errors in Grafana"


DOTS = "#rollout-guardrails svg[role=img] circle"


def steady_plan(server: RunningServer, team: Team, flag: str) -> int:
    """A running plan in staging whose error guardrail is healthy and stays so: its
    next checks hold with the same verdicts, kept only as the charts' sampled points."""
    ok(team.admin.post(f"{API}/flags", json={"key": flag}))
    ok(
        team.admin.put(
            f"{API}/metrics/errors", json={"source": "sdk", "settings": {"event": "error"}}
        )
    )
    plan = {
        "steps": [{"percentage": 10, "min_duration": "1d"}, {"percentage": 100}],
        "guardrails": [{"metric": "errors", "max_worse": 0.5}],
        "watch": {"close_for": "1h", "close_every": "10m", "then_every": "1h", "bake": "1d"},
    }
    body = {"flag": flag, "environment": "staging", "plan": plan}
    plan_id = int(ok(team.admin.post(f"{API}/rollouts", json=body))["id"])
    key = {"Authorization": team.sdk_key("staging")}
    batch = {"flags": {flag: {"yes": 20_000, "no": 180_000}}}
    assert httpx.post(f"{server.url}/sdk/v1/metrics", json=batch, headers=key).is_success
    lines = [
        {"flag": flag, "arm": "on", "event": "error", "count": 200},
        {"flag": flag, "arm": "off", "event": "error", "count": 1_800},
    ]
    events = {"instanceId": "shop-1", "events": lines}
    assert httpx.post(f"{server.url}/sdk/v1/events", json=events, headers=key).is_success
    sampled_checks(server, 2)
    return plan_id


def sampled_checks(server: RunningServer, count: int) -> None:
    """``count`` checks 90 minutes apart: farther apart than a day-long step samples its
    points (1d / 30, but not under the hourly check cadence), so each one adds a point
    to the charts; and all within the person's 12-hour session."""
    for _ in range(count):
        CLOCK.advance(minutes=90)
        server.services.runner.tick()


def newest_audit_id(team: Team) -> int:
    records = ok(team.admin.get("/api/v1/audit", params={"limit": 1}))["records"]
    return int(records[0]["id"]) if records else 0


def test_rollout_page__of_a_running_plan__gains_chart_points_while_open__keeping_what_was_typed(
    server: RunningServer, team: Team, browsing: Browsing
) -> None:
    plan_id = steady_plan(server, team, "live-checkout")
    page = browsing.as_person("alice")
    page.goto(f"/projects/default/rollouts/{plan_id}")
    page.evaluate("document.documentElement.dataset.loadedOnce = 'yes'")  # gone on a reload
    before = page.locator(DOTS).count()
    assert before >= 2
    page.get_by_label("Why pause?").fill("half-typed reason")
    numbers = page.get_by_text("The numbers of errors, check by check")
    numbers.click()  # a person reading the table: it stays open through a refresh
    timeline = len(ok(team.admin.get(f"{API}/rollouts/{plan_id}/timeline"))["checks"])
    audit = newest_audit_id(team)

    sampled_checks(server, 2)
    # Sampled checks only: the timeline's lines (what the audit log hears of) are the same.
    assert len(ok(team.admin.get(f"{API}/rollouts/{plan_id}/timeline"))["checks"]) == timeline
    assert newest_audit_id(team) == audit
    page.wait_for_function(
        "([dots, before]) => document.querySelectorAll(dots).length >= before + 2",
        arg=[DOTS, before],
        timeout=HANG_GUARD_MS,
    )

    assert page.evaluate("document.documentElement.dataset.loadedOnce") == "yes"
    expect(page.get_by_label("Why pause?")).to_have_value("half-typed reason")
    expect(page.locator("#rollout-guardrails details").first).to_have_attribute("open", "")
    # The summary the person clicked still has the focus (a keyboard user stays put).
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    assert_accessible(page)
