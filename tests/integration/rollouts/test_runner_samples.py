"""The runner's sampled checks, through a real server on a held clock (SQLite and
PostgreSQL): a healthy guardrail over a week-long step, checked on schedule and woken by
new data, gets about 30 points on its chart (not the two or three lines its verdict
changed on), the rows the step stores stay bounded by that however many checks ran,
the rollout page's SVG draws every point, and the verdict history still lists only what
changed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from tests.integration.web.release_pages import read
from tests.integration.web.rollout_pages import ENV, FLAG, Rollouts, rollout_page, rollouts

from shipwise.domain.rollout_samples import POINTS_PER_STEP, SAMPLE
from shipwise.server.ports import RolloutCheck
from shipwise.server.services.principal import SYSTEM

ERRORS = {"metric": "errors", "max_worse": 0.5}
WEEK = timedelta(days=7)


@pytest.fixture
def plans(database_url: str, tmp_path: Path) -> Iterator[Rollouts]:
    with rollouts(database_url, tmp_path) as made:
        yield made


def stored(plans: Rollouts, plan_id: int) -> list[RolloutCheck]:
    """Every line the plan's timeline holds, samples included, oldest first."""
    with plans.team.server.services.database.read() as tx:
        return tx.list_checks(plan_id, 100_000, samples=True)


def healthy_week(plans: Rollouts, plan_id: int, woken_every: timedelta) -> int:
    """The first step (10% + beta testers, 7 days) to its end: one SDK batch with the
    same error rate with and without the feature (the guardrail counts from the step's
    start, so it stays healthy), then the runner at every due check: on its own schedule
    (every 10 minutes in the first hour, then hourly) and whenever a few more events
    arrive, ``woken_every`` (new data makes a plan due at once). The number of checks."""
    plans.traffic(20_000, 180_000, 200, 1_800)
    services = plans.team.server.services
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, ENV)
        assert environment is not None
    checks, woken_at = 0, plans.clock.now + woken_every
    while (plan := services.rollouts.get(SYSTEM, "default", plan_id)).state.step == 0:
        assert plan.next_check_at is not None, plan.state
        if woken_at < plan.next_check_at:
            plans.clock.set(woken_at)
            woken_at += woken_every
            events = [
                {"flag": FLAG, "arm": "on", "event": "error", "count": 1},
                {"flag": FLAG, "arm": "off", "event": "error", "count": 9},  # the same rate
            ]
            services.metric_catalog.record_tracked(environment.id, "shop", events)
        else:
            plans.clock.set(plan.next_check_at)
        checks += len(services.runner.tick())
    return checks


def polyline_points(svg: ET.Element, colour: str) -> int:
    runs = [p.get("points", "") for p in svg.iter("polyline") if p.get("stroke") == colour]
    return sum(len(run.split()) for run in runs)


def test_runner__a_healthy_guardrail_over_a_week_long_step__is_charted_from_about_30_points(
    plans: Rollouts,
) -> None:
    plan_id = plans.start(guardrails=[ERRORS])

    checks = healthy_week(plans, plan_id, woken_every=timedelta(minutes=45))

    assert checks > 220  # more than the schedule alone (~175): new data woke the plan
    lines = stored(plans, plan_id)
    first_step = [c for c in lines if c.decision == SAMPLE and c.step == 0]
    assert POINTS_PER_STEP - 5 <= len(first_step) <= POINTS_PER_STEP + 1
    spacing = WEEK / POINTS_PER_STEP
    assert all(b.at - a.at >= spacing for a, b in pairwise(first_step[:-1]))
    # The bound: the samples, the step's entry and its verdict change (the advance that
    # ends it is step 2's first line), whatever the number of checks.
    assert len([c for c in lines if c.step == 0]) <= POINTS_PER_STEP + 3
    # The timeline (API, history) is still what decided something or changed a verdict.
    timeline = plans.timeline(plan_id)
    assert [c["decision"] for c in timeline] == ["advance", "hold", "advance"]
    assert timeline[1]["judgements"]["errors"]["verdict"] == "healthy"

    with plans.team.person("alice") as alice:
        response = alice.get(rollout_page(plan_id))
    html, text = response.text, read(response).text
    (drawn,) = re.findall(r"<svg role=\"img\".*?</svg>", html, flags=re.DOTALL)
    svg = ET.fromstring(drawn)
    charted = [
        c for c in lines if "treatment_mean" in c.judgements.get("errors", {}).get("details", {})
    ]
    assert len(charted) == len(first_step) + 2  # the verdict change and the advance too
    assert len(list(svg.iter("circle"))) == len(charted)  # a dot per point with the feature
    assert polyline_points(svg, "#0b57b0") == len(charted)  # ... joined by the line
    assert polyline_points(svg, "#4a4a4a") == len(charted)  # without the feature
    assert f"errors over {len(charted)} checks" in text
    # The history on the page: the three lines, not the samples between them.
    history = re.search(r'<ol class="history" reversed>(.*?)</ol>', html, flags=re.DOTALL)
    assert history is not None
    assert history.group(1).count("<li>\n") == 3
