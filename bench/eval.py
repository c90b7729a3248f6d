#!/usr/bin/env python3
"""Evaluation throughput: Shipwise side by side with peer feature-flag SDKs.

One process, one machine, the same contexts and the same three scenarios for
every SDK:

  S1  a flag that is on for everyone
  S2  a 25% rollout, sticky on userId
  S3  on for plan IN [beta, internal], otherwise the same kind of 25% rollout

Contexts are ``user-0`` ... ``user-{N-1}``; user i has plan
``["free", "pro", "beta", "internal"][i % 4]``.

Every SDK runs fully offline: flags come from a locally built document, no
SDK is allowed to open a socket (the script patches ``socket`` to refuse and
record any attempt, and fails if one happened).

Each adapter below starts one client holding the three flags and builds the
SDK's own context objects *before* timing, as an application would hold them.
The timed loop is the same for every SDK::

    for ctx in contexts:
        call(key, ctx)

where ``call`` is the SDK's bound boolean-evaluation method when its
signature already is ``(flag, context)``, otherwise a one-line wrapper.

Usage::

    .venv/bin/python bench/eval.py                       # 100,000 contexts, best of 5
    .venv/bin/python bench/eval.py --contexts 20000 --repeats 2
    .venv/bin/python bench/eval.py --json
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
if (SRC / "shipwise").is_dir():
    # Benchmark the code in this checkout, not whatever may be installed.
    sys.path.insert(0, str(SRC))

PLANS = ("free", "pro", "beta", "internal")
TARGET_PLANS = ["beta", "internal"]
ROLLOUT_PERCENT = 25
AGREEMENT_POINTS = 1.0  # max spread of the on-fraction between SDKs, in percentage points


@dataclass(frozen=True)
class Scenario:
    sid: str
    flag: str
    title: str
    expected: float  # the on-fraction the scenario is designed for


SCENARIOS = (
    Scenario("S1", "s1", "on for everyone", 1.0),
    Scenario("S2", "s2", "25% rollout sticky on userId", 0.25),
    Scenario("S3", "s3", "plan IN [beta, internal], else 25% rollout", 0.5 + 0.5 * 0.25),
)

Users = list[tuple[str, str]]  # (user id, plan)


def make_users(n: int) -> Users:
    return [(f"user-{i}", PLANS[i % 4]) for i in range(n)]


# ---------------------------------------------------------------------------
# No network, ever.  Patched at the Python level (not an audit hook: audit
# hooks would also fire on every ctypes call and slow down the yggdrasil engine).
# ---------------------------------------------------------------------------

NETWORK_ATTEMPTS: list[str] = []


def forbid_network() -> None:
    def refuse(what: str, detail: Any) -> None:
        NETWORK_ATTEMPTS.append(f"{what} {detail!r}")
        raise OSError(f"bench/eval.py: network access is disabled ({what} {detail!r})")

    def getaddrinfo(host, *args, **kwargs):
        refuse("getaddrinfo", host)

    def create_connection(address, *args, **kwargs):
        refuse("create_connection", address)

    def connect(self, address):
        refuse("connect", address)

    def connect_ex(self, address):
        refuse("connect_ex", address)

    socket.getaddrinfo = getaddrinfo
    socket.create_connection = create_connection
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


# ---------------------------------------------------------------------------
# Flag documents, one per SDK format, all expressing the same three scenarios.
# ---------------------------------------------------------------------------


def unleash_features_document() -> dict[str, Any]:
    """Unleash client-API features document; used by Shipwise and UnleashClient."""

    def rollout(flag: str) -> dict[str, Any]:
        return {
            "name": "flexibleRollout",
            "parameters": {"rollout": str(ROLLOUT_PERCENT), "stickiness": "userId", "groupId": flag},
            "constraints": [],
        }

    def feature(flag: str, strategies: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": flag, "type": "release", "enabled": True, "strategies": strategies}

    return {
        "version": 1,
        "features": [
            feature("s1", [{"name": "default", "parameters": {}, "constraints": []}]),
            feature("s2", [rollout("s2")]),
            feature(
                "s3",
                [
                    {
                        "name": "default",
                        "parameters": {},
                        "constraints": [
                            {"contextName": "plan", "operator": "IN", "values": list(TARGET_PLANS)}
                        ],
                    },
                    rollout("s3"),
                ],
            ),
        ],
        "segments": [],
    }


def launchdarkly_flags_document() -> dict[str, Any]:
    """LaunchDarkly file-data-source document (full server-side flag JSON)."""

    def flag(key: str, fallthrough: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "key": key,
            "version": 1,
            "on": True,
            "variations": [True, False],
            "offVariation": 1,
            "fallthrough": fallthrough,
            "targets": [],
            "contextTargets": [],
            "rules": rules,
            "prerequisites": [],
            "salt": key,
            "trackEvents": False,
            "trackEventsFallthrough": False,
            "clientSide": False,
            "deleted": False,
        }

    rollout = {
        "rollout": {
            "bucketBy": "key",
            "variations": [
                {"variation": 0, "weight": ROLLOUT_PERCENT * 1000},
                {"variation": 1, "weight": (100 - ROLLOUT_PERCENT) * 1000},
            ],
        }
    }
    plan_rule = {
        "id": "s3-plans",
        "variation": 0,
        "trackEvents": False,
        "clauses": [
            {"contextKind": "user", "attribute": "plan", "op": "in",
             "values": list(TARGET_PLANS), "negate": False}
        ],
    }
    return {
        "flags": {
            "s1": flag("s1", {"variation": 0}, []),
            "s2": flag("s2", rollout, []),
            "s3": flag("s3", rollout, [plan_rule]),
        }
    }


def flagsmith_environment_document() -> dict[str, Any]:
    """Flagsmith environment document: features off by default, segment overrides turn them on."""

    def feature_state(fid: int, name: str, enabled: bool, priority: int | None = None) -> dict[str, Any]:
        state: dict[str, Any] = {
            "django_id": fid * 100 + (0 if priority is None else priority + 1),
            "featurestate_uuid": f"00000000-0000-0000-0000-{fid:06d}{0 if priority is None else priority + 1:06d}",
            "feature": {"id": fid, "name": name, "type": "STANDARD"},
            "enabled": enabled,
            "feature_state_value": None,
            "multivariate_feature_state_values": [],
        }
        if priority is not None:
            state["feature_segment"] = {"priority": priority}
        return state

    def segment(sid: int, name: str, condition: dict[str, str], overrides: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": sid,
            "name": name,
            "rules": [{"type": "ALL", "conditions": [condition], "rules": []}],
            "feature_states": overrides,
        }

    split = {"operator": "PERCENTAGE_SPLIT", "property_": "", "value": str(ROLLOUT_PERCENT)}
    in_plans = {"operator": "IN", "property_": "plan", "value": ",".join(TARGET_PLANS)}
    return {
        "api_key": "bench-offline-environment",
        "name": "bench",
        "updated_at": "2025-01-01T00:00:00+00:00",
        "feature_states": [
            feature_state(1, "s1", True),
            feature_state(2, "s2", False),
            feature_state(3, "s3", False),
        ],
        "project": {
            "id": 1,
            "name": "bench",
            "segments": [
                segment(10, "s2-rollout-25", split, [feature_state(2, "s2", True, priority=0)]),
                segment(20, "s3-beta-internal", in_plans, [feature_state(3, "s3", True, priority=0)]),
                segment(21, "s3-rollout-25", split, [feature_state(3, "s3", True, priority=1)]),
            ],
        },
        "identity_overrides": [],
    }


def growthbook_features() -> dict[str, Any]:
    rollout = {"force": True, "coverage": ROLLOUT_PERCENT / 100, "hashAttribute": "id"}
    return {
        "s1": {"defaultValue": True},
        "s2": {"defaultValue": False, "rules": [dict(rollout)]},
        "s3": {
            "defaultValue": False,
            "rules": [
                {"condition": {"plan": {"$in": list(TARGET_PLANS)}}, "force": True},
                dict(rollout),
            ],
        },
    }


# ---------------------------------------------------------------------------
# SDK adapters.  Each starts a client with the three flags, builds its context
# objects, and returns ``call(flag, context) -> bool`` plus the contexts.
# ---------------------------------------------------------------------------


@dataclass
class Sdk:
    name: str
    call: Callable[[str, Any], Any]  # call(flag, context) -> truthy when the feature is on
    make_context: Callable[[str, str], Any]  # (user id, plan) -> the SDK's context object
    config: str  # one line: how the SDK is configured
    close: Callable[[], None] = lambda: None
    contexts: list[Any] = field(default_factory=list)


def setup_shipwise() -> Sdk:
    from shipwise import Client

    client = Client.from_unleash(unleash_features_document())
    return Sdk(
        name="Shipwise",
        call=client.is_enabled,
        make_context=lambda uid, plan: {"userId": uid, "properties": {"plan": plan}},
        config="Client.from_unleash(<same Unleash features document>); exposure counting ON (client default)",
    )


def setup_unleash() -> Sdk:
    from UnleashClient import UnleashClient
    from UnleashClient.cache import BaseCache
    from UnleashClient.constants import FEATURES_URL
    from UnleashClient.utils import InstanceAllowType

    class BootstrapMemoryCache(BaseCache):
        """In-memory cache pre-seeded with the features document (no disk, no fetch)."""

        def __init__(self, features: dict[str, Any]) -> None:
            self._data: dict[str, Any] = {FEATURES_URL: json.dumps(features)}
            self.bootstrapped = True

        def set(self, key: str, value: Any) -> None:
            self._data[key] = value

        def mset(self, data: dict) -> None:
            self._data.update(data)

        def get(self, key: str, default: Any | None = None) -> Any:
            return self._data.get(key, default)

        def exists(self, key: str) -> bool:
            return key in self._data

        def destroy(self) -> None:
            self._data.clear()

    client = UnleashClient(
        url="http://127.0.0.1:9/api",  # never contacted: no registration, metrics or fetch
        app_name="shipwise-bench",
        instance_id="shipwise-bench",
        refresh_interval=24 * 3600,  # the offline connector only re-reads the in-memory cache
        disable_metrics=True,
        disable_registration=True,
        cache=BootstrapMemoryCache(unleash_features_document()),
        multiple_instance_mode=InstanceAllowType.SILENTLY_ALLOW,
    )
    client.initialize_client(fetch_toggles=False)
    return Sdk(
        name="UnleashClient",
        call=client.is_enabled,
        make_context=lambda uid, plan: {"userId": uid, "properties": {"plan": plan}},
        config=(
            "bootstrapped in-memory BaseCache + initialize_client(fetch_toggles=False), "
            "disable_metrics, disable_registration (yggdrasil engine still counts metrics in-process)"
        ),
        close=client.destroy,
    )


def setup_launchdarkly() -> Sdk:
    from ldclient.client import LDClient
    from ldclient.config import Config
    from ldclient.context import Context
    from ldclient.integrations import Files

    tmp = tempfile.TemporaryDirectory(prefix="shipwise-bench-ld-")
    path = os.path.join(tmp.name, "flags.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(launchdarkly_flags_document(), fh)

    config = Config(
        sdk_key="bench-offline",
        update_processor_class=Files.new_data_source(paths=[path], auto_update=False),
        send_events=False,
        diagnostic_opt_out=True,
    )
    client = LDClient(config=config, start_wait=5)
    if not client.is_initialized():
        raise RuntimeError("LaunchDarkly client did not initialise from the flag file")

    variation = client.variation

    def call(key: str, ctx: Any, _variation=variation) -> Any:
        return _variation(key, ctx, False)

    def close() -> None:
        client.close()
        tmp.cleanup()

    return Sdk(
        name="launchdarkly",
        call=call,
        make_context=lambda uid, plan: Context.builder(uid).set("plan", plan).build(),
        config="Files.new_data_source(<temp JSON>) as update_processor_class, send_events=False, diagnostic_opt_out",
        close=close,
    )


def setup_flagsmith() -> Sdk:
    from flagsmith import Flagsmith

    class LocalEnvironmentHandler:
        """Offline handler serving the locally built environment document."""

        def __init__(self, document: dict[str, Any]) -> None:
            self._document = document

        def get_environment(self) -> dict[str, Any]:
            return self._document

    client = Flagsmith(
        offline_mode=True,
        offline_handler=LocalEnvironmentHandler(flagsmith_environment_document()),
    )
    get_identity_flags = client.get_identity_flags

    def call(key: str, ctx: Any, _get=get_identity_flags) -> Any:
        return _get(ctx[0], ctx[1]).is_feature_enabled(key)

    return Sdk(
        name="flagsmith",
        call=call,
        make_context=lambda uid, plan: (uid, {"plan": plan}),  # identifier, traits
        config=(
            "offline_mode + offline_handler (local environment document); "
            "get_identity_flags(id, {plan}).is_feature_enabled(flag)"
        ),
    )


def setup_growthbook() -> Sdk:
    from growthbook import GrowthBook

    gb = GrowthBook(features=growthbook_features())  # no api_host/client_key: nothing to fetch
    set_attributes = gb.set_attributes
    is_on = gb.is_on

    def call(key: str, ctx: Any, _set=set_attributes, _is_on=is_on) -> Any:
        _set(ctx)
        return _is_on(key)

    return Sdk(
        name="growthbook",
        call=call,
        make_context=lambda uid, plan: {"id": uid, "plan": plan},  # attributes
        config=(
            "one GrowthBook(features=...) instance; set_attributes({id, plan}) then is_on(flag) "
            "(faster than one prebuilt instance per user, measured)"
        ),
        close=gb.destroy,
    )


ADAPTERS: tuple[tuple[str, Callable[[], Sdk]], ...] = (
    ("Shipwise", setup_shipwise),
    ("UnleashClient", setup_unleash),
    ("launchdarkly", setup_launchdarkly),
    ("flagsmith", setup_flagsmith),
    ("growthbook", setup_growthbook),
)

DISTRIBUTIONS = (
    ("shipwise", "shipwise"),
    ("UnleashClient", "UnleashClient"),
    ("yggdrasil-engine", "yggdrasil_engine"),
    ("launchdarkly-server-sdk", "ldclient"),
    ("flagsmith", "flagsmith"),
    ("flagsmith-flag-engine", "flag_engine"),
    ("growthbook", "growthbook"),
)


def check_imports() -> None:
    """Every SDK must import; a missing peer is an error, never a silent skip."""
    missing = []
    for dist, module in DISTRIBUTIONS:
        try:
            __import__(module)
        except Exception as exc:
            missing.append(f"  {module} ({dist}): {type(exc).__name__}: {exc}")
    if missing:
        sys.stderr.write(
            "bench/eval.py: cannot import every SDK; install the bench extra "
            "(pip install -e '.[bench]').\n" + "\n".join(missing) + "\n"
        )
        raise SystemExit(2)


def sdk_versions() -> dict[str, str]:
    versions = {}
    for dist, module in DISTRIBUTIONS:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            mod = sys.modules.get(module)
            version = getattr(mod, "__version__", None)
            versions[dist] = f"{version} (not installed as a distribution)" if version else "unknown"
    return versions


# ---------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------


def time_loop(call: Callable[[str, Any], Any], key: str, contexts: list[Any]) -> int:
    """One timed pass; returns nanoseconds.  Kept minimal: locals only, result discarded."""
    perf = time.perf_counter_ns
    start = perf()
    for ctx in contexts:
        call(key, ctx)
    return perf() - start


def count_on(call: Callable[[str, Any], Any], key: str, contexts: list[Any]) -> int:
    """Untimed pass (also the warm-up): how many contexts get the feature."""
    on = 0
    for ctx in contexts:
        if call(key, ctx):
            on += 1
    return on


def _noop(key: str, ctx: Any) -> bool:
    return False


@dataclass
class Row:
    sdk: str
    best_ns: int
    on: int
    n: int
    runs_ns: list[int] = field(default_factory=list)

    @property
    def us_per_eval(self) -> float:
        return self.best_ns / self.n / 1000

    @property
    def evals_per_s(self) -> float:
        return self.n / (self.best_ns / 1e9)

    @property
    def fraction(self) -> float:
        return self.on / self.n


def progress(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def run_scenario(scenario: Scenario, sdks: list[Sdk], repeats: int) -> list[Row]:
    rows = {sdk.name: Row(sdk.name, 0, 0, len(sdk.contexts)) for sdk in sdks}
    for sdk in sdks:
        progress(f"  {scenario.sid} {sdk.name}: warm-up / on-fraction pass")
        rows[sdk.name].on = count_on(sdk.call, scenario.flag, sdk.contexts)
    # Repeats are interleaved across SDKs so slow drift on the machine hits all of them alike.
    for r in range(repeats):
        for sdk in sdks:
            gc.collect()
            ns = time_loop(sdk.call, scenario.flag, sdk.contexts)
            rows[sdk.name].runs_ns.append(ns)
        progress(f"  {scenario.sid} repeat {r + 1}/{repeats} done")
    for row in rows.values():
        row.best_ns = min(row.runs_ns)
    return [rows[sdk.name] for sdk in sdks]


def harness_overhead_us(contexts: list[Any], repeats: int) -> float:
    best = min(time_loop(_noop, "s1", contexts) for _ in range(max(repeats, 3)))
    return best / len(contexts) / 1000


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def summarise(scenario: Scenario, rows: list[Row]) -> dict[str, Any]:
    ship = next(r for r in rows if r.sdk == "Shipwise")
    peers = [r for r in rows if r.sdk != "Shipwise"]
    fastest = min(peers, key=lambda r: r.best_ns)
    fractions = [r.fraction for r in rows]
    spread_points = (max(fractions) - min(fractions)) * 100
    return {
        "scenario": scenario.sid,
        "flag": scenario.flag,
        "title": scenario.title,
        "expected_fraction": scenario.expected,
        "shipwise_us_per_eval": ship.us_per_eval,
        "fastest_peer": fastest.sdk,
        "fastest_peer_us_per_eval": fastest.us_per_eval,
        "speedup_vs_fastest_peer": fastest.best_ns / ship.best_ns,
        "fraction_spread_points": spread_points,
        "agree": spread_points <= AGREEMENT_POINTS,
        "results": [
            {
                "sdk": r.sdk,
                "evals_per_s": r.evals_per_s,
                "us_per_eval": r.us_per_eval,
                "on_fraction": r.fraction,
                "on": r.on,
                "contexts": r.n,
                "relative_to_shipwise": r.best_ns / ship.best_ns,
                "runs_us_per_eval": [ns / r.n / 1000 for ns in r.runs_ns],
            }
            for r in rows
        ],
    }


def table(headers: list[str], rows: list[list[str]], align: str) -> str:
    """Plain-text table; align is one char per column, 'l' or 'r'."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), rule] + [fmt(r) for r in rows])


