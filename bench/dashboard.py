#!/usr/bin/env python3
"""Dashboard speed: each page's server time at scale, and a change's way to an open page.

One run, this machine. A project on SQLite with 1,000 flags (each configured in dev,
staging and production), 200 releases spread over the board's columns (each with an
approval, a CI result and a deploy of its commit) and 20 rollout plans running in
production. The data is written straight into the store (this measures reading it, not
writing it), then a real ``shipwise serve`` runs in its own process (runner off, so
nothing moves under the timer) and this script, signed in through ``POST /sign-in`` as
a browser is, asks for each page ``--repeats`` times over HTTP on loopback, one request
at a time. The time is the whole request as the client sees it (loopback adds well
under a millisecond); the first request of each page is a warm-up and is not counted.

Pages: the board (the released column capped at the newest ten; asked again with nothing
changed, the server reuses it for up to 5 s), the board with a change (a flag switched
through the admin API, not timed) before each request, so it is drawn anew every time,
the board with every released card, the flags table (its first page of 50 of the 1,000
flags), a later page filtered by tag and key, the "rolling out" filter (judged from the
rules of every flag that is on somewhere, then paged), one flag's page, one rollout's
page (``/projects/{p}/rollouts/{id}``; reported "missing" while the server answers 404)
and, if the server has the live stream (``/projects/{p}/live``), the time from sending a
change (a flag switched on or off through the admin API) to its event on an open stream.

The times are wall-clock, so a busy machine inflates them, the high percentiles most: the
table prints the load average before and after the run beside them.

    .venv/bin/python bench/dashboard.py                 # 1,000 flags, 200 releases, 50 a page
    .venv/bin/python bench/dashboard.py --repeats 20 --changes 20
    .venv/bin/python bench/dashboard.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _unleash_server import free_port
from shipwise.domain.plan_format import parse_plan
from shipwise.domain.releases import ChangeKind, Release, ReleaseStatus
from shipwise.domain.rollout import start
from shipwise.server.ports import FlagConfig
from shipwise.server.storage.database import Database

ROOT = Path(__file__).resolve().parent.parent
SHIPWISE_EXE = ROOT / ".venv" / "bin" / "shipwise"
ADMIN = "sw_api_dashboard_bench_admin_token_0123456789ab"
PROJECT = "default"
START_TIMEOUT_S = 60.0
PAGE_TARGET_MS = 50.0  # p95 of each page
LIVE_TARGET_MS = 1000.0  # p99 of a change reaching an open page
STAGES = (None, "dev", "staging", "production")


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Scale:
    flags: int
    releases: int
    rollouts: int


def seed(data_dir: Path, scale: Scale) -> int:
    """The project, written straight into the store. Returns a running plan's id."""
    from shipwise.server.bootstrap import build
    from shipwise.server.settings import Settings

    services = build(Settings(data_dir=data_dir, admin_token=ADMIN, runner=False))
    services.close()
    database = Database(f"sqlite:///{(data_dir / 'shipwise.db').resolve()}")
    now = datetime.now(UTC)
    spec = parse_plan({"steps": [{"percentage": 10}, {"percentage": 50}, {"percentage": 100}]})
    plan_id = 0
    try:
        with database.transaction() as tx:
            project = tx.get_project(PROJECT)
            assert project is not None
            environments = tx.list_environments(project.id)
            production = environments[-1]
            flags = []
            for i in range(scale.flags):
                flag = tx.add_flag(project.id, f"flag-{i:04}", "release", "team", None, ["bench"])
                flags.append(flag)
                for environment in environments:
                    rollout = [
                        {
                            "name": "flexibleRollout",
                            "parameters": {
                                "rollout": str(i % 100),
                                "stickiness": "default",
                                "groupId": flag.key,
                            },
                        }
                    ]
                    tx.save_config(
                        FlagConfig(flag.id, environment.id, i % 2 == 0, rollout, [], [], 0, now)
                    )
            for i in range(scale.releases):
                commit = f"{i + 1:040x}"
                rolling = i < scale.rollouts
                stage = "production" if rolling else STAGES[i % len(STAGES)]
                status = ReleaseStatus.RELEASED if i % 10 == 9 else ReleaseStatus.IN_PROGRESS
                release = tx.add_release(
                    project.id,
                    Release(
                        0,
                        PROJECT,
                        f"rel-{i + 1}",
                        f"Release {i + 1}",
                        ChangeKind.FEATURE,
                        "alice",
                        now,
                        now,
                    ),
                )
                flag = flags[i % len(flags)]
                release = tx.save_release(
                    replace(
                        release,
                        stage=stage,
                        status=ReleaseStatus.IN_PROGRESS if rolling else status,
                        commit=commit,
                        flags=(flag.key,),
                        rollback_plan="Turn the flag off.",
                    )
                )
                tx.add_evidence(release, "approval", "staging", "bob", now, {"roles": ["qa"]})
                tx.add_ci_result(project.id, commit, "ci/test", "success", now)
                tx.add_deploy(project.id, "dev", commit, True, "ci", now)
                if rolling:
                    plan = tx.add_plan(
                        project.id,
                        flag.id,
                        production.id,
                        release.id,
                        spec,
                        start(spec, now),
                        now + timedelta(hours=1),
                        "alice",
                    )
                    plan_id = plan.id
    finally:
        database.dispose()
    return plan_id


