"""The dashboard's live stream (server/web/live.py) on a real server, SQLite and
PostgreSQL: a signed-in browser's ``GET /projects/{p}/live`` names what changed, whoever
changed it, and only in its own project; it ends when the session does.

Every read has a 10 s hang guard (httpx's read timeout, shorter than the stream's 15 s
heartbeat): an event that never comes fails the test instead of hanging it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.integration.web.release_pages import API, BOARD, PROJECT, World, read, world
from tests.integration.web.rollout_pages import ok, rollout_page, rollouts

from shipwise.server.web import live
from shipwise.server.web.live import MAX_PER_SESSION

LIVE = f"/projects/{PROJECT}/live"
HANG_GUARD = httpx.Timeout(30, read=10)


def events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """The stream's events as (name, data), comments and retry hints skipped."""
    name, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


def since_of(page_html: str) -> str:
    found = re.search(r'data-live-since="(\d+)"', page_html)
    assert found, "a project page carries where its live stream starts"
    return found.group(1)


def declared(page_html: str) -> set[str]:
    """What the page names in its ``data-live`` attributes: what live.js follows."""
    return {t for found in re.findall(r'data-live="([^"]*)"', page_html) for t in found.split()}


def region(page_html: str, region_id: str) -> str:
    """The live region ``region_id``'s opening tag and what follows it, up to the next."""
    found = re.search(
        rf'<[a-z]+ id="{region_id}" data-live-region.*?(?=data-live-region|\Z)', page_html, re.S
    )
    assert found, f"the page marks {region_id!r} as a live region"
    return found.group(0)


def topics_until(stream: Iterator[tuple[str, str]], wanted: str) -> list[set[str]]:
    """Every change event's topics, up to and including the first naming ``wanted``."""
    seen: list[set[str]] = []
    for name, data in stream:
        assert name == "change", (name, data)
        seen.append(set(data.split()))
        if wanted in seen[-1]:
            return seen
    raise AssertionError(f"the stream ended before naming {wanted!r}: {seen}")


@contextmanager
def browser(w: World, name: str) -> Iterator[httpx.Client]:
    with w.person(name) as client:
        client.timeout = HANG_GUARD
        yield client