def print_text(meta: dict[str, Any], summaries: list[dict[str, Any]]) -> None:
    n = meta["contexts"]
    print(f"Shipwise evaluation benchmark: {n:,} contexts x {len(summaries)} scenarios, "
          f"best of {meta['repeats']} timed passes per SDK and scenario")
    print()
    print("Summary: Shipwise vs the fastest peer (lower us/eval is better)")
    print(table(
        ["Scenario", "Shipwise us/eval", "Fastest peer", "Peer us/eval", "Shipwise speed-up"],
        [[f"{s['scenario']} {s['title']}",
          f"{s['shipwise_us_per_eval']:.3f}",
          s["fastest_peer"],
          f"{s['fastest_peer_us_per_eval']:.3f}",
          f"{s['speedup_vs_fastest_peer']:.1f}x"] for s in summaries],
        "lrlrr",
    ))
    for s in summaries:
        print()
        print(f"{s['scenario']}: {s['title']}  (flag {s['flag']!r}, designed on-fraction "
              f"{s['expected_fraction'] * 100:.1f}%, SDK spread {s['fraction_spread_points']:.2f} points)")
        print(table(
            ["SDK", "evals/s", "us/eval", "on-fraction", "vs Shipwise"],
            [[r["sdk"],
              f"{r['evals_per_s']:,.0f}",
              f"{r['us_per_eval']:.3f}",
              f"{r['on_fraction'] * 100:.2f}%",
              "1.0x (baseline)" if r["sdk"] == "Shipwise" else f"{r['relative_to_shipwise']:.1f}x slower"]
             for r in s["results"]],
            "lrrrr",
        ))
    print()
    print("Environment")
    print(f"  Python    {meta['python']} ({meta['implementation']})")
    print(f"  Platform  {meta['platform']}; {meta['cpu_count']} CPUs")
    for dist, version in meta["versions"].items():
        print(f"  {dist:<24}{version}")
    print()
    print("Method")
    for line in meta["method"]:
        print(f"  - {line}")
    print()
    print("How each SDK is configured")
    for name, config in meta["configs"].items():
        print(f"  {name:<14}{config}")
    print()
    print("Start-up (client + flags / context objects), ms")
    for name, (start_ms, ctx_ms) in meta["startup_ms"].items():
        print(f"  {name:<14}{start_ms:8.1f} / {ctx_ms:8.1f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contexts", type=int, default=100_000, metavar="N",
                        help="number of contexts user-0..user-(N-1) (default 100000)")
    parser.add_argument("--repeats", type=int, default=5, metavar="R",
                        help="timed passes per SDK and scenario; the best is reported (default 5)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = parser.parse_args(argv)
    if args.contexts < 1:
        parser.error("--contexts must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    forbid_network()
    check_imports()

    users = make_users(args.contexts)
    sdks: list[Sdk] = []
    startup: dict[str, tuple[float, float]] = {}
    for name, setup in ADAPTERS:
        progress(f"starting {name}")
        t0 = time.perf_counter_ns()
        sdk = setup()
        t1 = time.perf_counter_ns()
        make = sdk.make_context
        sdk.contexts = [make(uid, plan) for uid, plan in users]  # built before any timing
        t2 = time.perf_counter_ns()
        sdks.append(sdk)
        startup[name] = ((t1 - t0) / 1e6, (t2 - t1) / 1e6)

    overhead = harness_overhead_us(sdks[0].contexts, args.repeats)
    summaries = []
    for scenario in SCENARIOS:
        progress(f"scenario {scenario.sid}: {scenario.title}")
        summaries.append(summarise(scenario, run_scenario(scenario, sdks, args.repeats)))

    for sdk in sdks:
        sdk.close()

    meta = {
        "contexts": args.contexts,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": sdk_versions(),
        "configs": {sdk.name: sdk.config for sdk in sdks},
        "startup_ms": startup,
        "harness_overhead_us_per_eval": overhead,
        "shipwise_exposure_counting": True,
        "network_attempts": list(NETWORK_ATTEMPTS),
        "method": [
            "every SDK's context/user objects are built BEFORE timing, as an application holds them",
            "timed loop: `for ctx in contexts: call(flag, ctx)`; time.perf_counter_ns; best of "
            f"{args.repeats} passes, interleaved across SDKs; gc.collect() before each pass, GC left on",
            "Shipwise is measured with exposure counting ON (the client default; every evaluation is counted)",
            "on-fraction comes from a separate untimed pass that also serves as warm-up",
            f"harness overhead (loop + one Python call to a no-op) ~{overhead:.3f} us/eval, "
            "included in every number; peers called through a wrapper pay ~1 extra Python call",
            "all SDKs run offline from local documents; sockets are patched to refuse and record any "
            f"connection attempt (attempts: {len(NETWORK_ATTEMPTS)})",
        ],
    }

    disagreements = [s for s in summaries if not s["agree"]]
    if args.json:
        print(json.dumps({"meta": meta, "scenarios": summaries,
                          "agree": not disagreements}, indent=2))
    else:
        print_text(meta, summaries)

    status = 0
    for s in disagreements:
        detail = ", ".join(f"{r['sdk']} {r['on_fraction'] * 100:.2f}%" for r in s["results"])
        line = (f"DISAGREE {s['scenario']}: on-fractions span {s['fraction_spread_points']:.2f} points "
                f"(> {AGREEMENT_POINTS:g}): {detail}")
        print(line, file=sys.stderr if args.json else sys.stdout)
        status = 1
    if NETWORK_ATTEMPTS:
        print(f"NETWORK: {len(NETWORK_ATTEMPTS)} connection attempt(s) were refused: "
              + "; ".join(NETWORK_ATTEMPTS[:5]), file=sys.stderr)
        status = status or 3
    return status


if __name__ == "__main__":
    raise SystemExit(main())