@contextmanager
def running_server(data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "SHIPWISE_RUNNER": "0"}
    command = [str(SHIPWISE_EXE), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server stopped: {(data_dir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /health in time")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Row:
    what: str
    samples: list[float]  # milliseconds
    target_ms: float
    high: float  # the percentile the target is for
    note: str = ""

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {"what": self.what, "missing": self.note}
        return {
            "what": self.what,
            "n": len(self.samples),
            "p50_ms": round(statistics.median(self.samples), 1),
            f"p{round(self.high * 100)}_ms": round(percentile(self.samples, self.high), 1),
            "target_ms": self.target_ms,
            "met": percentile(self.samples, self.high) < self.target_ms,
            "note": self.note,
        }


def time_page(
    browser: httpx.Client, path: str, repeats: int, change: Callable[[int], None] | None = None
) -> list[float] | None:
    """``path`` asked ``repeats`` times, after a warm-up; with ``change``, a change is made
    before each request (not timed), so nothing the server kept can be reused."""
    first = browser.get(path)
    if first.status_code == 404:
        return None
    if first.status_code != 200:
        raise RuntimeError(f"GET {path}: {first.status_code} {first.text[:300]}")
    samples = []
    for i in range(repeats):
        if change is not None:
            change(i)
        began = time.perf_counter()
        response = browser.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
    return samples


def time_live(url: str, browser: httpx.Client, changes: int) -> list[float] | None:
    """From sending a flag switch to the admin API until its event arrives on an open
    stream (the write, its commit and the fan-out; the event may beat the API's answer)."""
    live = f"/projects/{PROJECT}/live"
    events: queue.Queue[float] = queue.Queue()
    opened = threading.Event()
    stop = threading.Event()
    missing: list[bool] = []

    def listen() -> None:
        try:
            read()
        except httpx.TransportError:
            if not stop.is_set():  # the server ending the stream at the end is no news
                raise

    def read() -> None:
        with (
            httpx.Client(base_url=url, cookies=browser.cookies, timeout=None) as reader,
            reader.stream("GET", live) as stream,
        ):
            if stream.status_code == 404:
                missing.append(True)
                opened.set()
                return
            opened.set()
            for line in stream.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: change"):
                    events.put(time.perf_counter())

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    if not opened.wait(10):
        raise RuntimeError("the live stream did not open")
    if missing:
        return None
    time.sleep(0.5)  # the stream is registered with the hub before the first change
    samples = []
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as admin:
        for i in range(changes):
            switch = "enable" if i % 2 else "disable"
            path = f"/api/v1/projects/{PROJECT}/flags/flag-0001/environments/dev/{switch}"
            sent = time.perf_counter()
            response = admin.post(path)
            if response.status_code != 200:
                raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
            try:
                arrived = events.get(timeout=10)
            except queue.Empty:
                raise RuntimeError("a change never reached the live stream (10 s)") from None
            samples.append((arrived - sent) * 1000)
            time.sleep(0.05)
            while not events.empty():  # a late duplicate must not count for the next change
                events.get_nowait()
    stop.set()
    return samples


def flag_switch(url: str) -> Callable[[int], None]:
    """A change: flag-0002 switched on or off in dev through the admin API."""
    admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)

    def change(i: int) -> None:
        switch = "enable" if i % 2 else "disable"
        path = f"/api/v1/projects/{PROJECT}/flags/flag-0002/environments/dev/{switch}"
        response = admin.post(path)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")

    return change


def load() -> str:
    """The 1-, 5- and 15-minute load averages: how busy the machine was."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def render(rows: list[Row], scale: Scale, repeats: int, loads: tuple[str, str]) -> str:
    lines = [
        f"Dashboard, SQLite: {scale.flags:,} flags, {scale.releases} releases, "
        f"{scale.rollouts} rollouts running; {repeats} requests a page over HTTP on loopback",
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}; "
        f"load average {loads[0]} before, {loads[1]} after",
        "",
        f"{'':28} {'p50 ms':>8} {'p95/p99 ms':>11} {'target':>8} {'ratio':>6}  ",
    ]
    for row in rows:
        if not row.samples:
            lines.append(f"{row.what:28} {'missing':>8}  {row.note}")
            continue
        high = percentile(row.samples, row.high)
        label = f"p{round(row.high * 100)} {high:.1f}"
        ratio = high / row.target_ms
        verdict = "ok" if high < row.target_ms else "OVER"
        lines.append(
            f"{row.what:28} {statistics.median(row.samples):8.1f} {label:>11} "
            f"{row.target_ms:8.0f} {ratio:6.2f}  {verdict} {row.note}"
        )
    lines.append("")
    lines.append("ratio: the high percentile over its target (under 1.00 meets it)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flags", type=int, default=1000)
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--rollouts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=50, help="requests a page, timed")
    parser.add_argument("--changes", type=int, default=50, help="changes sent to the stream")
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    args = parser.parse_args()
    scale = Scale(args.flags, args.releases, min(args.rollouts, args.releases))
    before = load()
    with tempfile.TemporaryDirectory(prefix="shipwise-bench-dashboard-") as directory:
        data_dir = Path(directory)
        progress(f"seeding {scale}")
        plan_id = seed(data_dir, scale)
        with running_server(data_dir) as url, httpx.Client(base_url=url, timeout=30) as browser:
            signed = browser.post("/sign-in", data={"token": ADMIN, "next": "/"})
            if signed.status_code not in (200, 303) or not browser.cookies:
                raise RuntimeError(f"sign-in failed: {signed.status_code} {signed.text[:300]}")
            board = f"/projects/{PROJECT}/board"
            pages = {
                "board": board,
                "board, all released": f"/projects/{PROJECT}/board?released=all",
                "flags table": f"/projects/{PROJECT}/flags",
                "flags, tag+key, page 2": f"/projects/{PROJECT}/flags?tag=bench&q=-01&page=2",
                "flags, rolling out": f"/projects/{PROJECT}/flags?state=rolling",
                "flag page": f"/projects/{PROJECT}/flags/flag-0001",
                "rollout page": f"/projects/{PROJECT}/rollouts/{plan_id}",
            }
            rows = []
            for what, path in pages.items():
                progress(f"{what}: {path}")
                samples = time_page(browser, path, args.repeats)
                note = "" if samples is not None else f"{path} answers 404 (not built yet)"
                rows.append(Row(what, samples or [], PAGE_TARGET_MS, 0.95, note))
            # A board is reused while nothing changed (release_board.py): the same page
            # again, with a change before each request, is the cost of drawing it anew.
            progress("board after a change")
            samples = time_page(browser, board, args.repeats, flag_switch(url))
            rows.insert(1, Row("board, after each change", samples or [], PAGE_TARGET_MS, 0.95))
            progress("live: change to event")
            live = time_live(url, browser, args.changes)
            note = "" if live is not None else "/projects/{p}/live answers 404 (not built yet)"
            rows.append(Row("change -> live event", live or [], LIVE_TARGET_MS, 0.99, note))
    loads = (before, load())
    if args.json:
        print(json.dumps({"load": loads, "rows": [row.summary() for row in rows]}, indent=2))
    else:
        print(render(rows, scale, args.repeats, loads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
