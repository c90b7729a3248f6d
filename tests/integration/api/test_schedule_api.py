"""A release's monitoring schedule through a real server, on SQLite and PostgreSQL: the
second production approval queues the upcoming-release notice; the schedule is JSON and
iCalendar (read back by ``icalendar``: the events, their dates, stable UIDs, a plan's own
UIDs and a SEQUENCE that never goes down when a release is planned again); a feed
link is a secret address a calendar app reads without a token, shown once, stored only
as a hash, revoked to a 404, and both audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar
from tests.integration.api.helpers import as_token, issue
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

P = "/api/v1/projects/default"
START = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)  # a Wednesday, in business hours


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def server(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as running:
        yield running


def _approved_for_production(server: RunningServer, admin: httpx.Client) -> None:
    """rel-1 of flag checkout in staging, approved for production by bob and carol."""
    assert admin.post(f"{P}/flags", json={"key": "checkout"}).status_code == 201
    body = {"key": "rel-1", "title": "New checkout", "kind": "feature", "flags": ["checkout"]}
    body |= {"owner": "alice", "rollback_plan": "Switch checkout off."}
    assert admin.post(f"{P}/releases", json=body).status_code == 201
    with server.services.database.transaction() as tx:  # as if promoted through its gates
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, "rel-1")
        assert release is not None
        tx.save_release(replace(release, stage="staging"))
    for name, role in (("bob", "developer"), ("carol", "release-manager")):
        secret = issue(admin, kind="api", project="default", role=role, name=name)
        with as_token(server, secret) as person:
            approved = person.post(f"{P}/releases/rel-1/approve", json={"stage": "production"})
            assert approved.status_code == 200, approved.text


def _events(document: bytes) -> list[dict[str, object]]:
    calendar = Calendar.from_ical(document)
    return [
        {
            "uid": str(event["UID"]),
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "url": str(event["URL"]),
            "status": str(event["STATUS"]),
            "sequence": int(event.decoded("SEQUENCE")),
        }
        for event in calendar.walk("VEVENT")
    ]


def test_schedule__of_an_approved_release__is_json_and_ical_with_stable_uids(
    server: RunningServer, clock: ManualClock
) -> None:
    with server.admin() as admin:
        _approved_for_production(server, admin)
        with server.services.database.read() as tx:
            queued = [i.notification for i in tx.due_outbox(START.replace(year=2026), 100)]
        [notice] = [n for n in queued if n.kind == "release.upcoming"]
        assert "Approved for production by bob" in notice.text

        schedule = admin.get(f"{P}/releases/rel-1/schedule")
        first = admin.get(f"{P}/releases/rel-1/schedule.ics")
        clock.advance(hours=2)
        again = admin.get(f"{P}/releases/rel-1/schedule.ics")

    assert schedule.status_code == 200, schedule.text
    body = schedule.json()
    assert body["estimated"] is True
    assert body["watchers"] == ["alice", "bob", "carol"]
    steps = [
        (w["title"], w["starts"], w["ends"]) for w in body["windows"] if w["kind"] != "close-watch"
    ]
    assert steps == [
        ("Step 1: 10% + beta-testers", "2025-03-05T14:30:00+00:00", "2025-03-12T14:30:00+00:00"),
        ("Step 2: 25%", "2025-03-12T14:30:00+00:00", "2025-03-19T14:30:00+00:00"),
        ("Step 3: 50%", "2025-03-19T14:30:00+00:00", "2025-03-26T14:30:00+00:00"),
        ("Bake: 1d at 100%", "2025-03-26T14:30:00+00:00", "2025-03-27T14:30:00+00:00"),
    ]
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/calendar")
    events = _events(first.content)
    assert len(events) == 8  # four close watches, three steps, the bake
    step_one = next(e for e in events if e["uid"] == "default/rel-1/estimate/step/1@shipwise")
    assert step_one["summary"] == "rel-1 (New checkout): Step 1: 10% + beta-testers"
    assert (step_one["start"], step_one["end"]) == (START, START.replace(day=12))
    assert str(step_one["url"]).endswith("/projects/default/releases/rel-1")
    assert step_one["status"] == "TENTATIVE"
    bake = next(e for e in events if e["uid"] == "default/rel-1/estimate/bake/4@shipwise")
    assert bake["end"] == datetime(2025, 3, 27, 14, 30, tzinfo=UTC)
    # Fetched again later: the same events (by UID), the estimate moved with the clock
    later = _events(again.content)
    assert sorted(e["uid"] for e in later) == sorted(e["uid"] for e in events)
    moved = next(e for e in later if e["uid"] == "default/rel-1/estimate/step/1@shipwise")
    assert moved["start"] == datetime(2025, 3, 5, 16, 30, tzinfo=UTC)


def test_schedule__planned_again_after_an_abort__new_uids_and_no_sequence_goes_down(
    server: RunningServer, clock: ManualClock
) -> None:
    steps = [{"percentage": p, "min_duration": "7d"} for p in (10, 25, 50, 100)]
    rollout: dict[str, object] = {"flag": "checkout", "environment": "production"}
    rollout |= {"release": "rel-1", "plan": {"steps": steps}}
    fetches: list[list[dict[str, object]]] = []
    with server.admin() as admin:
        _approved_for_production(server, admin)

        def fetch() -> list[dict[str, object]]:
            answer = admin.get(f"{P}/releases/rel-1/schedule.ics")
            assert answer.status_code == 200, answer.text
            fetches.append(_events(answer.content))
            return fetches[-1]

        estimate = fetch()
        with server.services.database.transaction() as tx:  # as if promoted to production
            project = tx.get_project("default")
            assert project is not None
            release = tx.get_release(project.id, "rel-1")
            assert release is not None
            tx.save_release(replace(release, stage="production"))
        first = admin.post(f"{P}/rollouts", json=rollout)
        assert first.status_code == 201, first.text
        clock.advance(hours=1)
        running = fetch()
        aborted = admin.post(f"{P}/rollouts/{first.json()['id']}/abort", json={"reason": "errors"})
        assert aborted.status_code == 200, aborted.text
        cancelled = fetch()
        clock.advance(hours=1)
        second = admin.post(f"{P}/rollouts", json=rollout)
        assert second.status_code == 201, second.text
        again = fetch()

    one, two = first.json()["id"], second.json()["id"]
    assert all("/estimate/" in str(e["uid"]) for e in estimate)
    assert all(e["sequence"] == 0 for e in estimate)
    assert {str(e["uid"]).split("/")[2] for e in running + cancelled} == {f"plan-{one}"}
    withdrawn = {e["uid"] for e in cancelled if e["status"] == "CANCELLED"}
    assert f"default/rel-1/plan-{one}/step/2@shipwise" in withdrawn
    # The new plan's events are new events, none of them cancelled
    assert {str(e["uid"]).split("/")[2] for e in again} == {f"plan-{two}"}
    assert {e["uid"] for e in again}.isdisjoint(e["uid"] for e in cancelled)
    assert "CANCELLED" not in {e["status"] for e in again}
    # Under any one UID, SEQUENCE never goes down from one fetch to the next
    seen: dict[object, int] = {}
    for events in fetches:
        for event in events:
            sequence = int(str(event["sequence"]))
            assert sequence >= seen.get(event["uid"], 0), event
            seen[event["uid"]] = sequence
    assert max(int(str(e["sequence"])) for e in cancelled) > 1  # the abort bumped it


def test_feed_link__opens_the_schedules_without_a_token_until_revoked(
    server: RunningServer, tmp_path: Path
) -> None:
    with server.admin() as admin:
        _approved_for_production(server, admin)
        viewer = issue(admin, kind="api", project="default", role="viewer", name="vic")
        with as_token(server, viewer) as vic:
            made = vic.post(f"{P}/calendar-feeds", json={"name": "vic's phone"})
            assert made.status_code == 201, made.text
            listed = vic.get(f"{P}/calendar-feeds").json()
        url = made.json()["url"]
        path = "/" + url.split("/", 3)[3]
        token = path.removeprefix("/calendar/").removesuffix(".ics")

        with httpx.Client(base_url=server.url, timeout=10) as calendar_app:  # no token
            feed = calendar_app.get(path)
            revoked = admin.delete(f"{P}/calendar-feeds/{made.json()['id']}")
            after = calendar_app.get(path)
            unknown = calendar_app.get("/calendar/sw_cal_" + "x" * 43 + ".ics")
            huge = calendar_app.get("/calendar/" + "y" * 5000 + ".ics")
        audit = admin.get("/api/v1/audit", params={"limit": 20}).json()

    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert {e["uid"] for e in _events(feed.content)} >= {"default/rel-1/estimate/step/1@shipwise"}
    assert "url" not in listed[0]  # the address is shown once, when it is made
    assert listed[0]["name"] == "vic's phone"
    assert revoked.status_code == 200, revoked.text
    for refused in (after, unknown, huge):
        assert refused.status_code == 404
        assert refused.json()["error"]["status"] == 404
    assert "calendar.create" in str(audit)
    assert "calendar.revoke" in str(audit)
    assert token not in str(audit)
    database = tmp_path / "shipwise.db"
    if database.exists():  # SQLite: the file holds only the token's hash
        assert token.encode() not in database.read_bytes()


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_feed_link__its_makers_token_revoked_or_expired__opens_nothing_more(
    server: RunningServer, clock: ManualClock, ending: str
) -> None:
    # Given vic (a viewer whose token expires in a day) made a feed link for his phone
    with server.admin() as admin:
        _approved_for_production(server, admin)
        made_token = admin.post(
            "/api/v1/tokens",
            json={"kind": "api", "project": "default", "role": "viewer", "name": "vic"}
            | {"expires_at": "2025-03-06T14:30:00+00:00"},
        )
        assert made_token.status_code == 201, made_token.text
        with as_token(server, made_token.json()["secret"]) as vic:
            made = vic.post(f"{P}/calendar-feeds", json={"name": "vic's phone"})
            assert made.status_code == 201, made.text
        path = "/" + made.json()["url"].split("/", 3)[3]
        with httpx.Client(base_url=server.url, timeout=10) as calendar_app:
            before = calendar_app.get(path)

            # When vic leaves the team (his token revoked), or his token runs out
            if ending == "revoked":
                gone = admin.delete(f"/api/v1/tokens/{made_token.json()['id']}")
                assert gone.status_code == 200, gone.text
            else:
                clock.advance(days=1)
            after = calendar_app.get(path)

    # Then the link he made shows the project's schedules no more: it was his access
    assert before.status_code == 200, before.text
    assert after.status_code == 404, after.text
