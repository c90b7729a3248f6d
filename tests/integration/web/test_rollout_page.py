"""The rollout page, through a real server and the real sign-in, on SQLite and
PostgreSQL: the steps as a timeline with the time each ran and has left, the plan's
state in words; one chart per guardrail (an SVG image with its title and description,
and the same numbers in a table); the verdict history in the domain's words; pause,
resume, approve, skip and abort as forms calling the API's services (a viewer sees none
and a forged post is 403, a post without the CSRF token is 403, a refusal is 409 in
place, a bad reason 422 beside its field, nothing changed); a 404 page for an unknown
plan; links from the release page and the board's "rolling out" cards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.integration.web.release_pages import API, read, release_page
from tests.integration.web.rollout_pages import FLAG, Rollouts, ok, rollout_page, rollouts

from shipwise.domain import verdict_words
from shipwise.server.services.principal import SYSTEM

ERRORS = {"metric": "errors", "max_worse": 0.5}
TICKETS = {"metric": "tickets", "threshold": 5, "action": "notify"}


@pytest.fixture
def plans(database_url: str, tmp_path: Path) -> Iterator[Rollouts]:
    with rollouts(database_url, tmp_path) as made:
        yield made


def state_of(plans: Rollouts, plan_id: int) -> tuple[str, int]:
    state = plans.plan(plan_id)["state"]
    return state["status"], state["step"]


def test_rollout_page__shows_each_step_with_time_spent_and_left__and_the_state_in_words(
    plans: Rollouts,
) -> None:
    plan_id = plans.start()
    plans.clock.advance(hours=2)

    with plans.team.person("alice") as alice:
        running = read(alice.get(rollout_page(plan_id))).text
        assert "Running, at step 1 of 4 (10% + beta-testers for 7d)" in running
        assert (
            "Step 1: 10% + beta-testers for 7d now 2h so far, 6d 22h left of its minimum" in running
        )
        assert "Step 2: 25% for 7d ahead at least 7d" in running
        assert "Step 4: 100% ahead then a 1d bake" in running

        # A release manager skips ahead after 3 hours; an hour on, someone pauses it.
        plans.clock.advance(hours=1)
        with plans.team.api_as("carol") as carol:
            ok(carol.post(f"{API}/rollouts/{plan_id}/skip", json={"reason": "beta went fine"}))
        plans.clock.advance(hours=1)
        moved = read(alice.get(rollout_page(plan_id))).text
        assert "Step 1: 10% + beta-testers for 7d done ran 3h" in moved
        assert "Step 2: 25% for 7d now 1h so far, 6d 23h left of its minimum" in moved

        ok(plans.team.admin.post(f"{API}/rollouts/{plan_id}/pause", json={"reason": "support"}))
        paused = read(alice.get(rollout_page(plan_id))).text
    assert "Paused, at step 2 of 4 (25% for 7d): support" in paused
    assert "Step 2: 25% for 7d now paused after 1h; its time starts again when it resumes" in paused


LIVE_REGIONS = ("rollout-state", "rollout-steps", "rollout-guardrails", "rollout-verdicts")


def timed_regions(html: str) -> dict[str, str]:
    """The regions that declare a refresh cadence, by id: ``data-live-every``'s value."""
    found = re.findall(r'id="([\w-]+)" data-live-region data-live-every="(\d+)"', html)
    assert html.count("data-live-every") == len(found)  # none declared elsewhere
    return dict(found)


def test_rollout_page__of_a_watched_plan__declares_a_refresh_cadence__a_paused_or_finished_one_none(
    plans: Rollouts,
) -> None:
    """Sampled checks write no audit record, so live.js refreshes a watched plan's
    charts, steps, state and verdicts on the cadence the page declares; a plan the
    runner does not check (paused, finished) declares none and costs nothing."""
    plan_id = plans.start(guardrails=[ERRORS])
    plans.traffic(20_000, 180_000, 200, 1_800)
    plans.check(minutes=10)
    with plans.team.person("alice") as alice:
        running = alice.get(rollout_page(plan_id)).text
        assert timed_regions(running) == dict.fromkeys(LIVE_REGIONS, "5")
        assert 'id="rollout-actions" data-live-region>' in running  # its forms: events only

        ok(plans.team.admin.post(f"{API}/rollouts/{plan_id}/pause", json={"reason": "look"}))
        assert timed_regions(alice.get(rollout_page(plan_id)).text) == {}
        ok(plans.team.admin.post(f"{API}/rollouts/{plan_id}/resume", json={}))
        assert timed_regions(alice.get(rollout_page(plan_id)).text) == dict.fromkeys(
            LIVE_REGIONS, "5"
        )
        ok(plans.team.admin.post(f"{API}/rollouts/{plan_id}/abort", json={"reason": "done"}))
        response = alice.get(rollout_page(plan_id))
    finished = response.text
    assert "Aborted, at step 1 of 4" in read(response).text
    assert timed_regions(finished) == {}
    for region in LIVE_REGIONS:  # still swapped when an event names the plan
        assert f'id="{region}" data-live-region' in finished


