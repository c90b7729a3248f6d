#!/usr/bin/env python3
"""Abuse: adversarial regular expressions and contexts, against the engine and against
a real server. A benchmark that prints tables, not a test.

Part 1, the engine. For each adversarial ``REGEX`` pattern and an input built to hurt
it, at growing lengths: the worst of ``--trials`` evaluations of a freshly compiled
flag (RE2's caches cold, the slowest case), through ``CompiledFlag.is_on``. Beside it,
the same pattern through Python's backtracking ``re`` as the engine ran it before RE2
(its old translation, in a child process stopped after ``--re-cap`` seconds per input,
so the script ends). Lengths over ``MAX_CONTEXT_VALUE_LENGTH`` show the cap: such values
match no constraint, so no pattern runs.

Part 2, a real ``shipwise serve`` (SQLite in a temporary directory): flags with the
worst patterns and a rollout, a frontend key, and ``--workers`` connections (in two
load processes) sending OFREP and ``/api/frontend`` requests with adversarial contexts
(the worst inputs of part 1, lone surrogates and NUL, values far over the cap; and a
benign context as a control, which shows what the machine's own load costs) for
``--seconds``; meanwhile this process probes ``/health`` every 20 ms. Latencies are
p50/p99/max per kind and per context, with status codes. The goal: no request over
50 ms. The load processes, the server and the probe share the machine's CPUs, so on a
small machine the control's latency is part of every number.

    .venv/bin/python bench/abuse.py                   # both parts (about a minute)
    .venv/bin/python bench/abuse.py --engine-only
    .venv/bin/python bench/abuse.py --seconds 20 --workers 16
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if (ROOT / "src" / "shipwise").is_dir():
    sys.path.insert(0, str(ROOT / "src"))  # benchmark the code in this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import re2  # noqa: E402

from _shipwise_server import shipwise_server  # noqa: E402
from shipwise.engine import Constraint, Flag, FlagState, Snapshot, Strategy  # noqa: E402
from shipwise.engine.context import MAX_CONTEXT_VALUE_LENGTH  # noqa: E402

SIZES = (32, 64, 128, 256, 512, MAX_CONTEXT_VALUE_LENGTH, 10_000, 100_000)
GOAL_MS = 50.0


def _ab(n: int) -> str:
    rng = random.Random(n)  # the same text every run
    return "".join(rng.choice("ab") for _ in range(n))


@dataclass(frozen=True)
class Case:
    name: str
    pattern: str  # RE2, as a rule holds it
    before: str  # the Python pattern the engine's old RE2 translation made of it
    input_kind: str  # how the text of length n is built, see ``text``


# (a+)+$ is the pattern; (a|b)*a(a|b){900}c is the worst found for RE2 (its DFA
# explodes, so RE2 simulates the program: cost ~ length x program size).
CASES = (
    Case("nested quantifier", "(a+)+$", r"(a+)+\Z", "a!"),
    Case("overlapping alternation", "(a|aa)+$", r"(a|aa)+\Z", "a!"),
    Case("words and spaces", r"^(\w+\s?)*$", r"^([0-9A-Za-z_]+[\t\n\f\r ]?)*\Z", "a!"),
    Case(
        "e-mail style",
        r"^([a-z0-9]+[._-]?)*@example\.com$",
        r"^([a-z0-9]+[._-]?)*@example\.com\Z",
        "a!",
    ),
    Case("x+x+ then y", "(x+x+)+y", "(x+x+)+y", "x"),
    Case("DFA explosion", "(a|b)*a(a|b){900}c", "(a|b)*a(a|b){900}c", "ab"),
    Case("counted repeats", "(?s).{0,100}x{100}y", "(?s:.{0,100}x{100}y)", "x"),
)


def text(kind: str, n: int) -> str:
    if kind == "a!":
        return "a" * (n - 1) + "!"
    if kind == "ab":
        return _ab(n)
    return "x" * n


# -- part 1: the engine -------------------------------------------------------------------


def _flag(pattern: str) -> Flag:
    constraint = Constraint("userId", "REGEX", value=pattern)
    return Flag("f", enabled=True, strategies=(Strategy("default", constraints=(constraint,)),))


def re2_worst_us(case: Case, n: int, trials: int) -> float:
    """The slowest of ``trials`` first evaluations, each of a freshly compiled flag."""
    context = {"userId": text(case.input_kind, n)}
    worst = 0.0
    for _ in range(trials):
        re2.purge()  # google-re2's own cache would hand back the warm pattern
        flag = Snapshot(FlagState(flags={"f": _flag(case.pattern)})).flags["f"]
        started = time.perf_counter()
        flag.is_on(context)
        worst = max(worst, time.perf_counter() - started)
    return worst * 1e6


_RE_CHILD = """
import re, sys, time
pattern = re.compile(sys.argv[1])
for line in sys.stdin:
    subject = line.rstrip("\\n")
    started = time.perf_counter()
    pattern.search(subject)
    print(time.perf_counter() - started, flush=True)
