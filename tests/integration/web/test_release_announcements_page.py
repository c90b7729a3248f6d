"""A release's in-app announcements on its page, through a real server and the real
sign-in, on SQLite and PostgreSQL, on a simulated clock: each listed with its state,
window, audience and sanitised preview; added by a form (times typed as people write
them), a bad value 422 beside its field with what was typed kept and nothing changed;
ended and removed by anyone who may write flags; a viewer sees no control and a forged
post is 403."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from tests.integration.web.release_pages import ROLES, World, read, release_page
from tests.support.announcements import (
    ANNOUNCEMENTS,
    ENVIRONMENT,
    FLAG,
    PROJECT,
    RELEASE,
    START,
    announce,
    seed,
)
from tests.support.clock import ManualClock
from tests.support.server import running_server

URL = release_page(RELEASE)
ADD = f"{URL}/announcements"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def team(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[World]:
    """release_pages' people (alice and bob develop, vic views) and rel-1 with flag
    new-checkout (tests.support.announcements), on ``clock``."""
    with (
        running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as server,
        server.admin() as admin,
    ):
        seed(server)
        tokens = {}
        for name, role in ROLES.items():
            body = {"name": name, "kind": "api", "project": PROJECT, "role": role}
            response = admin.post("/api/v1/tokens", json=body)
            assert response.status_code == 201, response.text
            tokens[name] = response.json()["secret"]
        yield World(server, admin, tokens)


def _listed(team: World) -> list[dict[str, Any]]:
    response = team.admin.get(ANNOUNCEMENTS)
    assert response.status_code == 200, response.text
    return response.json()["announcements"]  # type: ignore[no-any-return]


def _section(html: str) -> str:
    """The announcements section's HTML, up to the next section."""
    return html.split('id="release-announcements"')[1].split("<section", maxsplit=1)[0]


def test_release_page__lists_each_announcement_with_its_state_window_audience_and_safe_preview(
    team: World, clock: ManualClock
) -> None:
    later = announce(team.admin)  # from START + 1 h: scheduled
    now = announce(
        team.admin,
        title="Dark mode",
        body="# Dark\n\n*Easy* on the eyes",
        starts_at=START.isoformat(),
    )

    with team.person("vic") as vic:
        response = vic.get(URL)
    assert response.status_code == 200, response.text
    page = read(response)
    section = _section(response.text)

    assert "In-app announcements" in page.text
    assert f'data-announcement="{later["id"]}" data-state="scheduled"' in section
    assert f'data-announcement="{now["id"]}" data-state="showing"' in section
    assert "2027-03-01 10:00 UTC to 2027-03-02 09:00 UTC" in page.text
    assert f"users with {FLAG} on in {ENVIRONMENT}" in page.text
    assert '<a href="https://example.com/new-checkout" rel="noreferrer">' in section
    # The preview is the stored, sanitised HTML: markup kept, the script gone.
    assert "<p>Pay in <strong>one</strong> step.</p>" in section
    assert "<h3>Dark</h3>" in section
    assert "<em>Easy</em>" in section
    assert "<script" not in section
    assert "alert(" not in section

    clock.advance(days=2)
    with team.person("vic") as vic:
        section = _section(vic.get(URL).text)
    assert section.count('data-state="ended"') == 2


def test_release_page__add_by_form__stores_it_with_utc_times_and_a_duration_and_says_so(
    team: World,
) -> None:
    with team.person("alice") as alice:
        shown = alice.get(URL)
        form = read(shown).form("/announcements")
        # The service's default environment (the last: production) is the one chosen.
        assert '<option value="production" selected>' in shown.text
        assert f'<option value="{FLAG}" selected>' in shown.text
        assert form.fields["ends_at"] == "7d"
        typed = {
            "title": "Faster checkout",
            "body": "Pay in **one** step. <script>alert(1)</script>",
            "link": "https://example.com/checkout",
            "flag": FLAG,
            "environment": ENVIRONMENT,
            "starts_at": "2027-03-02 09:30",
            "ends_at": "3d",
        }
        audited = team.audit_count()
        response = alice.post(form.action, data={**form.fields, **typed})
        assert response.status_code == 303, response.text
        landed = read(alice.get(response.headers["location"]))

    assert (
        f"Announced “Faster checkout” to users with {FLAG} on in {ENVIRONMENT}, "
        "from 2027-03-02 09:30 UTC until 2027-03-05 09:30 UTC"
    ) in landed.text
    assert team.audit_count() == audited + 1
    [made] = _listed(team)
    assert made["starts_at"] == "2027-03-02T09:30:00+00:00"
    assert made["ends_at"] == "2027-03-05T09:30:00+00:00"
    assert made["created_by"].startswith("token:alice ")
    assert made["environment"] == ENVIRONMENT
    assert made["html"] == "<p>Pay in <strong>one</strong> step. </p>"


def test_release_page__add_with_an_empty_start__shows_from_now(team: World) -> None:
    with team.person("bob") as bob:
        form = read(bob.get(URL)).form("/announcements")
        typed = {"title": "Now", "body": "Here now", "flag": FLAG, "environment": ENVIRONMENT}
        response = bob.post(form.action, data={**form.fields, **typed})
        assert response.status_code == 303, response.text
        assert (
            "on in staging, now until 2027-03-08 09:00 UTC"
            in read(bob.get(response.headers["location"])).text
        )

    [made] = _listed(team)
    assert (made["starts_at"], made["state"]) == (START.isoformat(), "showing")


