"""The release page's monitoring schedule through a real server and the real sign-in, on
SQLite and PostgreSQL, on a simulated clock: each step's dates in the policy's time zone
(an estimate before a plan runs, the plan's own times once it does, the steps an aborted
plan will not reach marked cancelled), who watches, the schedule as a calendar file for
the signed-in person, and a calendar feed link made from the page whose secret address
is shown once (a reload does not show it again) and opens the feed without a token; a
viewer, who sees no form anywhere on the dashboard, is given the command instead."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar
from tests.integration.web.release_pages import API, ROLES, World, read, release_page
from tests.support.clock import ManualClock
from tests.support.server import running_server

START = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)  # a Wednesday; 15:30 in Oslo (CET)
OSLO = "Europe/Oslo"
KEY = "rel-1"
PEOPLE = ROLES | {"carol": "release-manager"}


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    """alice, bob, carol and vic on a server whose clock stands at ``START``, the default
    project's policy in Oslo's time zone, and rel-1 (flag checkout) in staging with the
    two approvals production asks for (bob's and carol's)."""
    clock = ManualClock(START)
    with (
        running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as server,
        server.admin() as admin,
    ):
        tokens = {}
        for name, role in PEOPLE.items():
            body = {"name": name, "kind": "api", "project": "default", "role": role}
            response = admin.post("/api/v1/tokens", json=body)
            assert response.status_code == 201, response.text
            tokens[name] = response.json()["secret"]
        made = World(server, admin, tokens)
        _policy_in_oslo(made)
        yield _approved_release(made)


def _policy_in_oslo(team: World) -> None:
    """A new time zone moves the business window, so it is a change request: the admin
    asks, carol (a release manager) approves, the admin applies it."""
    asked = team.admin.put(f"{API}/policy", json={"source": f'timezone = "{OSLO}"\n'})
    assert asked.status_code == 202, asked.text
    request = asked.json()["change_request"]["id"]
    with team.api_as("carol") as carol:
        approved = carol.post(f"{API}/change-requests/{request}/approve", json={})
        assert approved.status_code == 200, approved.text
    applied = team.admin.post(f"{API}/change-requests/{request}/apply")
    assert applied.status_code == 200, applied.text


def _approved_release(team: World) -> World:
    assert team.admin.post(f"{API}/flags", json={"key": "checkout"}).status_code == 201
    body = {"key": KEY, "title": "New checkout", "kind": "feature", "flags": ["checkout"]}
    body |= {"owner": "alice", "rollback_plan": "Switch checkout off."}
    assert team.admin.post(f"{API}/releases", json=body).status_code == 201
    with team.server.services.database.transaction() as tx:  # as if promoted to staging
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, KEY)
        assert release is not None
        tx.save_release(replace(release, stage="staging"))
    for name in ("bob", "carol"):
        with team.api_as(name) as person:
            approved = person.post(f"{API}/releases/{KEY}/approve", json={"stage": "production"})
            assert approved.status_code == 200, approved.text
    return team


class _ScheduleTable(HTMLParser):
    """The schedule table's body rows, each as its cells' text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "schedule") in attrs:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag in {"th", "td"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"th", "td"} and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _rows(html: str) -> list[str]:
    """The schedule table's rows, each as its cells' text joined by " | "."""
    return [" | ".join(cells) for cells in _ScheduleTable(html).rows]


def test_release_page__approved_for_production__shows_the_estimated_schedule_in_oslo_time(
    team: World,
) -> None:
    with team.person("alice") as alice:
        response = alice.get(release_page(KEY))
        page = read(response)
        download = alice.get(f"{release_page(KEY)}/schedule.ics")

    assert response.status_code == 200, response.text
    text = page.text
    assert "Monitoring schedule in production" in text
    assert "An estimate: no rollout plan runs in production yet" in text
    assert "Times in Europe/Oslo, the policy's time zone." in text
    assert _rows(response.text) == [
        "1 | 10% + beta-testers | Wed 2025-03-05 15:30 Europe/Oslo"
        " | Wed 2025-03-12 15:30 Europe/Oslo at the earliest"
        " | first 1h, until Wed 2025-03-05 16:30 Europe/Oslo | every 1m, then every 5m | estimate",
        "2 | 25% | Wed 2025-03-12 15:30 Europe/Oslo | Wed 2025-03-19 15:30 Europe/Oslo at the"
        " earliest | first 1h, until Wed 2025-03-12 16:30 Europe/Oslo | every 1m, then every 5m"
        " | estimate",
        "3 | 50% | Wed 2025-03-19 15:30 Europe/Oslo | Wed 2025-03-26 15:30 Europe/Oslo at the"
        " earliest | first 1h, until Wed 2025-03-19 16:30 Europe/Oslo | every 1m, then every 5m"
        " | estimate",
        "4 (bake) | 100% | Wed 2025-03-26 15:30 Europe/Oslo | Thu 2025-03-27 15:30 Europe/Oslo"
        " | first 1h, until Wed 2025-03-26 16:30 Europe/Oslo | every 1m, then every 5m; a 1d"
        " bake | estimate",
    ]
    assert "Watching: alice, bob, carol." in text
    assert "a 1d bake at 100% before it is released" in text
    # The calendar: a link the browser can follow (the session), and the API's address
    assert f'href="{release_page(KEY)}/schedule.ics"' in response.text
    assert f"{team.server.url}{API}/releases/{KEY}/schedule.ics" in text
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("text/calendar")
    assert download.headers["content-disposition"] == 'attachment; filename="rel-1-schedule.ics"'
    events = Calendar.from_ical(download.content).walk("VEVENT")
    assert len(events) == 8  # four steps and their four close watches
    step_one = next(e for e in events if str(e["UID"]) == "default/rel-1/estimate/step/1@shipwise")
    assert step_one.decoded("DTSTART") == START