"""


def re_before_us(case: Case, cap: float) -> list[float | None]:
    """Python ``re`` with the old translation, per size; None once a search ran past
    ``cap`` seconds (the child is killed, and larger inputs are not tried)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _RE_CHILD, case.before],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    answers: queue.Queue[str] = queue.Queue()

    def read(stream: Any) -> None:
        for line in stream:
            answers.put(line)

    threading.Thread(target=read, args=(child.stdout,), daemon=True).start()
    results: list[float | None] = []
    try:
        for n in SIZES:
            child.stdin.write(text(case.input_kind, n) + "\n")  # ASCII, one line
            child.stdin.flush()
            try:
                results.append(float(answers.get(timeout=cap)) * 1e6)
            except queue.Empty:
                break
    finally:
        child.kill()
        child.wait()
    return results + [None] * (len(SIZES) - len(results))


def _us(value: float | None, cap: float) -> str:
    if value is None:
        return f"> {cap:g} s"
    if value >= 1e6:
        return f"{value / 1e6:.1f} s"
    if value >= 1e3:
        return f"{value / 1e3:.1f} ms"
    return f"{value:.0f} µs"


def part_engine(trials: int, cap: float) -> list[dict[str, Any]]:
    rows = []
    for case in CASES:
        now = [re2_worst_us(case, n, trials) for n in SIZES]
        before = re_before_us(case, cap)
        rows.append({"case": case, "now": now, "before": before})
        print(f"  {case.name}: done", file=sys.stderr, flush=True)
    head = "".join(f"{n:>10,}" for n in SIZES)
    for title, key in (
        (f"RE2 now: worst of {trials} cold evaluations", "now"),
        (f"Python re before (old translation), stopped after {cap:g} s", "before"),
    ):
        print(f"\n{title} (input length in characters; > {MAX_CONTEXT_VALUE_LENGTH:,}: capped)")
        print(f"{'pattern':<38}{head}")
        for row in rows:
            cells = "".join(f"{_us(v, cap):>10}" for v in row[key])
            print(f"{row['case'].pattern:<38}{cells}")
    print("\nRE2 growth from 512 to 1,000 characters (x1.95 would be exactly linear):")
    index = SIZES.index(512)
    for row in rows:
        low, high = row["now"][index], row["now"][index + 1]
        print(f"  {row['case'].pattern:<38} x{high / low:.2f}")
    worst = max(max(row["now"]) for row in rows)
    print(f"\nworst RE2 evaluation over every pattern and size: {_us(worst, cap)}")
    return rows


# -- part 2: a real server ----------------------------------------------------------------

WORST = "(a|b)*a(a|b){900}c"
FLAGS = {
    "regex-worst": {"contextName": "userId", "operator": "REGEX", "value": WORST},
    "regex-classic": {"contextName": "userId", "operator": "REGEX", "value": "(a+)+$"},
    "regex-email": {
        "contextName": "email",
        "operator": "REGEX",
        "value": r"^([a-z0-9]+[._-]?)*@example\.com$",
    },
}
CONTEXTS = {
    "user-42 (control: a benign context)": "user-42",
    "a/b x1000": _ab(MAX_CONTEXT_VALUE_LENGTH),
    "a x999 + !": "a" * (MAX_CONTEXT_VALUE_LENGTH - 1) + "!",
    "NUL + surrogate": "\x00\ud800",
    "surrogates x1000": "\ud800" * MAX_CONTEXT_VALUE_LENGTH,
    "a x100k + !": "a" * 100_000 + "!",
}


def _body(value: str, ofrep: bool) -> bytes:
    # json.dumps escapes lone surrogates as \\ud800 (ensure_ascii), as a browser would send.
    if ofrep:
        context = {"targetingKey": value, "email": value}
    else:
        context = {"userId": value, "properties": {"email": value}}
    return json.dumps({"context": context}).encode()


def _requests() -> list[tuple[str, str, bytes]]:
    """(kind, path, body) for every adversarial request the workers cycle through."""
    out = []
    for label, value in CONTEXTS.items():
        for flag in FLAGS:
            out.append(
                (
                    f"OFREP {flag}, {label}",
                    f"/ofrep/v1/evaluate/flags/{flag}",
                    _body(value, ofrep=True),
                )
            )
        out.append((f"OFREP all flags, {label}", "/ofrep/v1/evaluate/flags", _body(value, True)))
        out.append((f"frontend, {label}", "/api/frontend", _body(value, ofrep=False)))
    return out


