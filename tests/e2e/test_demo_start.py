"""The newcomer's first minute: ``shipwise serve --demo`` (what ``scripts/start`` runs)
on a fresh data directory shows a release in every column of the board and a rollout on
the process's real schedule (a week a step) that its own synthetic users move forward on
the demo's accelerated clock, while the sign-in link and session made at start keep the
wall clock; a second start on the same directory seeds nothing twice and carries on the
same timeline. A real server process, its real runner, the real SDK traffic."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import ADMIN_TOKEN, free_port

START_SECONDS = 60  # hang guards: a failure, not a measurement
ADVANCE_SECONDS = 240  # the first step's simulated week is a minute of wall time
API = "/api/v1/projects/default"
WEEK = timedelta(days=7)
COOKIE = "shipwise_session"


@contextmanager
def demo_server(data_dir: Path) -> Iterator[httpx.Client]:
    """``shipwise serve --demo`` in a process of its own, as the admin's client."""
    port = free_port()
    env = _environment()
    command = [sys.executable, "-m", "shipwise.cli", "serve", "--demo", "--port", str(port)]
    log = (data_dir.parent / f"{data_dir.name}.log").open("ab")
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as admin:
            deadline = time.monotonic() + START_SECONDS
            while not _healthy(admin):
                assert process.poll() is None, f"serve exited {process.returncode}"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
            yield admin
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


def _environment() -> dict[str, str]:
    """The demo's own defaults (its clock speed too): no SHIPWISE_* from outside."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWISE_")}
    return environment | {"SHIPWISE_ADMIN_TOKEN": ADMIN_TOKEN}


@contextmanager
def _sign_in_as_scripts_start_does(admin: httpx.Client, data_dir: Path) -> Iterator[httpx.Client]:
    """A browser signed in with the link ``scripts/start`` prints: ``login-link --on-host``
    run as another process on the data directory, then used."""
    url = str(admin.base_url).rstrip("/")
    command = [sys.executable, "-m", "shipwise.cli", "login-link", "first admin", "--on-host"]
    made = subprocess.run(
        [*command, "--data-dir", str(data_dir), "--url", url],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=START_SECONDS,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().splitlines()[-1].strip()
    with httpx.Client(base_url=url, timeout=30) as browser:
        used = browser.post(link)
        assert used.status_code == 303, used.text
        assert COOKIE in browser.cookies
        yield browser


def _healthy(admin: httpx.Client) -> bool:
    try:
        return admin.get("/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.text)
    return response.json()


def _releases(admin: httpx.Client) -> list[dict[str, Any]]:
    answer = _ok(admin.get(f"{API}/releases"))
    return list(answer["releases"] if isinstance(answer, dict) else answer)


def _unmet(admin: httpx.Client, key: str) -> list[str]:
    decision = _ok(admin.get(f"{API}/releases/{key}/gates"))
    return [g["gate"] for g in decision["gates"] if not g["passed"]]


def _checks(admin: httpx.Client, plan_id: int) -> list[dict[str, Any]]:
    return list(_ok(admin.get(f"{API}/rollouts/{plan_id}/timeline"))["checks"])


def test_serve_demo__on_a_fresh_data_dir__shows_every_stage_and_a_rollout_that_moves(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "demo"
    with demo_server(data_dir) as admin:
        releases = {r["title"]: r for r in _releases(admin)}
        where = {title: (r["stage"], r["status"]) for title, r in releases.items()}
        assert where == {
            "Dark mode": (None, "in-progress"),
            "Search v2": ("dev", "in-progress"),
            "Excel export": ("staging", "in-progress"),
            "New checkout": ("production", "in-progress"),
            "Payment provider switch": ("production", "released"),
        }
        # Blocked by a missing approval; in QA, waiting for the sign-off.
        assert _unmet(admin, releases["Search v2"]["key"]) == ["approvals"]
        assert "signoff:qa" in _unmet(admin, releases["Excel export"]["key"])
        assert "approvals" not in _unmet(admin, releases["Excel export"]["key"])
        plans = _ok(admin.get(f"{API}/rollouts"))["rollouts"]
        assert [(p["flag"], p["release"], p["state"]["status"]) for p in plans] == [
            ("new-checkout", releases["New checkout"]["key"], "running")
        ]
        plan_id = plans[0]["id"]
        with _sign_in_as_scripts_start_does(admin, data_dir) as browser:
            # The synthetic users' exposures and errors reach the runner, which moves the
            # plan on once its first step has lasted the week the schedule asks for.
            deadline = time.monotonic() + ADVANCE_SECONDS
            while not any(c["decision"] == "advance" for c in _checks(admin, plan_id)[1:]):
                assert time.monotonic() < deadline, _checks(admin, plan_id)
                time.sleep(1)
            plan = _ok(admin.get(f"{API}/rollouts/{plan_id}"))
            assert plan["state"]["step"] >= 2  # 1-based: the 25% step
            assert _at(plan["state"]["step_started_at"]) - _at(plan["state"]["started_at"]) >= WEEK
            assert "errors" in plan["judgements"]

            # A simulated week later the session made at start still works: people's
            # sessions keep the wall clock (twelve hours), not the demo's.
            board = browser.get("/projects/default/board")
            assert board.status_code == 200, board.headers.get("location")
        keys = sorted(r["key"] for r in releases.values())
        tokens = _ok(admin.get("/api/v1/tokens"))
        clock = (data_dir / "demo-clock").read_text()
        before = _where(admin, plan_id)

    with demo_server(data_dir) as admin:  # the second start
        assert sorted(r["key"] for r in _releases(admin)) == keys
        assert [p["id"] for p in _ok(admin.get(f"{API}/rollouts"))["rollouts"]] == [plan_id]
        assert _ok(admin.get("/api/v1/tokens")) == tokens  # the same demo SDK key, reused
        # The same timeline, carried on (a clock gone back to the wall clock's now would
        # leave the step begun weeks in the future): the plan moves on again (the next
        # step, or its bake and release), unless it had finished before the restart.
        assert (data_dir / "demo-clock").read_text() == clock
        deadline = time.monotonic() + ADVANCE_SECONDS
        while before[1] in ACTIVE and _where(admin, plan_id) == before:
            assert time.monotonic() < deadline, _checks(admin, plan_id)[-3:]
            time.sleep(1)


ACTIVE = ("running", "waiting-approval", "paused", "baking")


def _where(admin: httpx.Client, plan_id: int) -> tuple[int, str]:
    state = _ok(admin.get(f"{API}/rollouts/{plan_id}"))["state"]
    return state["step"], state["status"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