def test_release_page__an_aborted_plan__shows_its_times_and_the_steps_it_will_not_reach(
    team: World,
) -> None:
    with team.server.services.database.transaction() as tx:  # as if promoted to production
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, KEY)
        assert release is not None
        tx.save_release(replace(release, stage="production"))
    steps = [{"percentage": p, "min_duration": "7d"} for p in (10, 25, 50, 100)]
    plan = {"flag": "checkout", "environment": "production", "release": KEY}
    plan |= {"plan": {"steps": steps}}
    with team.api_as("carol") as carol:
        started = carol.post(f"{API}/rollouts", json=plan)
        assert started.status_code == 201, started.text
        plan_id = started.json()["id"]
        aborted = carol.post(f"{API}/rollouts/{plan_id}/abort", json={"reason": "not yet"})
        assert aborted.status_code == 200, aborted.text

    with team.person("vic") as vic:  # a viewer reads it too, and is offered no form
        response = vic.get(release_page(KEY))
        page = read(response)

    assert [f.action for f in page.forms] == ["/sign-out"]
    assert "shipwise calendar create -p default" in page.text

    assert f"The plan's own times: from rollout plan #{plan_id} of checkout (aborted)" in page.text
    states = [row.rsplit(" | ", 1)[1] for row in _rows(response.text)]
    assert states == ["done"] + ["cancelled: the plan stopped before it"] * 3
    # Aborted at once: the step it was on ended when it began
    first = "1 | 10% | Wed 2025-03-05 15:30 Europe/Oslo | Wed 2025-03-05 15:30 Europe/Oslo |"
    assert _rows(response.text)[0].startswith(first)
    assert 'data-state="cancelled"' in response.text
    assert "<s>2</s>" in response.text  # struck through, and said in words


def _feeds(team: World) -> list[dict[str, object]]:
    answer = team.admin.get(f"{API}/calendar-feeds")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_calendar_feed_form__shows_the_secret_address_once_and_it_opens_the_feed(
    team: World,
) -> None:
    url = release_page(KEY)
    with team.person("alice") as alice:
        form = read(alice.get(url)).form("/calendar-feeds")
        made = alice.post(form.action, data=form.fields | {"name": "alice's phone"})
        again = alice.get(url)

    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    shown = read(made)
    assert "Made calendar feed 1 (alice's phone)." in shown.text
    [address] = [v["value"] for tag, v in shown.fields if v.get("id") == "feed-address"]
    assert address.startswith(f"{team.server.url}/calendar/sw_cal_")
    assert address not in again.text  # shown once: a reload does not bring it back
    with httpx.Client(timeout=30) as calendar_app:  # no session, no token
        feed = calendar_app.get(address)
    assert feed.status_code == 200, feed.text
    uids = {str(e["UID"]) for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert "default/rel-1/estimate/bake/4@shipwise" in uids
    [listed] = _feeds(team)
    assert listed["name"] == "alice's phone"
    assert str(listed["created_by"]).startswith("token:alice ")


def test_calendar_feed_form__a_bad_name_or_no_csrf_token__makes_nothing(team: World) -> None:
    url = release_page(KEY)
    with team.person("alice") as alice:
        form = read(alice.get(url)).form("/calendar-feeds")
        bad = alice.post(form.action, data=form.fields | {"name": "x" * 101})
        forged = alice.post(form.action, data={"name": "mine"})
        elsewhere = alice.post(
            "/projects/default/releases/rel-404/calendar-feeds", data=form.fields
        )

    assert bad.status_code == 422, bad.text
    assert 'id="calendar-feed-name" name="name"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert "a feed's name is one line of 1 to 100 characters" in read(bad).text
    assert forged.status_code == 403
    assert elsewhere.status_code == 404
    assert _feeds(team) == []