def drive_to_a_rollback(plans: Rollouts, plan_id: int) -> None:
    """Three checks ten minutes apart: too few errors to compare, then the same rate on
    both sides (healthy), then six times the errors with the feature (rolled back)."""
    plans.traffic(100, 900, 1, 9)
    plans.check(minutes=10)
    plans.traffic(20_000, 180_000, 200, 1_800)
    plans.check(minutes=10)
    plans.traffic(20_000, 180_000, 1_200, 1_800)
    plans.check(minutes=10)


def test_rollout_page__draws_one_chart_per_guardrail__with_title_desc_and_its_numbers_as_a_table(
    plans: Rollouts,
) -> None:
    plan_id = plans.start(guardrails=[ERRORS, TICKETS])
    drive_to_a_rollback(plans, plan_id)
    judged = [c["judgements"]["errors"] for c in plans.timeline(plan_id) if c["judgements"]]
    numbers = [j["details"] for j in judged if "treatment_mean" in j.get("details", {})]
    assert len(numbers) == 2  # healthy, then regressed: what the chart has to show

    with plans.team.person("alice") as alice:
        response = alice.get(rollout_page(plan_id))
    assert response.status_code == 200
    html, text = response.text, read(response).text

    svgs = re.findall(r"<svg role=\"img\" aria-labelledby=\"(\S+) (\S+)\"", html)
    assert len(svgs) == 2  # one per guardrail
    for title_id, desc_id in svgs:
        assert f'<title id="{title_id}">' in html
        assert f'<desc id="{desc_id}">' in html
    show = lambda x: verdict_words.value("rate", False, x)  # noqa: E731
    first, last = numbers
    assert "errors with and without the feature, check by check" in html
    assert (
        f"errors over 2 checks: with the feature from {show(first['treatment_mean'])} "
        f"to {show(last['treatment_mean'])}; without it from {show(first['control_mean'])} "
        f"to {show(last['control_mean'])}"
    ) in text
    assert "The latest verdict: regressed." in text
    assert "tickets against its limit, check by check" in html
    # The same numbers in a table, under <details>, newest first.
    assert html.count("<details>") == 2
    line = show(last["control_mean"] * 1.5)
    half = last["difference_halfwidth"]
    interval = f"{show(last['treatment_mean'] - half)} to {show(last['treatment_mean'] + half)}"
    row = f"regressed {show(last['treatment_mean'])} {show(last['control_mean'])} {interval} {line}"
    assert row in text
    assert "healthy 0 5 tickets 0 on 0 units, within the limit of 5" in text


def test_rollout_page__verdict_history_gives_each_check_its_reason_in_the_domains_words(
    plans: Rollouts,
) -> None:
    plan_id = plans.start(guardrails=[{**ERRORS, "min_sample": 2_000}])
    plans.traffic(312, 2_808, 3, 28)
    plans.check(minutes=10)
    plans.traffic(20_000, 180_000, 1_200, 1_800)
    plans.check(minutes=10)

    with plans.team.person("vic") as vic:
        text = read(vic.get(rollout_page(plan_id))).text

    assert (
        "inconclusive : errors: 312 vs 2,808 exposures, fewer than the 2,000 needed in each" in text
    )
    assert "Rolled back, at step 1 of 4" in text
    timeline = plans.timeline(plan_id)
    assert [c["decision"] for c in timeline] == ["advance", "hold", "rollback"]
    for check in timeline:
        assert check["reason"] in text  # every decision's reason, as the runner wrote it
    assert "rolled back: errors" in text