@pytest.fixture
def w(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        yield made


def test_live__a_release_made_through_the_api__names_it_and_the_board(w: World) -> None:
    with browser(w, "vic") as vic:
        since = since_of(vic.get(BOARD).text)
        with vic.stream("GET", LIVE, params={"since": since}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            key = w.release("Live checkout")  # alice, through the API
            seen = topics_until(events(response), f"release:{key}")
    assert "board" in seen[-1]


def test_live__a_write_to_this_server__is_sent_without_waiting_for_the_poll(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change made through this instance (its API or a page's form) reads the audit
    log as soon as it has answered, instead of waiting up to a poll (live.py's
    ``LiveSince``). The poll is set to an hour here, so only that nudge can bring the
    event within the 10 s hang guard; the release's write publishes nothing on the bus."""
    monkeypatch.setattr(live, "POLL_SECONDS", 3600.0)
    with browser(w, "vic") as vic:
        since = since_of(vic.get(BOARD).text)
        with vic.stream("GET", LIVE, params={"since": since}) as response:
            key = w.release("Sent at once")
            seen = topics_until(events(response), f"release:{key}")
    assert "board" in seen[-1]


def test_live__a_flag_toggled_by_the_api__names_the_flag_and_the_flags_table(w: World) -> None:
    assert w.admin.post(f"{API}/flags", json={"key": "live-flag"}).status_code == 201
    with browser(w, "vic") as vic, vic.stream("GET", LIVE) as response:
        toggled = w.admin.post(f"{API}/flags/live-flag/environments/dev/enable")
        assert toggled.status_code == 200, toggled.text
        seen = topics_until(events(response), "flag:live-flag")
    assert "flags" in seen[-1]


def test_live__changes_between_the_page_and_its_stream__are_replayed(w: World) -> None:
    """A change made after the page was read but before its stream opened is not lost:
    the page's ``data-live-since`` starts the stream from where the page's data did."""
    with browser(w, "vic") as vic:
        since = since_of(vic.get(BOARD).text)
        key = w.release("Made while the page loaded")
        with vic.stream("GET", LIVE, params={"since": since}) as response:
            seen = topics_until(events(response), f"release:{key}")
    assert seen


def test_live__another_projects_changes__are_never_sent(w: World) -> None:
    other = {"key": "other", "name": "Other"}
    assert w.admin.post("/api/v1/projects", json=other).status_code == 201
    with browser(w, "vic") as vic, vic.stream("GET", LIVE) as response:
        created = w.admin.post("/api/v1/projects/other/flags", json={"key": "secret-flag"})
        assert created.status_code == 201, created.text
        # Then one in vic's project: its event comes after anything the first could cause.
        assert w.admin.post(f"{API}/flags", json={"key": "open-flag"}).status_code == 201
        seen = topics_until(events(response), "flag:open-flag")
    assert not any("flag:secret-flag" in topics for topics in seen), seen


def test_live__without_a_session__is_401_and_streams_nothing(w: World) -> None:
    with httpx.Client(base_url=w.server.url, timeout=HANG_GUARD) as stranger:
        response = stranger.get(LIVE)
    assert response.status_code == 401
    assert "sign in" in response.text


def test_live__a_project_nobody_made__is_404(w: World) -> None:
    with browser(w, "vic") as vic:
        response = vic.get("/projects/nowhere/live")
    assert response.status_code == 404
    assert "nowhere" in response.text


def test_live__signing_out_in_another_tab__ends_the_stream_with_bye(w: World) -> None:
    with browser(w, "vic") as vic:
        board = read(vic.get(BOARD))
        csrf = board.form("/sign-out").fields["csrf_token"]
        with vic.stream("GET", LIVE) as response:
            with httpx.Client(base_url=w.server.url, cookies=vic.cookies) as tab:
                signed_out = tab.post("/sign-out", data={"csrf_token": csrf})
                assert signed_out.status_code == 303, signed_out.text
            remaining = list(events(response))  # the stream ends: no hang
    assert remaining == [("bye", "signed-out")]


def test_live__one_stream_too_many_for_a_session__replaces_the_oldest(w: World) -> None:
    with browser(w, "vic") as vic:
        opened = [vic.stream("GET", LIVE) for _ in range(MAX_PER_SESSION)]
        responses = [stream.__enter__() for stream in opened]
        try:
            with vic.stream("GET", LIVE) as newest:
                assert newest.status_code == 200
                assert list(events(responses[0])) == [("bye", "replaced")]
        finally:
            for stream in opened:
                stream.__exit__(None, None, None)


def test_live__a_pause_through_the_api__reaches_an_open_rollout_page(
    database_url: str, tmp_path: Path
) -> None:
    """The page declares the topics the pause's record names, so live.js fetches it
    again, and the fresh page's state region says it is paused and why."""
    with rollouts(database_url, tmp_path) as plans:
        plan_id = plans.start()
        with browser(plans.team, "vic") as vic:
            page = vic.get(rollout_page(plan_id)).text
            assert "Running, at step 1" in region(page, "rollout-state")
            with vic.stream("GET", LIVE, params={"since": since_of(page)}) as response:
                paused = plans.team.admin.post(
                    f"{API}/rollouts/{plan_id}/pause", json={"reason": "checking the logs"}
                )
                ok(paused)
                seen = topics_until(events(response), f"rollout:{plan_id}")
            assert seen[-1] & declared(page), (seen[-1], declared(page))
            fresh = region(vic.get(rollout_page(plan_id)).text, "rollout-state")
    assert "Paused" in fresh
    assert "checking the logs" in fresh