def _load(
    url: str, key: str, threads: int, seconds: float, offset: int
) -> list[tuple[str, float, int]]:
    """Run in a load process: ``threads`` connections cycling through the requests."""
    requests = _requests()
    deadline = time.monotonic() + seconds
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def worker(start: int) -> None:
        headers = {"Authorization": key, "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            index = start
            while time.monotonic() < deadline:
                kind, path, body = requests[index % len(requests)]
                index += 1
                started = time.perf_counter()
                try:
                    status = http.post(path, content=body).status_code
                except httpx.HTTPError:
                    status = 0  # the connection failed: the server died or reset it
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    results.append((kind, elapsed, status))

    pool = [threading.Thread(target=worker, args=(offset + i * 7,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def _probe(url: str, seconds: float) -> list[tuple[float, int]]:
    out = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status = http.get("/health").status_code
            except httpx.HTTPError:
                status = 0
            out.append(((time.perf_counter() - started) * 1000, status))
            time.sleep(0.02)
    return out


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.text}")
    return response.json() if response.content else None


def _setup(admin: httpx.Client) -> str:
    base = "/api/v1/projects/default/flags"
    for key, constraint in FLAGS.items():
        _ok(admin.post(base, json={"key": key}))
        rules = f"{base}/{key}/environments/production"
        etag = admin.get(rules).headers["ETag"]
        strategy = {"name": "default", "constraints": [constraint]}
        _ok(
            admin.put(
                rules, json={"enabled": True, "strategies": [strategy]}, headers={"If-Match": etag}
            )
        )
    token = {"name": "abuse", "kind": "frontend", "project": "default", "environment": "production"}
    return str(_ok(admin.post("/api/v1/tokens", json=token))["secret"])


def _stats(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))]
    return statistics.median(ordered), p99, ordered[-1]


def _row(name: str, latencies: list[float], statuses: Counter[int]) -> str:
    p50, p99, top = _stats(latencies)
    over = sum(1 for ms in latencies if ms > GOAL_MS)
    codes = ", ".join(f"{code}x{count}" for code, count in sorted(statuses.items()))
    return f"{name:<44}{len(latencies):>7}{p50:>9.1f}{p99:>9.1f}{top:>9.1f}{over:>7}  {codes}"


def part_server(seconds: float, workers: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="shipwise-abuse-") as directory,
        shipwise_server(Path(directory) / "server") as server,
        server.admin() as admin,
    ):
        key = _setup(admin)
        idle = _probe(server.url, 2.0)
        processes = 2
        with ProcessPoolExecutor(processes) as pool:
            futures = [
                pool.submit(_load, server.url, key, max(1, workers // processes), seconds, p * 3)
                for p in range(processes)
            ]
            time.sleep(0.5)  # let the load start before probing beside it
            busy = _probe(server.url, seconds - 1.0)
            loads = [result for future in futures for result in future.result()]
        alive = server.process.poll() is None
        log = (Path(directory) / "server" / "server.log").read_text(errors="replace")
    print(
        f"\nA real `shipwise serve` (SQLite), {workers} connections for {seconds:g} s, "
        f"{len(CONTEXTS)} adversarial contexts x {len(FLAGS)} REGEX flags:"
    )
    print(f"{'requests':<44}{'n':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'>50ms':>7}  status")
    print(_row("/health, idle", [ms for ms, _ in idle], Counter(s for _, s in idle)))
    print(_row("/health, beside the abuse", [ms for ms, _ in busy], Counter(s for _, s in busy)))
    by_kind: dict[str, list[tuple[float, int]]] = {}
    for kind, ms, status in loads:
        by_kind.setdefault(kind.split(",")[0], []).append((ms, status))
    for kind, items in sorted(by_kind.items()):
        print(_row(kind, [ms for ms, _ in items], Counter(s for _, s in items)))
    every = [ms for _, ms, _ in loads] + [ms for ms, _ in busy]
    by_context: dict[str, list[float]] = {}
    for kind, ms, _ in loads:
        by_context.setdefault(kind.split(", ", 1)[1], []).append(ms)
    print("\nby context:")
    for label, latencies in by_context.items():
        print(_row(f"  {label}", latencies, Counter()))
    print(
        f"\nserver alive at the end: {'yes' if alive else 'NO'}; tracebacks in its log: "
        f"{log.count('Traceback')}; requests over {GOAL_MS:.0f} ms: "
        f"{sum(1 for ms in every if ms > GOAL_MS)} of {len(every)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="cold RE2 evaluations per cell")
    parser.add_argument("--re-cap", type=float, default=2.0, help="seconds per re search")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the server run")
    parser.add_argument("--workers", type=int, default=8, help="concurrent connections")
    parser.add_argument("--engine-only", action="store_true", help="skip the server part")
    args = parser.parse_args()
    print(
        f"bench/abuse.py on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"google-re2, context values capped at {MAX_CONTEXT_VALUE_LENGTH:,} characters"
    )
    part_engine(args.trials, args.re_cap)
    if not args.engine_only:
        part_server(args.seconds, args.workers)


if __name__ == "__main__":
    main()