def test_rollout_page__pause_resume_approve_skip_abort__by_form__each_as_the_api_would(
    plans: Rollouts,
) -> None:
    plan_id = plans.start()
    url = rollout_page(plan_id)
    with plans.team.person("alice") as alice:
        page = read(alice.get(url))
        # A developer may pause, resume and abort; skipping and approving are a release
        # manager's.
        assert [f.action.rsplit("/", 1)[1] for f in page.forms[1:]] == ["pause", "abort"]
        form = page.form("/pause")
        paused = alice.post(form.action, data={**form.fields, "reason": "errors in Grafana"})
        assert paused.status_code == 303, paused.text
        landed = read(alice.get(paused.headers["location"]))
        assert "Rollout plan #1 (new-checkout in staging) paused" in landed.text
        assert state_of(plans, plan_id) == ("paused", 1)

        resumed = alice.post(landed.form("/resume").action, data=landed.form("/resume").fields)
        assert resumed.status_code == 303, resumed.text
        assert state_of(plans, plan_id) == ("running", 1)

    with plans.team.person("carol") as carol:
        page = read(carol.get(url))
        approved = carol.post(page.form("/approve").action, data=page.form("/approve").fields)
        assert approved.status_code == 303, approved.text
        assert plans.plan(plan_id)["state"]["approved"] is True
        page = read(carol.get(url))
        form = page.form("/skip")
        skipped = carol.post(form.action, data={**form.fields, "reason": "beta went fine"})
        assert skipped.status_code == 303, skipped.text
        assert "skipped ahead to step 2" in read(carol.get(skipped.headers["location"])).text
        assert state_of(plans, plan_id) == ("running", 2)

        form = read(carol.get(url)).form("/abort")
        aborted = carol.post(form.action, data={**form.fields, "reason": "redesign"})
        assert aborted.status_code == 303, aborted.text
        after = read(carol.get(url))
    assert state_of(plans, plan_id) == ("aborted", 2)
    assert "Aborted, at step 2 of 4 (25% for 7d): redesign" in after.text
    assert len(after.forms) == 1  # sign out: an aborted plan has nothing left to do
    actions = [c["reason"] for c in plans.timeline(plan_id)]
    assert any("paused by alice: errors in Grafana" in r for r in actions)
    assert any("aborted by carol: redesign" in r for r in actions)


def test_rollout_page__a_viewer_sees_no_action__and_a_forged_post_is_403__nothing_changed(
    plans: Rollouts,
) -> None:
    plan_id = plans.start()
    with plans.team.person("vic") as vic:
        before, audit = plans.plan(plan_id), plans.team.audit_count()  # signed in (audited)
        page = read(vic.get(rollout_page(plan_id)))
        assert [f.action for f in page.forms] == ["/sign-out"]
        csrf = page.forms[0].fields["csrf_token"]
        for action in ("pause", "resume", "approve", "skip", "abort"):
            forged = vic.post(
                f"{rollout_page(plan_id)}/{action}", data={"csrf_token": csrf, "reason": "x"}
            )
            assert forged.status_code == 403, (action, forged.text)
            assert "may not" in read(forged).text
        # An empty reason too: the role is judged before the form.
        forged = vic.post(f"{rollout_page(plan_id)}/pause", data={"csrf_token": csrf})
        assert forged.status_code == 403
    assert plans.plan(plan_id) == before
    assert plans.team.audit_count() == audit


def test_rollout_page__a_post_without_the_csrf_token_is_403__nothing_changed(
    plans: Rollouts,
) -> None:
    plan_id = plans.start()
    with plans.team.person("alice") as alice:
        before, audit = plans.plan(plan_id), plans.team.audit_count()  # signed in (audited)
        bare = alice.post(f"{rollout_page(plan_id)}/pause", data={"reason": "no token"})
        wrong = alice.post(
            f"{rollout_page(plan_id)}/abort", data={"reason": "forged", "csrf_token": "x" * 43}
        )
    assert (bare.status_code, wrong.status_code) == (403, 403)
    assert "CSRF" in read(bare).text
    assert plans.plan(plan_id) == before
    assert plans.team.audit_count() == audit