BAD_VALUES = [
    pytest.param({"link": "javascript:alert(1)"}, "link", "http:// or https://", id="script-link"),
    pytest.param({"ends_at": "next week"}, "ends_at", "is not a date and time", id="words"),
    pytest.param(
        {"starts_at": "2027-03-09", "ends_at": "2027-03-05 00:00"},
        "ends_at",
        "must be after starts_at",
        id="backwards",
    ),
    pytest.param(
        {"starts_at": "2027-01-01", "ends_at": "2027-02-01 00:00"},
        "ends_at",
        "has passed",
        id="past",
    ),
    pytest.param(
        {"starts_at": "9999-12-31 00:00"}, "ends_at", "past the end of the calendar", id="overflow"
    ),
    pytest.param(
        {"starts_at": "0001-01-01T00:00+14:00", "ends_at": "2030-01-01"},
        "starts_at",
        "past the end of the calendar",
        id="year-zero",
    ),
    pytest.param({"starts_at": "x" * 100}, "starts_at", "100 characters given", id="long-time"),
    pytest.param(
        {"flag": "someone-else"}, "flag", "is not one of release rel-1's flags", id="flag"
    ),
    pytest.param(
        {"environment": "mars"}, "environment", "(dev, staging, production)", id="environment"
    ),
    pytest.param({"title": "  "}, "title", "title", id="blank-title"),
    pytest.param({"body": ""}, "body", "body is empty", id="empty-body"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_VALUES)
def test_release_page__a_bad_announcement__is_422_beside_its_field_keeping_what_was_typed(
    team: World, change: dict[str, str], field: str, message: str
) -> None:
    typed = {
        "title": "Typed title",
        "body": "Typed *body* with <b>html</b>",
        "link": "https://example.com/typed",
        "flag": FLAG,
        "environment": ENVIRONMENT,
        "starts_at": "",
        "ends_at": "7d",
        **change,
    }
    with team.person("alice") as alice:
        form = read(alice.get(URL)).form("/announcements")
        audited = team.audit_count()
        response = alice.post(form.action, data={**form.fields, **typed})

    assert response.status_code == 422, response.text
    page = read(response)
    error_id = f"error-announce-{field}"
    assert f'aria-invalid="true" aria-describedby="{error_id}"' in response.text
    beside = response.text.split(f'id="{error_id}">')[1].split("</p>")[0]
    assert message in html.unescape(beside)
    assert '<details id="announce" open>' in response.text  # the form unfolded again
    kept = page.form("/announcements").fields
    for name in ("title", "link", "starts_at", "ends_at"):
        assert kept[name] == typed[name].strip()
    assert f">{escape(typed['body'])}</textarea>" in response.text  # the one textarea
    assert team.audit_count() == audited
    assert _listed(team) == []


def test_release_page__end_then_remove_by_form__by_a_developer__show_fewer_and_are_audited(
    team: World,
) -> None:
    made = announce(team.admin, starts_at=START.isoformat())
    with team.person("bob") as bob:
        form = read(bob.get(URL)).form(f"/announcements/{made['id']}/end")
        ended = bob.post(form.action, data=form.fields)
        assert ended.status_code == 303, ended.text
        after = read(bob.get(ended.headers["location"]))
        assert "Ended “A faster checkout”: nobody sees it from now on" in after.text
        assert "(ended early by token:bob " in after.text
        assert [f for f in after.forms if f.action.endswith("/end")] == []
        [listed] = _listed(team)
        assert listed["state"] == "ended"
        assert listed["ended_by"].startswith("token:bob ")

        form = after.form(f"/announcements/{made['id']}/remove")
        removed = bob.post(form.action, data=form.fields)
        assert removed.status_code == 303, removed.text
        assert "Removed “A faster checkout”" in read(bob.get(removed.headers["location"])).text
    assert _listed(team) == []


def test_release_page__ending_an_ended_announcement__is_409_in_place_changing_nothing(
    team: World,
) -> None:
    made = announce(team.admin, starts_at=START.isoformat())
    with team.person("alice") as alice:
        form = read(alice.get(URL)).form(f"/announcements/{made['id']}/end")
        assert alice.post(form.action, data=form.fields).status_code == 303
        audited = team.audit_count()
        again = alice.post(form.action, data=form.fields)  # a second tab's stale button
    assert again.status_code == 409
    assert "ended at" in _section(again.text)
    assert 'role="alert"' in _section(again.text)
    assert team.audit_count() == audited


def test_release_page__a_viewer__sees_no_announcement_control_and_forged_posts_are_403(
    team: World,
) -> None:
    made = announce(team.admin, starts_at=START.isoformat())
    before = _listed(team)
    with team.person("alice") as alice:
        response = alice.post(f"{ADD}/{made['id']}/end", data={})  # no CSRF token
        assert response.status_code == 403
    with team.person("vic") as vic:
        page = read(vic.get(URL))
        assert not [f for f in page.forms if "/announcements" in f.action]
        csrf = page.form("/sign-out").fields["csrf_token"]
        audited = team.audit_count()
        forged = {
            "csrf_token": csrf,
            "title": "Forged",
            "body": "x",
            "flag": FLAG,
            "environment": "nowhere",  # 403 first: the role, before any value is judged
            "ends_at": "1d",
        }
        for action, data in (
            (ADD, forged),
            (f"{ADD}/{made['id']}/end", {"csrf_token": csrf}),
            (f"{ADD}/{made['id']}/remove", {"csrf_token": csrf}),
        ):
            response = vic.post(action, data=data)
            assert response.status_code == 403, (action, response.text)
            assert "may not" in read(response).text
    assert _listed(team) == before
    assert team.audit_count() == audited


def test_release_page__an_unknown_announcement__is_the_404_page(team: World) -> None:
    with team.person("alice") as alice:
        csrf = read(alice.get(URL)).form("/sign-out").fields["csrf_token"]
        response = alice.post(f"{ADD}/999/remove", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert "no announcement 999 of release rel-1" in read(response).text
