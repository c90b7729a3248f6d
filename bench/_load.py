"""A bounded HTTP load generator for the server benchmark: wrk, driven by a generated Lua script.

Why wrk: it is written in C and needs a fraction of a core for tens of thousands of
requests per second. On a 2-core machine a Python generator would be the bottleneck long
before a fast server is (``--ceiling`` measures what this harness can do at all).

Every run is bounded twice: by time (``-d``; the subprocess is killed if it overruns) and
by count (the Lua script stops a thread once it has sent its share of ``max_requests``).
Only loopback targets are accepted.

Requests can differ per user: ``{user}`` and ``{plan}`` in the path or body are replaced
for users 0 .. users-1 (user n has plan ``PLANS[n % 4]``, as in bench/eval.py). The
requests are formatted once per wrk thread in ``init()`` and then cycled through, so
building them costs nothing during the run.

    .venv/bin/python bench/_load.py http://127.0.0.1:4242/health -c 16 --duration 5
    .venv/bin/python bench/_load.py http://127.0.0.1:8000/ofrep/v1/evaluate/flags -X POST \\
        -H 'Authorization: Bearer x' -d '{"context": {"targetingKey": "user-{user}"}}'
    .venv/bin/python bench/_load.py --ceiling      # wrk against a trivial Node server
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PLANS = ("free", "pro", "beta", "internal")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
DEFAULT_MAX_REQUESTS = 5_000_000  # a safety bound: far above what 2 cores reach in 10 s
DEFAULT_USERS = 1000
REQUEST_TIMEOUT_S = 5
JSON_MARKER = "BENCH_LOAD_JSON "


@dataclass(frozen=True)
class Target:
    """One kind of request. ``{user}``/``{plan}`` in ``path``/``body`` vary per user."""

    base_url: str
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.path

    def varies_per_user(self) -> bool:
        text = self.path + (self.body or "")
        return "{user}" in text or "{plan}" in text


@dataclass(frozen=True)
class LoadResult:
    """What one measured run gives; latencies in milliseconds."""

    concurrency: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    bytes_per_request: float
    errors: dict[str, int]
    capped: bool  # hit max_requests: requests_per_s is then an underestimate
    server_cpu_s: float | None = None  # CPU time of the server's process tree in the run
    other_cpu_share: float | None = None  # of the machine, used by neither server nor wrk

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "server_cpu_ms_per_request": self.server_cpu_ms_per_request}


# ---------------------------------------------------------------------------------------
# Processes: memory and CPU of a server's process tree, and of the rest of the machine
# ---------------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (through /proc/<pid>/task/<tid>/children), so that
    worker processes a server forks count too. Processes that are gone are skipped."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        found.append(current)
    return found


def rss_kib(pid: int) -> int:
    """Resident memory (VmRSS) of ``pid`` and its descendants, in KiB."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def tree_cpu_ticks(pids: list[int]) -> int:
    """User + system CPU ticks used so far by the process trees of ``pids``."""
    total = 0
    for pid in pids:
        for member in process_tree(pid):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                stat = Path(f"/proc/{member}/stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU counters at one moment: the server trees, this process and its finished
    children (wrk), and the machine."""

    server: int
    harness: float  # seconds
    busy: int
    total: int

    @classmethod
    def take(cls, server_pids: list[int]) -> CpuSnapshot:
        times = os.times()
        harness = times.user + times.system + times.children_user + times.children_system
        return cls(tree_cpu_ticks(server_pids), harness, *machine_ticks())


def cpu_between(before: CpuSnapshot, after: CpuSnapshot) -> tuple[float, float]:
    """(server CPU seconds, share of the machine used by everything else) between two
    snapshots. On a shared machine the second number says whether a run was disturbed."""
    server_s = (after.server - before.server) / CLOCK_TICKS
    harness_s = after.harness - before.harness
    busy_s = (after.busy - before.busy) / CLOCK_TICKS
    total_s = (after.total - before.total) / CLOCK_TICKS
    other = max(0.0, busy_s - server_s - harness_s) / total_s if total_s else 0.0
    return server_s, other


# ---------------------------------------------------------------------------------------
# Loopback only
# ---------------------------------------------------------------------------------------


def check_loopback(url: str) -> None:
    """Refuse any target that is not this machine's loopback interface.

    The host must be spelled 127.0.0.1, localhost or ::1, and every address it resolves
    to must be a loopback address (in case /etc/hosts maps localhost elsewhere).
    """
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"refusing {url!r}: only plain http to loopback is load-tested")
    host = parts.hostname or ""
    if host not in LOOPBACK_NAMES:
        raise ValueError(f"refusing {url!r}: host must be one of {', '.join(LOOPBACK_NAMES)}")
    for *_, sockaddr in socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP):
        if not ipaddress.ip_address(sockaddr[0]).is_loopback:
            raise ValueError(f"refusing {url!r}: {host} resolves to {sockaddr[0]}")


# ---------------------------------------------------------------------------------------
# wrk and its Lua script
# ---------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Path of wrk; installs Debian's package with apt-get (updating the lists once) if absent."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "wrk"]
    for step in ([], install, ["apt-get", "update"], install):
        if step:
            print(f"[load] wrk missing; {' '.join(step)}", file=sys.stderr)
            subprocess.run(step, env=env, capture_output=True, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    raise RuntimeError("wrk is not installed and apt-get could not install it")


def lua_string(text: str) -> str:
    """A double-quoted Lua string literal. LuaJIT has no \\u escapes, so anything outside
    printable ASCII (and the quote and backslash) is written as decimal byte escapes."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if 32 <= byte < 127 and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def expand(template: str, user: int) -> str:
    return template.replace("{user}", str(user)).replace("{plan}", PLANS[user % len(PLANS)])


def lua_script(target: Target, users: int, max_per_thread: int) -> str:
    """The wrk script: pre-formatted requests, a per-thread request cap, a JSON summary.

    No ``response()`` function is defined, so wrk does not hand bodies to Lua; non-2xx
    answers still show up as ``errors.status`` (status > 399) in the summary.
    """
    count = users if target.varies_per_user() else 1
    paths = ",\n".join(lua_string(expand(target.path, u)) for u in range(count))
    bodies = ",\n".join(lua_string(expand(target.body or "", u)) for u in range(count))
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in target.headers.items())
    has_body = "true" if target.body is not None else "false"
    return f"""-- Generated by bench/_load.py for one run.
local method = {lua_string(target.method)}
local headers = {{{headers}}}
local has_body = {has_body}
local paths = {{
{paths}
}}
local bodies = {{
{bodies}
}}
local max_requests = {max_per_thread}

local threads = {{}}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests = {{}}
local index = 0
sent = 0  -- a global, so that done() can read it with thread:get()
function init(args)
  for i = 1, #paths do
    local body = nil
    if has_body then body = bodies[i] end
    requests[i] = wrk.format(method, paths[i], headers, body)
  end
  -- threads start at different users so that they do not move in lockstep
  index = (id * 7919) % #requests
end

function request()
  sent = sent + 1
  if sent >= max_requests then wrk.thread:stop() end
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, per_thread)
  local e = summary.errors
  local sent_total = 0
  for _, thread in ipairs(threads) do sent_total = sent_total + thread:get("sent") end
  io.write(string.format(
    '{JSON_MARKER}{{"duration_us": %d, "requests": %d, "bytes": %d, "sent": %d, '
    .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, '
    .. '"errors": {{"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}}}\\n',
    summary.duration, summary.requests, summary.bytes, sent_total,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


WRK_THREADS = 1
"""One wrk thread: it reaches the ceiling that ``--ceiling`` reports with a fraction of one
core, and leaves the rest of a 2-core machine to the server under test (a second thread
measured lower ceilings here, as it competes with the server for the cores)."""


def run_wrk(
    target: Target,
    concurrency: int,
    duration_s: float,
    *,
    users: int = DEFAULT_USERS,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    server_pids: list[int] | None = None,
) -> LoadResult:
    """One wrk run against ``target``; raises if wrk fails or overruns its time bound.

    With ``server_pids``, also the CPU time the server's process trees used in the run and
    the share of the machine that other processes took meanwhile."""
    check_loopback(target.url)
    wrk = ensure_wrk()
    threads = WRK_THREADS
    per_thread = max(1, max_requests // threads)
    seconds = max(1, round(duration_s))
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(target, users, per_thread))
        cmd = [
            wrk,
            f"--threads={threads}",
            f"--connections={concurrency}",
            f"--duration={seconds}s",
            f"--timeout={REQUEST_TIMEOUT_S}s",
            f"--script={script}",
            target.url,
        ]
        before = CpuSnapshot.take(server_pids or [])
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
        server_cpu_s, other_share = cpu_between(before, CpuSnapshot.take(server_pids or []))
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith(JSON_MARKER)]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    raw = json.loads(lines[-1][len(JSON_MARKER) :])
    duration = raw["duration_us"] / 1e6
    completed = raw["requests"]
    return LoadResult(
        concurrency=concurrency,
        duration_s=duration,
        requests=completed,
        requests_per_s=completed / duration if duration else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        bytes_per_request=raw["bytes"] / completed if completed else 0.0,
        errors=raw["errors"],
        capped=raw["sent"] >= per_thread * threads,
        server_cpu_s=server_cpu_s if server_pids else None,
        other_cpu_share=other_share,
    )


def measure(
    target: Target,
    concurrency: int,
    duration_s: float,
    warmup_s: float = 2.0,
    **kwargs: Any,
) -> LoadResult:
    """A short unrecorded warm-up (JIT, caches, connection set-up), then the measured run."""
    if warmup_s > 0:
        run_wrk(target, concurrency, warmup_s, **kwargs)
    return run_wrk(target, concurrency, duration_s, **kwargs)


# ---------------------------------------------------------------------------------------
# The harness's own ceiling
# ---------------------------------------------------------------------------------------

TRIVIAL_SERVER_JS = """
const http = require('http');
const server = http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': 2});
  res.end('ok');
});
server.keepAliveTimeout = 15000;
server.listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def trivial_server() -> Iterator[tuple[str, int]]:
    """A Node http server that answers 'ok' to everything: about the least work a server
    can do per request, so wrk against it shows what the harness itself can reach.
    Yields its base URL and pid."""
    port = free_port()
    proc = subprocess.Popen(
        ["node", "-e", TRIVIAL_SERVER_JS, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the trivial Node server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def measure_ceiling(concurrencies: list[int], duration_s: float) -> dict[int, LoadResult]:
    """wrk against the trivial server at each concurrency, same settings as a real run."""
    with trivial_server() as (base, pid):
        target = Target(base, "/ping?user={user}&plan={plan}")
        return {
            c: measure(target, c, duration_s, warmup_s=1.0, server_pids=[pid])
            for c in concurrencies
        }


# ---------------------------------------------------------------------------------------


def describe(result: LoadResult) -> str:
    """One line per run, for people."""
    flags = []
    if result.server_cpu_s is not None:
        flags.append(f"server CPU {result.server_cpu_s / result.duration_s:.0%} of a core")
    if result.other_cpu_share is not None and result.other_cpu_share > 0.05:
        flags.append(f"other processes took {result.other_cpu_share:.0%} of the machine")
    if result.error_count:
        flags.append(f"errors {result.errors}")
    if result.capped:
        flags.append("CAPPED at max_requests")
    return (
        f"c={result.concurrency:<3} {result.requests_per_s:>10,.0f} req/s  "
        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"{result.requests:,} requests in {result.duration_s:.1f} s  "
        f"{result.bytes_per_request:,.0f} B/response" + (f"  ({'; '.join(flags)})" if flags else "")
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="full URL on 127.0.0.1/localhost/::1")
    parser.add_argument("-X", "--method", default="GET")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'K: V'")
    parser.add_argument("-d", "--data", default=None, help="request body ({user}, {plan})")
    parser.add_argument("-c", "--concurrency", type=int, action="append", metavar="N")
    parser.add_argument("--duration", type=float, default=10.0, metavar="S")
    parser.add_argument("--warmup", type=float, default=2.0, metavar="S")
    parser.add_argument("--users", type=int, default=DEFAULT_USERS)
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS)
    parser.add_argument("--ceiling", action="store_true", help="wrk vs a trivial Node server")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.ceiling and not args.url:
        parser.error("give a URL or --ceiling")
    if not 1 <= args.duration <= 300:
        parser.error("--duration must be between 1 and 300 seconds")
    args.concurrency = args.concurrency or [16, 64]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.ceiling:
        results = measure_ceiling(args.concurrency, args.duration)
    else:
        parts = urlsplit(args.url)
        base = f"{parts.scheme}://{parts.netloc}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(h.split(":", 1) for h in args.header)
        target = Target(
            base,
            path or "/",
            args.method.upper(),
            {k.strip(): v.strip() for k, v in headers.items()},
            args.data,
        )
        results = {
            c: measure(
                target,
                c,
                args.duration,
                args.warmup,
                users=args.users,
                max_requests=args.max_requests,
            )
            for c in args.concurrency
        }
    if args.json:
        print(json.dumps({c: r.as_dict() for c, r in results.items()}, indent=2))
    else:
        for result in results.values():
            print(describe(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