def test_rollout_page__a_refused_action_is_409_in_place__a_bad_reason_422_beside_it__unchanged(
    plans: Rollouts,
) -> None:
    plan_id = plans.start()
    with plans.team.person("alice") as alice:
        page = read(alice.get(rollout_page(plan_id)))
        form = page.form("/pause")
        audit = plans.team.audit_count()

        # A blank reason, a reason too long: the form again, the message beside the field.
        for reason, words in (("  ", "say why"), ("x" * 1_001, "at most 1000 characters")):
            refused = alice.post(form.action, data={**form.fields, "reason": reason})
            assert refused.status_code == 422, refused.text
            assert 'id="pause-reason"' in refused.text
            assert 'aria-invalid="true" aria-describedby="error-pause-reason"' in refused.text
            assert words in read(refused).text
        assert state_of(plans, plan_id) == ("running", 1)
        assert plans.team.audit_count() == audit

        # Someone paused it while this page was open: pausing again is refused, in place.
        ok(plans.team.admin.post(f"{API}/rollouts/{plan_id}/pause", json={"reason": "support"}))
        before, audit = plans.plan(plan_id), plans.team.audit_count()
        again = alice.post(form.action, data={**form.fields, "reason": "errors"})
    assert again.status_code == 409, again.text
    shown = read(again).text
    assert "rollout plan #1: the plan is paused; only a running plan can pause" in shown
    assert "Paused, at step 1 of 4" in shown  # the page as it is now
    assert plans.plan(plan_id) == before
    assert plans.team.audit_count() == audit


@pytest.mark.parametrize("plan", ["999", "0", "abc", "99999999999"])
def test_rollout_page__an_unknown_plan__is_a_404_page(plans: Rollouts, plan: str) -> None:
    plans.start()
    with plans.team.person("alice") as alice:
        missing = alice.get(f"/projects/default/rollouts/{plan}")
        posted = alice.post(f"/projects/default/rollouts/{plan}/resume", data={})
    assert missing.status_code == 404, missing.text
    assert "no rollout plan #" in read(missing).text
    assert posted.status_code in {403, 404}  # no CSRF token: refused before it looks


def test_rollout_page__linked_from_the_release_page_and_the_boards_rolling_out_card(
    plans: Rollouts,
) -> None:
    # A release in production (stored as it stands after its gates, as the rollout tests
    # do), its plan started through the API: the board puts it under "rolling out".
    services = plans.team.server.services
    release = services.releases.create(
        SYSTEM, "default", title="checkout", kind="feature", flags=[FLAG]
    )
    with services.database.transaction() as tx:
        tx.save_release(replace(release, stage="production"))
    body = {"flag": FLAG, "environment": "production", "release": release.key}
    plan_id = int(ok(plans.team.admin.post(f"{API}/rollouts", json=body))["id"])

    with plans.team.person("alice") as alice:
        board = read(alice.get("/projects/default/board"))
        assert board.columns[release.key] == "rolling-out"
        link = f"/projects/default/releases/{release.key}/rollout"
        assert f'href="{link}"' in alice.get("/projects/default/board").text
        followed = alice.get(link)
        assert followed.status_code == 303
        assert followed.headers["location"] == rollout_page(plan_id)

        shown = alice.get(release_page(release.key))
        assert f'href="{rollout_page(plan_id)}"' in shown.text
        assert "Rollout #1: new-checkout in production : running, step 1 of 4 (10%)" in (
            read(shown).text
        )
        none = alice.get("/projects/default/releases/rel-404/rollout")
    assert none.status_code == 404


def test_rollout_page__says_which_watch_window_the_plan_is_in__and_when_it_is_next_read(
    plans: Rollouts,
) -> None:
    """The close watch at the start of a step, the slower watch after it, and no window
    while paused, each with when the next reading is due (the plan's watch: every 10
    minutes for the first hour, then hourly)."""
    plan_id = plans.start()
    plans.check(minutes=10)
    with plans.team.person("alice") as alice:
        close = read(alice.get(rollout_page(plan_id))).text
        assert (
            "Watching closely: first hour of step 1 (10% + beta-testers for 7d), a reading "
            "every 10 minutes until 10:00 UTC; next reading 09:20 UTC" in close
        )
        plans.check(minutes=60)
        later = read(alice.get(rollout_page(plan_id))).text
        assert (
            "Watching step 1 (10% + beta-testers for 7d): a reading every hour until "
            "2026-11-09 09:00 UTC; next reading 11:10 UTC" in later
        )
        ok(plans.team.admin.post(f"{API}/rollouts/{plan_id}/pause", json={"reason": "look"}))
        paused = read(alice.get(rollout_page(plan_id))).text
        assert "Not watching: paused (look): no readings until a person resumes it" in paused
