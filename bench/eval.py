#!/usr/bin/env python3
"""Evaluation throughput: Shipwise side by side with peer feature-flag SDKs.

One process, one machine, the same contexts and the same three scenarios for every SDK:

  S1  a flag that is on for everyone
  S2  a 25% rollout, sticky on userId
  S3  on for plan IN [beta, internal], otherwise a 25% rollout

Contexts are ``user-0`` ... ``user-{N-1}``; user i has plan
``["free", "pro", "beta", "internal"][i % 4]``.

Every SDK runs offline from a locally built document.  No SDK may open a socket: the
script patches ``socket`` to refuse and record any attempt, and fails if one happened.

Each adapter starts one client holding the three flags and says how to build the SDK's
own context object; all context objects are built *before* timing, as an application
holds them.  The timed loop is the same for every SDK::

    for ctx in contexts:
        call(flag, ctx)

where ``call`` is the SDK's bound boolean-evaluation method when its signature already
is ``(flag, context)`` (Shipwise, UnleashClient), otherwise a one-line wrapper.

    .venv/bin/python bench/eval.py                    # 100,000 contexts, best of 5
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
    sys.path.insert(0, str(SRC))  # benchmark the code in this checkout

PLANS = ("free", "pro", "beta", "internal")
TARGET_PLANS = ("beta", "internal")
ROLLOUT_PERCENT = 25
AGREEMENT_POINTS = 1.0  # allowed spread of the on-fraction across SDKs, percentage points


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


def make_users(n: int) -> list[tuple[str, str]]:
    """(user id, plan) for user-0 .. user-(n-1)."""
    return [(f"user-{i}", PLANS[i % 4]) for i in range(n)]


# ---------------------------------------------------------------------------------------
# No network.  Patched at the Python level rather than with an audit hook: an audit hook
# also fires on every ctypes call and would slow down UnleashClient's engine.
# ---------------------------------------------------------------------------------------

NETWORK_ATTEMPTS: list[str] = []


def forbid_network() -> None:
    def refuse(what: str, target: Any) -> None:
        NETWORK_ATTEMPTS.append(f"{what} {target!r}")
        raise OSError(f"bench/eval.py: network access is disabled ({what} {target!r})")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        refuse("getaddrinfo", host)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        refuse("create_connection", address)

    def connect(self: socket.socket, address: Any) -> Any:
        refuse("connect", address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        refuse("connect_ex", address)

    socket.getaddrinfo = getaddrinfo
    socket.create_connection = create_connection
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------------------
# Flag documents: one per SDK format, all expressing the same three scenarios.
# ---------------------------------------------------------------------------------------


def unleash_features_document() -> dict[str, Any]:
    """Unleash client-API features document, used by both Shipwise and UnleashClient."""

    def rollout(flag: str) -> dict[str, Any]:
        parameters = {"rollout": str(ROLLOUT_PERCENT), "stickiness": "userId", "groupId": flag}
        return {"name": "flexibleRollout", "parameters": parameters, "constraints": []}

    in_plans = {"contextName": "plan", "operator": "IN", "values": list(TARGET_PLANS)}

    def feature(flag: str, *strategies: dict[str, Any]) -> dict[str, Any]:
        return {"name": flag, "type": "release", "enabled": True, "strategies": list(strategies)}

    return {
        "version": 1,
        "features": [
            feature("s1", {"name": "default", "parameters": {}, "constraints": []}),
            feature("s2", rollout("s2")),
            feature(
                "s3",
                {"name": "default", "parameters": {}, "constraints": [in_plans]},
                rollout("s3"),
            ),
        ],
        "segments": [],
    }


def launchdarkly_flags_document() -> dict[str, Any]:
    """LaunchDarkly file data source document: full server-side flag JSON under "flags"."""

    def flag(key: str, fallthrough: dict[str, Any], *rules: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": key,
            "version": 1,
            "on": True,
            "variations": [True, False],
            "offVariation": 1,
            "fallthrough": fallthrough,
            "targets": [],
            "contextTargets": [],
            "rules": list(rules),
            "prerequisites": [],
            "salt": key,
            "trackEvents": False,
            "trackEventsFallthrough": False,
            "clientSide": False,
            "deleted": False,
        }

    weights = [ROLLOUT_PERCENT * 1000, (100 - ROLLOUT_PERCENT) * 1000]  # of 100,000
    rollout = {
        "rollout": {
            "bucketBy": "key",
            "variations": [{"variation": v, "weight": w} for v, w in enumerate(weights)],
        }
    }
    plan_clause = {
        "contextKind": "user",
        "attribute": "plan",
        "op": "in",
        "values": list(TARGET_PLANS),
        "negate": False,
    }
    plan_rule = {"id": "s3-plans", "variation": 0, "trackEvents": False, "clauses": [plan_clause]}
    return {
        "flags": {
            "s1": flag("s1", {"variation": 0}),
            "s2": flag("s2", rollout),
            "s3": flag("s3", rollout, plan_rule),
        }
    }


def flagsmith_environment_document() -> dict[str, Any]:
    """Flagsmith environment document.

    s1 is on in the environment; s2 and s3 are off and turned on by segment overrides:
    s2 by a 25% PERCENTAGE_SPLIT segment, s3 by a ``plan IN beta,internal`` segment
    (priority 0) and, failing that, its own 25% PERCENTAGE_SPLIT segment (priority 1).
    """
    state_ids = iter(range(1, 100))

    def feature_state(
        fid: int, name: str, enabled: bool, priority: int | None = None
    ) -> dict[str, Any]:
        state_id = next(state_ids)
        state: dict[str, Any] = {
            "django_id": state_id,
            "featurestate_uuid": f"00000000-0000-4000-8000-{state_id:012d}",
            "feature": {"id": fid, "name": name, "type": "STANDARD"},
            "enabled": enabled,
            "feature_state_value": None,
            "multivariate_feature_state_values": [],
        }
        if priority is not None:
            state["feature_segment"] = {"priority": priority}
        return state

    def segment(
        sid: int, name: str, condition: dict[str, str], override: dict[str, Any]
    ) -> dict[str, Any]:
        rules = [{"type": "ALL", "conditions": [condition], "rules": []}]
        return {"id": sid, "name": name, "rules": rules, "feature_states": [override]}

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
                segment(10, "s2-rollout", split, feature_state(2, "s2", True, priority=0)),
                segment(20, "s3-plans", in_plans, feature_state(3, "s3", True, priority=0)),
                segment(21, "s3-rollout", split, feature_state(3, "s3", True, priority=1)),
            ],
        },
        "identity_overrides": [],
    }


def growthbook_features() -> dict[str, Any]:
    """GrowthBook features dict: rollout rules (force + coverage) hashed on the "id" attribute."""
    rollout = {"force": True, "coverage": ROLLOUT_PERCENT / 100, "hashAttribute": "id"}
    plans_rule = {"condition": {"plan": {"$in": list(TARGET_PLANS)}}, "force": True}
    return {
        "s1": {"defaultValue": True},
        "s2": {"defaultValue": False, "rules": [dict(rollout)]},
        "s3": {"defaultValue": False, "rules": [plans_rule, dict(rollout)]},
    }


# ---------------------------------------------------------------------------------------
# SDK adapters.  Each starts a client holding the three flags and returns an Sdk:
# ``call(flag, context)`` evaluates one flag, ``make_context(user_id, plan)`` builds the
# SDK's context object.
# ---------------------------------------------------------------------------------------


@dataclass
class Sdk:
    name: str
    call: Callable[[str, Any], Any]  # call(flag, context) -> truthy when the feature is on
    make_context: Callable[[str, str], Any]  # (user id, plan) -> the SDK's context object
    config: str  # how the SDK is configured, one line
    close: Callable[[], Any] = lambda: None
    contexts: list[Any] = field(default_factory=list)
    # Shipwise only: flag -> (yes, no, errors) exposure totals counted by the client.
    exposures: Callable[[], dict[str, tuple[int, int, int]] | None] = lambda: None


def setup_shipwise() -> Sdk:
    from shipwise import Client

    client = Client.from_unleash(unleash_features_document())

    def exposures() -> dict[str, tuple[int, int, int]] | None:
        read = getattr(client, "exposures", None)
        if read is None:
            return None
        return {name: (e.yes, e.no, e.errors) for name, e in read().items()}

    return Sdk(
        name="Shipwise",
        call=client.is_enabled,  # exposure counting left at its default: ON
        make_context=lambda uid, plan: {"userId": uid, "properties": {"plan": plan}},
        config="Client.from_unleash(<the Unleash features document>); "
        "exposure counting ON (client default)",
        close=getattr(client, "close", lambda: None),
        exposures=exposures,
    )


def setup_unleash() -> Sdk:
    from UnleashClient import UnleashClient
    from UnleashClient.cache import BaseCache
    from UnleashClient.constants import FEATURES_URL
    from UnleashClient.utils import InstanceAllowType

    class BootstrapMemoryCache(BaseCache):
        """In-memory cache pre-seeded with the features document: no disk, no fetch."""

        def __init__(self, features: dict[str, Any]) -> None:
            self._data: dict[str, Any] = {FEATURES_URL: json.dumps(features)}
            self.bootstrapped = True

        def set(self, key: str, value: Any) -> None:
            self._data[key] = value

        def mset(self, data: dict[str, Any]) -> None:
            self._data.update(data)

        def get(self, key: str, default: Any = None) -> Any:
            return self._data.get(key, default)

        def exists(self, key: str) -> bool:
            return key in self._data

        def destroy(self) -> None:
            self._data.clear()

    client = UnleashClient(
        url="http://127.0.0.1:9/api",  # never contacted: no registration, metrics or fetch
        app_name="shipwise-bench",
        instance_id="shipwise-bench",
        refresh_interval=24 * 3600,  # the offline connector only re-reads the cache anyway
        disable_metrics=True,
        disable_registration=True,
        cache=BootstrapMemoryCache(unleash_features_document()),
        multiple_instance_mode=InstanceAllowType.SILENTLY_ALLOW,
    )
    client.initialize_client(fetch_toggles=False)  # OfflineConnector: cache only
    if not client.feature_definitions():
        raise RuntimeError("UnleashClient did not load the bootstrapped features")
    return Sdk(
        name="UnleashClient",
        call=client.is_enabled,
        make_context=lambda uid, plan: {"userId": uid, "properties": {"plan": plan}},
        config="bootstrapped in-memory BaseCache + initialize_client(fetch_toggles=False), "
        "disable_metrics, disable_registration",
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
        sdk_key="bench-offline",  # never sent anywhere
        update_processor_class=Files.new_data_source(paths=[path], auto_update=False),
        send_events=False,
        diagnostic_opt_out=True,
    )
    client = LDClient(config=config, start_wait=5)
    if not client.is_initialized():
        raise RuntimeError("LaunchDarkly client did not initialise from the flag file")

    def call(key: str, ctx: Any, _variation: Callable[..., Any] = client.variation) -> Any:
        return _variation(key, ctx, False)

    def close() -> None:
        client.close()
        tmp.cleanup()

    return Sdk(
        name="launchdarkly",
        call=call,
        make_context=lambda uid, plan: Context.builder(uid).set("plan", plan).build(),
        config="Files.new_data_source(<temp JSON file>) as update_processor_class, "
        "send_events=False, diagnostic_opt_out; variation(flag, Context, False)",
        close=close,
    )


def setup_flagsmith() -> Sdk:
    from flagsmith import Flagsmith

    class LocalEnvironmentHandler:
        """Offline handler serving the locally built environment document."""

        def __init__(self, document: dict[str, Any]) -> None:
            self._document = document

        def get_environment(self) -> Any:  # the EnvironmentModel TypedDict
            return self._document

    client = Flagsmith(
        offline_mode=True,
        offline_handler=LocalEnvironmentHandler(flagsmith_environment_document()),
    )

    def call(key: str, ctx: Any, _get: Callable[..., Any] = client.get_identity_flags) -> Any:
        return _get(ctx[0], ctx[1]).is_feature_enabled(key)

    return Sdk(
        name="flagsmith",
        call=call,
        make_context=lambda uid, plan: (uid, {"plan": plan}),  # identifier, traits
        config="offline_mode + offline_handler (local environment document); "
        "get_identity_flags(id, traits).is_feature_enabled(flag)",
    )


def setup_growthbook() -> Sdk:
    from growthbook import GrowthBook

    gb = GrowthBook(features=growthbook_features())  # no api_host/client_key: nothing to fetch

    def call(
        key: str,
        ctx: Any,
        _set: Callable[..., Any] = gb.set_attributes,
        _is_on: Callable[..., Any] = gb.is_on,
    ) -> Any:
        _set(ctx)
        return _is_on(key)

    return Sdk(
        name="growthbook",
        call=call,
        make_context=lambda uid, plan: {"id": uid, "plan": plan},  # attributes
        config="one GrowthBook(features=...) instance; set_attributes({id, plan}) then is_on(flag)",
        close=gb.destroy,
    )


ADAPTERS = (setup_shipwise, setup_unleash, setup_launchdarkly, setup_flagsmith, setup_growthbook)

DISTRIBUTIONS = (  # (distribution, import name); all are required
    ("shipwise", "shipwise"),
    ("UnleashClient", "UnleashClient"),
    ("yggdrasil-engine", "yggdrasil_engine"),
    ("launchdarkly-server-sdk", "ldclient"),
    ("flagsmith", "flagsmith"),
    ("flagsmith-flag-engine", "flag_engine"),
    ("growthbook", "growthbook"),
)


def check_imports() -> None:
    """A peer SDK that cannot be imported is an error, never a silent skip."""
    failures = []
    for dist, module in DISTRIBUTIONS:
        try:
            __import__(module)
        except Exception as exc:
            failures.append(f"  {module} ({dist}): {type(exc).__name__}: {exc}")
    if failures:
        sys.stderr.write(
            "bench/eval.py: cannot import every SDK (the peers are in the `bench` extra: "
            "pip install -e '.[bench]'):\n" + "\n".join(failures) + "\n"
        )
        raise SystemExit(2)


def sdk_versions() -> dict[str, str]:
    versions = {}
    for dist, module in DISTRIBUTIONS:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = getattr(sys.modules.get(module), "__version__", None)
            versions[dist] = f"{version} (source checkout)" if version else "unknown"
    return versions


# ---------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------


def time_loop(call: Callable[[str, Any], Any], key: str, contexts: list[Any]) -> int:
    """One timed pass over all contexts, in nanoseconds.  Locals only; results discarded."""
    clock = time.perf_counter_ns
    start = clock()
    for ctx in contexts:
        call(key, ctx)
    return clock() - start


def decisions(call: Callable[[str, Any], Any], key: str, contexts: list[Any]) -> list[bool]:
    """Untimed pass, doubling as warm-up: which contexts get the feature."""
    return [bool(call(key, ctx)) for ctx in contexts]


def _noop(key: str, ctx: Any) -> bool:
    return False


def harness_overhead_us(contexts: list[Any]) -> float:
    """Cost of the timed loop itself with a no-op call, per evaluation."""
    return min(time_loop(_noop, "s1", contexts) for _ in range(3)) / len(contexts) / 1000


@dataclass
class Row:
    sdk: str
    n: int
    decisions: list[bool] = field(default_factory=list)
    runs_ns: list[int] = field(default_factory=list)

    @property
    def on(self) -> int:
        return sum(self.decisions)

    @property
    def best_ns(self) -> int:
        return min(self.runs_ns)

    @property
    def us_per_eval(self) -> float:
        return self.best_ns / self.n / 1000

    @property
    def evals_per_s(self) -> float:
        return self.n * 1e9 / self.best_ns

    @property
    def fraction(self) -> float:
        return self.on / self.n


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_scenario(scenario: Scenario, sdks: list[Sdk], repeats: int) -> list[Row]:
    rows = [Row(sdk.name, len(sdk.contexts)) for sdk in sdks]
    for sdk, row in zip(sdks, rows, strict=True):
        row.decisions = decisions(sdk.call, scenario.flag, sdk.contexts)
    # Passes are interleaved across SDKs, so drift on the machine hits them all alike.
    for r in range(repeats):
        for sdk, row in zip(sdks, rows, strict=True):
            gc.collect()
            row.runs_ns.append(time_loop(sdk.call, scenario.flag, sdk.contexts))
        progress(f"  {scenario.sid} pass {r + 1}/{repeats} done")
    return rows


def summarise(scenario: Scenario, rows: list[Row]) -> dict[str, Any]:
    ship = next(r for r in rows if r.sdk == "Shipwise")
    unleash = next(r for r in rows if r.sdk == "UnleashClient")
    fastest = min((r for r in rows if r is not ship), key=lambda r: r.best_ns)
    # Same document, same MurmurHash3 stickiness: the two should pick the very same users.
    same = sum(a == b for a, b in zip(ship.decisions, unleash.decisions, strict=True))
    fractions = [r.fraction for r in rows]
    spread = (max(fractions) - min(fractions)) * 100
    return {
        "scenario": scenario.sid,
        "flag": scenario.flag,
        "title": scenario.title,
        "expected_fraction": scenario.expected,
        "shipwise_us_per_eval": ship.us_per_eval,
        "fastest_peer": fastest.sdk,
        "fastest_peer_us_per_eval": fastest.us_per_eval,
        "speedup_vs_fastest_peer": fastest.best_ns / ship.best_ns,
        "fraction_spread_points": spread,
        "agree": spread <= AGREEMENT_POINTS,
        "shipwise_same_as_unleash": same,
        "results": [
            {
                "sdk": r.sdk,
                "evals_per_s": r.evals_per_s,
                "us_per_eval": r.us_per_eval,
                "on_fraction": r.fraction,
                "on": r.on,
                "contexts": r.n,
                "slowdown_vs_shipwise": r.best_ns / ship.best_ns,
                "passes_us_per_eval": [ns / r.n / 1000 for ns in r.runs_ns],
            }
            for r in rows
        ],
    }


def check_exposures(
    totals: dict[str, tuple[int, int, int]] | None, summaries: list[dict[str, Any]], passes: int
) -> list[str]:
    """Shipwise must have counted every evaluation it was asked for, none as an error."""
    if totals is None:
        return []
    problems = []
    for s in summaries:
        ship = next(r for r in s["results"] if r["sdk"] == "Shipwise")
        yes, no, errors = totals.get(s["flag"], (0, 0, 0))
        want_total, want_yes = ship["contexts"] * passes, ship["on"] * passes
        if errors or yes + no != want_total or yes != want_yes:
            problems.append(
                f"{s['flag']}: counted yes={yes:,} no={no:,} errors={errors:,}; expected "
                f"{want_total:,} evaluations, {want_yes:,} yes"
            )
    return problems


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]], align: str) -> str:
    """Plain-text table; ``align`` has one 'l' or 'r' per column."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = (
            c.ljust(w) if a == "l" else c.rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def print_text(meta: dict[str, Any], summaries: list[dict[str, Any]]) -> None:
    print(
        f"Shipwise evaluation benchmark: {meta['contexts']:,} contexts, "
        f"best of {meta['repeats']} timed passes per SDK and scenario"
    )
    print()
    print("Summary: Shipwise vs the fastest peer (us/eval, lower is better)")
    print(
        table(
            ["Scenario", "Shipwise us/eval", "Fastest peer", "Peer us/eval", "Speed-up"],
            [
                [
                    f"{s['scenario']} {s['title']}",
                    f"{s['shipwise_us_per_eval']:.3f}",
                    s["fastest_peer"],
                    f"{s['fastest_peer_us_per_eval']:.3f}",
                    f"{s['speedup_vs_fastest_peer']:.1f}x",
                ]
                for s in summaries
            ],
            "lrlrr",
        )
    )
    for s in summaries:
        print()
        print(
            f"{s['scenario']}: {s['title']} (flag {s['flag']!r}, designed for "
            f"{s['expected_fraction'] * 100:.1f}% on)"
        )
        print(
            f"  on-fraction spread across SDKs {s['fraction_spread_points']:.2f} points "
            f"(allowed {AGREEMENT_POINTS:g}); Shipwise and UnleashClient decide alike for "
            f"{s['shipwise_same_as_unleash']:,} of {meta['contexts']:,} contexts"
        )
        print(
            table(
                ["SDK", "evals/s", "us/eval", "on-fraction", "vs Shipwise"],
                [
                    [
                        r["sdk"],
                        f"{r['evals_per_s']:,.0f}",
                        f"{r['us_per_eval']:.3f}",
                        f"{r['on_fraction'] * 100:.2f}%",
                        "baseline"
                        if r["sdk"] == "Shipwise"
                        else f"{r['slowdown_vs_shipwise']:.1f}x slower",
                    ]
                    for r in s["results"]
                ],
                "lrrrr",
            )
        )
    print()
    print("Environment")
    print(
        f"  Python {meta['python']} ({meta['implementation']}) on {meta['platform']}, "
        f"{meta['cpu_count']} CPUs"
    )
    for dist, version in meta["versions"].items():
        where = f"  ({meta['shipwise_path']})" if dist == "shipwise" else ""
        print(f"  {dist:<25}{version}{where}")
    print()
    print("Method")
    for note in meta["method"]:
        print(f"  - {note}")
    print()
    print("SDK configuration, and start-up time (client + flags / all context objects)")
    for name, config in meta["configs"].items():
        client_ms, contexts_ms = meta["startup_ms"][name]
        print(f"  {name:<14}{client_ms:7.1f} ms / {contexts_ms:7.1f} ms  {config}")


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--contexts",
        type=int,
        default=100_000,
        metavar="N",
        help="contexts user-0 .. user-(N-1) (default: 100000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        metavar="R",
        help="timed passes per SDK and scenario; the best is reported (default: 5)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of tables"
    )
    args = parser.parse_args(argv)
    if args.contexts < 1:
        parser.error("--contexts must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    forbid_network()
    check_imports()

    users = make_users(args.contexts)
    sdks: list[Sdk] = []
    startup_ms: dict[str, tuple[float, float]] = {}
    for setup in ADAPTERS:
        t0 = time.perf_counter_ns()
        sdk = setup()
        t1 = time.perf_counter_ns()
        make = sdk.make_context
        sdk.contexts = [make(uid, plan) for uid, plan in users]  # before any timing
        t2 = time.perf_counter_ns()
        startup_ms[sdk.name] = ((t1 - t0) / 1e6, (t2 - t1) / 1e6)
        sdks.append(sdk)
        progress(f"started {sdk.name}")

    overhead = harness_overhead_us(sdks[0].contexts)
    summaries = []
    for scenario in SCENARIOS:
        progress(f"{scenario.sid}: {scenario.title}")
        summaries.append(summarise(scenario, run_scenario(scenario, sdks, args.repeats)))
    exposures = sdks[0].exposures()  # Shipwise; read before close
    passes = args.repeats + 1  # timed passes + the untimed on-fraction pass
    exposure_problems = check_exposures(exposures, summaries, passes)
    for sdk in sdks:
        sdk.close()

    if exposures is None:
        exposure_note = "Shipwise Client has no exposures() reader: counting not verified"
    else:
        counted = ", ".join(
            f"{flag} {yes + no:,} (errors {err})" for flag, (yes, no, err) in exposures.items()
        )
        exposure_note = (
            f"Shipwise exposure totals after the run: {counted}; expected "
            f"{passes} x {args.contexts:,} per flag"
        )

    meta = {
        "contexts": args.contexts,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": sdk_versions(),
        "shipwise_path": str(Path(sys.modules["shipwise"].__file__ or "?").parent),
        "configs": {sdk.name: sdk.config for sdk in sdks},
        "startup_ms": startup_ms,
        "shipwise_exposure_counting": True,
        "shipwise_exposures": (
            None
            if exposures is None
            else {f: {"yes": y, "no": n, "errors": e} for f, (y, n, e) in exposures.items()}
        ),
        "harness_overhead_us_per_eval": overhead,
        "network_attempts": list(NETWORK_ATTEMPTS),
        "method": [
            "every SDK's context/user objects are built BEFORE timing, as an application "
            "holds them; one client per SDK holds all three flags",
            "Shipwise is measured with exposure counting ON (client default: every "
            "evaluation is counted)",
            exposure_note,
            f"timed loop `for ctx in contexts: call(flag, ctx)`, time.perf_counter_ns, best of "
            f"{args.repeats} passes interleaved across SDKs; gc.collect() before each pass, "
            "GC stays enabled",
            "on-fraction from one extra untimed pass per SDK and scenario (also the warm-up)",
            f"loop overhead with a no-op call: {overhead:.3f} us/eval, included in every "
            "number; launchdarkly, flagsmith and growthbook go through a one-line wrapper "
            "(one more Python call of about that size)",
            "offline: local documents only; sockets patched to refuse and record any "
            f"connection attempt ({len(NETWORK_ATTEMPTS)} attempted)",
        ],
    }

    disagreements = [s for s in summaries if not s["agree"]]
    if args.json:
        print(
            json.dumps({"meta": meta, "scenarios": summaries, "agree": not disagreements}, indent=2)
        )
    else:
        print_text(meta, summaries)

    status = 0
    out = sys.stderr if args.json else sys.stdout
    for s in disagreements:
        detail = ", ".join(f"{r['sdk']} {r['on_fraction'] * 100:.2f}%" for r in s["results"])
        print(
            f"DISAGREE {s['scenario']}: on-fractions span {s['fraction_spread_points']:.2f} "
            f"points (allowed {AGREEMENT_POINTS:g}): {detail}",
            file=out,
        )
        status = 1
    for problem in exposure_problems:
        print(f"EXPOSURES: Shipwise did not count every evaluation: {problem}", file=out)
        status = status or 4
    if NETWORK_ATTEMPTS:
        print(
            f"NETWORK: {len(NETWORK_ATTEMPTS)} connection attempt(s) refused: "
            + "; ".join(NETWORK_ATTEMPTS[:5]),
            file=out,
        )
        status = status or 3
    return status


if __name__ == "__main__":
    raise SystemExit(main())
