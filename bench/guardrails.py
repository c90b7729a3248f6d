#!/usr/bin/env python3
"""Guardrails under continuous monitoring: simulated rollouts through the real plan code.

Every simulated rollout runs the product's own decisions: ``rollout.start``, then at each
check ``rollout.judge_all`` (which calls ``verdicts.judge`` and ``verdicts.sample_ratio``)
and ``rollout.assess``, following the plan's state and ``next_check_at``. Nothing of the
decision logic is re-implemented here; the script only makes traffic and counts outcomes.

The plan: 10% (7 days) -> 25% (7 d) -> 50% (7 d) -> 100%, then a 24 h bake; one guardrail,
"error rate" (a rate metric, higher is worse, ``Compare(max_worse)``, action rollback); the
plan's alpha 1% (split over the three comparing steps); the sample-ratio check on.
Guardrails are checked every simulated minute (``--every``) for up to four weeks.

Traffic: each day's active users are a fresh draw from a large population, each user is
one exposure that day, spread evenly over the day's minutes. A user gets the feature when
its bucket (uniform in [0, 1)) is below the step's percentage, so users who had it at 10%
keep it at 25%; an exposed user errors with probability p (its own draw, fixed per user,
so scenarios on the same traffic see the same users and the same errors).

Scenarios:

  AA      1% errors with and without, 20,000 users/day: false rollbacks (target <= 1%)
  AA-z    the same traffic, the error-rate verdict replaced by a naive fixed-horizon
          two-proportion z-test (p < 0.05, worse) at every check
  2x      1% without, 2% with the feature, 20,000/day: caught before leaving the 10% step
          (target >= 95%), users exposed before the rollback, time to rollback
  low     A/A at 200 users/day, policy "hold when inconclusive" (the default)
  low-adv the same traffic, policy "advance when inconclusive"

    .venv/bin/python bench/guardrails.py             # 1,000 runs per scenario: ~20 min, 2 cores
    .venv/bin/python bench/guardrails.py --every 15  # checks every 15 minutes: ~2.5 min
    .venv/bin/python bench/guardrails.py --runs 100  # quick look
    .venv/bin/python bench/guardrails.py --scenarios 2x,low --runs 200

Why 20 minutes: the default run makes about 114 million checks (4 weeks of minutes, five
scenarios, 1,000 runs). At 20,000 users/day one check costs about 32 us: rollout.assess
7 us, rollout.judge_all 17.5 us (verdicts.judge 9, verdicts.sample_ratio 4.6) and this
harness about 5 us (the observation objects, numpy to list); at 200/day, where the
observations rarely change and judge_all is reused, about 10 us, mostly assess.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
if (SRC / "shipwise").is_dir():
    sys.path.insert(0, str(SRC))  # benchmark the code in this checkout

import _guardrail_latency  # noqa: E402
from shipwise.domain import rollout, verdicts  # noqa: E402
from shipwise.domain.guardrails import (  # noqa: E402
    ArmStats,
    Compare,
    Comparison,
    Direction,
    Guardrail,
    GuardrailAction,
    Judgement,
    Verdict,
)
from shipwise.domain.sequential import (  # noqa: E402
    SAMPLE_RATIO_CONCENTRATION,
    two_proportion_z_test,
)

METRIC = "error rate"
DAYS = 28
MINUTES = DAYS * 1440
T0 = datetime(2026, 3, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
STEP_DAYS = 7
BAKE = timedelta(hours=24)
PLAN_ALPHA = 0.01
DEFAULT_MAX_WORSE = 0.5
NAIVE_P = 0.05

TARGET_FALSE_ROLLBACK = 0.01
TARGET_CAUGHT = 0.95
TARGET_LATENCY_MS = 2000.0


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    users_per_day: int
    p_without: float
    p_with: float
    traffic: int  # scenarios with the same number run on the same simulated users
    naive: bool = False
    advance_when_inconclusive: bool = False


SCENARIOS = (
    Scenario("AA", "A/A 1% vs 1%, 20,000/day, always-valid", 20_000, 0.01, 0.01, 1),
    Scenario("AA-z", "same traffic, naive z-test p<0.05", 20_000, 0.01, 0.01, 1, naive=True),
    Scenario("2x", "1% -> 2% with the feature, 20,000/day", 20_000, 0.01, 0.02, 2),
    Scenario("low", "A/A, 200/day, hold when inconclusive", 200, 0.01, 0.01, 3),
    Scenario(
        "low-adv",
        "A/A, 200/day, advance when inconclusive",
        200,
        0.01,
        0.01,
        3,
        advance_when_inconclusive=True,
    ),
)
BY_KEY = {s.key: s for s in SCENARIOS}


@dataclass(frozen=True)
class Outcome:
    status: str  # the plan's status at the end (or when it stopped)
    step: int  # the step it ended at
    minute: int  # minutes from the start to the end (or to the horizon)
    treated: float  # exposures with the feature, all steps, up to the end
    left_first_step: bool


# --- the plan --------------------------------------------------------------------------


@cache
def make_spec(max_worse: float, every_minutes: int, advance: bool) -> rollout.PlanSpec:
    week = timedelta(days=STEP_DAYS)
    every = timedelta(minutes=every_minutes)
    return rollout.PlanSpec(
        steps=(
            rollout.Step(10, min_duration=week),
            rollout.Step(25, min_duration=week),
            rollout.Step(50, min_duration=week),
            rollout.Step(100, min_duration=timedelta(0)),
        ),
        guardrails=(
            Guardrail(
                METRIC, Direction.HIGHER_IS_WORSE, Compare(max_worse), GuardrailAction.ROLLBACK
            ),
        ),
        watch=rollout.Watch(close_every=every, then_every=every, bake=BAKE),
        alpha=PLAN_ALPHA,
        when_inconclusive=(
            rollout.WhenInconclusive.ADVANCE if advance else rollout.WhenInconclusive.HOLD
        ),
        sample_ratio_check=True,
    )


# --- traffic ---------------------------------------------------------------------------


@cache
def minute_offsets(users_per_day: int) -> np.ndarray:
    """Cumulative exposures at each minute boundary over the horizon (length MINUTES+1):
    each day's users spread evenly over its 1,440 minutes."""
    day = (np.arange(1441, dtype=np.int64) * users_per_day) // 1440
    per_minute = np.tile(np.diff(day), DAYS)
    return np.concatenate(([0], np.cumsum(per_minute)))


class Traffic:
    """One run's users: a bucket (who gets the feature) and a fate (who errors) each."""

    def __init__(self, scenario: Scenario, seed: int, run: int) -> None:
        self.offsets = minute_offsets(scenario.users_per_day)
        rng = np.random.default_rng([seed, scenario.traffic, run])
        total = int(self.offsets[-1])
        self.bucket = rng.random(total)
        self.fate = rng.random(total)
        self.p_with, self.p_without = scenario.p_with, scenario.p_without

    def step(self, start: int, share: float) -> tuple[list[float], ...]:
        """Cumulative (treated, control, treated errors, control errors) from minute
        ``start``: element k counts the exposures of minutes start .. start+k-1."""
        first = int(self.offsets[start])
        bucket, fate = self.bucket[first:], self.fate[first:]
        treated = bucket < share
        err_t = treated & (fate < self.p_with)
        err_c = ~treated & (fate < self.p_without)
        ends = self.offsets[start:] - first

        def cumulative(mask: np.ndarray) -> np.ndarray:
            running = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
            at_ends: np.ndarray = running[ends]
            return at_ends

        n_t = cumulative(treated)
        return (
            n_t.astype(float).tolist(),
            (ends - n_t).astype(float).tolist(),
            cumulative(err_t).astype(float).tolist(),
            cumulative(err_c).astype(float).tolist(),
        )


# --- one rollout -----------------------------------------------------------------------


def naive_judgement(treated: float, t_err: float, control: float, c_err: float) -> Judgement:
    """What a fixed-horizon dashboard says at every look: worse when p < 0.05."""
    test = two_proportion_z_test(t_err, treated, c_err, control)
    if test.z > 0 and test.p_value < NAIVE_P:
        return Judgement(Verdict.REGRESSED, f"{METRIC}: z = {test.z:.2f}, p = {test.p_value:.3f}")
    return Judgement(Verdict.HEALTHY, f"{METRIC}: p = {test.p_value:.3f}")


@cache
def check_times() -> tuple[datetime, ...]:
    return tuple(T0 + i * MINUTE for i in range(MINUTES + 1))


def simulate(scenario: Scenario, seed: int, run: int, max_worse: float, every: int) -> Outcome:
    spec = make_spec(max_worse, every, scenario.advance_when_inconclusive)
    times = check_times()
    traffic = Traffic(scenario, seed, run)
    state = rollout.start(spec, T0)
    start = 0
    n_t, n_c, e_t, e_c = traffic.step(0, spec.steps[0].percentage / 100)
    treated_before = 0.0  # exposures with the feature in the steps already left
    left_first = False
    next_minute = 1
    last_key: tuple[float, ...] | None = None
    judgements: dict[str, Judgement] = {}
    for minute in range(1, MINUTES + 1):
        if minute < next_minute:
            continue
        k = minute - start
        treated, control, t_err, c_err = n_t[k], n_c[k], e_t[k], e_c[k]
        # judge_all depends on the state only through the step: same inputs, same answer.
        key = (state.step, treated, control, t_err, c_err)
        if key != last_key:
            observations = {
                METRIC: Comparison("rate", ArmStats(treated, t_err), ArmStats(control, c_err))
            }
            judgements = rollout.judge_all(spec, state, observations, (treated, control))
            if scenario.naive and judgements[METRIC].verdict is not Verdict.NOT_APPLICABLE:
                judgements[METRIC] = naive_judgement(treated, t_err, control, c_err)
            last_key = key
        assessment = rollout.assess(spec, state, judgements, times[minute], treated=treated)
        state = assessment.state
        if assessment.decision.kind in (rollout.DecisionKind.ADVANCE, rollout.DecisionKind.BAKE):
            treated_before += treated
            left_first = True
            start = minute
            share = spec.steps[state.step].percentage / 100
            n_t, n_c, e_t, e_c = traffic.step(start, share)
            treated = 0.0
        if state.status not in rollout.WATCHED or assessment.next_check_at is None:
            return Outcome(
                state.status.value, state.step, minute, treated_before + treated, left_first
            )
        next_minute = (assessment.next_check_at - T0) // MINUTE
    last = n_t[MINUTES - start]
    return Outcome(state.status.value, state.step, MINUTES, treated_before + last, left_first)


def run_chunk(task: tuple[str, int, list[int], float, int]) -> tuple[str, list[Outcome]]:
    key, seed, runs, max_worse, every = task
    scenario = BY_KEY[key]
    return key, [simulate(scenario, seed, run, max_worse, every) for run in runs]


# --- numbers and words -----------------------------------------------------------------


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval for a proportion: the Monte Carlo error of a rate."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def rate_with_ci(hits: int, n: int) -> str:
    lo, hi = wilson(hits, n)
    return f"{pct(hits / n)} ({hits:,}/{n:,}; 95% CI {pct(lo)}..{pct(hi)})"


def hours(minutes: float) -> str:
    return f"{minutes / 60:.1f} h"


def median_or_dash(values: list[float], show: Callable[[float], str]) -> str:
    return show(statistics.median(values)) if values else "-"


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


@dataclass(frozen=True)
class Summary:
    scenario: Scenario
    runs: int
    rolled_back: int
    rolled_back_first_step: int
    paused: int
    released: int
    holding_first_step: int
    left_first_step: int
    rollback_minutes: list[float]
    rollback_treated: list[float]
    release_minutes: list[float]


def summarise(scenario: Scenario, outcomes: list[Outcome]) -> Summary:
    back = [o for o in outcomes if o.status == rollout.PlanStatus.ROLLED_BACK]
    return Summary(
        scenario=scenario,
        runs=len(outcomes),
        rolled_back=len(back),
        rolled_back_first_step=sum(1 for o in back if o.step == 0),
        paused=sum(1 for o in outcomes if o.status == rollout.PlanStatus.PAUSED),
        released=sum(1 for o in outcomes if o.status == rollout.PlanStatus.RELEASED),
        holding_first_step=sum(1 for o in outcomes if o.status in rollout.WATCHED and o.step == 0),
        left_first_step=sum(1 for o in outcomes if o.left_first_step),
        rollback_minutes=[o.minute for o in back],
        rollback_treated=[o.treated for o in back],
        release_minutes=[o.minute for o in outcomes if o.status == rollout.PlanStatus.RELEASED],
    )


def latency_line(latency: _guardrail_latency.Latency, missed: list[str]) -> tuple[str, str]:
    if latency.max_ms >= TARGET_LATENCY_MS:
        missed.append(f"breach to flag off took {latency.max_ms:,.0f} ms >= 2 s")
    return (
        "breach -> flag off in an SDK (target < 2 s)",
        f"median {latency.median_ms:,.0f} ms, p95 {latency.p95_ms:,.0f} ms, "
        f"max {latency.max_ms:,.0f} ms ({latency.runs} breaches, real server)",
    )


def print_settings(args: argparse.Namespace) -> None:
    alpha_step = make_spec(args.max_worse, args.every, False).step_alpha
    tau2 = verdicts.compare_tau2(args.max_worse, 0.01)
    print("Settings")
    print(
        f"  alpha: {PLAN_ALPHA:.0%} per plan, {alpha_step:.4%} per comparing step "
        "(always-valid 99.67% intervals); naive test: p < 0.05 with the feature worse"
    )
    print(
        f"  max_worse: {args.max_worse:.0%}; tau = max(max_worse, 5%) x control rate, so "
        f"tau2 = {tau2:.3g} at a 1% control rate"
    )
    print(
        f"  sample-ratio check: beta-binomial Bayes factor, concentration "
        f"{SAMPLE_RATIO_CONCENTRATION:g}, mismatch (pause) at 1/alpha"
    )
    print(
        f"  plan: 10% / 25% / 50% for {STEP_DAYS} days each, then 100% and a "
        f"{BAKE.total_seconds() / 3600:.0f} h bake; hold when inconclusive unless the "
        "scenario says advance; seed "
        f"{args.seed}"
    )
    print()


def report(
    summaries: dict[str, Summary],
    args: argparse.Namespace,
    seconds: float,
    workers: int,
    latency: _guardrail_latency.Latency | None = None,
) -> int:
    every = "every minute" if args.every == 1 else f"every {args.every} minutes"
    n_runs = next(iter(summaries.values())).runs
    print(
        f"Shipwise guardrail benchmark: {n_runs:,} simulated rollouts per scenario, "
        f"up to {DAYS} days each, guardrails checked {every}"
    )
    print()
    print("Key results")
    missed: list[str] = []
    lines: list[tuple[str, str]] = []
    if "AA" in summaries:
        s = summaries["AA"]
        lines.append(
            ("A/A false rollback, always-valid (target <= 1%)", rate_with_ci(s.rolled_back, s.runs))
        )
        lines.append((f"A/A plans released within {DAYS} days", rate_with_ci(s.released, s.runs)))
        if s.rolled_back / s.runs > TARGET_FALSE_ROLLBACK:
            missed.append(f"AA false rollback {pct(s.rolled_back / s.runs)} > 1%")
    if "AA-z" in summaries:
        s = summaries["AA-z"]
        lines.append(
            ("A/A false rollback, naive z-test every check", rate_with_ci(s.rolled_back, s.runs))
        )
    if "2x" in summaries:
        s = summaries["2x"]
        caught = s.rolled_back_first_step
        lines.append(
            ("1% -> 2% caught at the 10% step (target >= 95%)", rate_with_ci(caught, s.runs))
        )
        lines.append(("  median time to rollback", median_or_dash(s.rollback_minutes, hours)))
        lines.append(
            (
                "  median exposures with the feature before it",
                median_or_dash(s.rollback_treated, lambda x: f"{x:,.0f}"),
            )
        )
        if caught / s.runs < TARGET_CAUGHT:
            missed.append(f"2x caught at 10% {pct(caught / s.runs)} < 95%")
    for key in ("low", "low-adv"):
        if key in summaries:
            s = summaries[key]
            lines.append(
                (
                    f"{s.scenario.title}",
                    f"at 10% after {DAYS} d {pct(s.holding_first_step / s.runs)}, "
                    f"advanced {pct(s.left_first_step / s.runs)}, "
                    f"released {pct(s.released / s.runs)}, "
                    f"rolled back {pct(s.rolled_back / s.runs)}",
                )
            )
    if latency is not None:
        lines.append(latency_line(latency, missed))
    width = max(len(label) for label, _ in lines) if lines else 0
    for label, value in lines:
        print(f"  {label + ':':<{width + 1}}  {value}")
    print()
    rows = []
    for s in summaries.values():
        rows.append(
            [
                s.scenario.key,
                s.scenario.title,
                f"{s.runs:,}",
                pct(s.rolled_back / s.runs),
                pct(s.rolled_back_first_step / s.runs),
                pct(s.paused / s.runs),
                pct(s.released / s.runs),
                pct(s.holding_first_step / s.runs),
                pct(s.left_first_step / s.runs),
                median_or_dash(s.rollback_minutes, hours),
                median_or_dash(s.rollback_treated, lambda x: f"{x:,.0f}"),
                median_or_dash(s.release_minutes, lambda m: f"{m / 1440:.1f} d"),
            ]
        )
    print(
        table(
            [
                "",
                "scenario",
                "runs",
                "rolled back",
                "back at 10%",
                "paused (SRM)",
                "released",
                "still at 10%",
                "left 10%",
                "median to rollback",
                "exposed before rollback",
                "median to release",
            ],
            rows,
            "llrrrrrrrrrr",
        )
    )
    print()
    print_settings(args)
    print("Method")
    for note in (
        "each check calls rollout.judge_all (verdicts.judge + verdicts.sample_ratio) and "
        "rollout.assess, and follows the state and next_check_at they return",
        "judge_all is pure in (plan, step, observations): when none of them changed since "
        "the last check (low traffic: most minutes), the last judgements are reused",
        "rates with 95% Wilson intervals (Monte Carlo error); medians over the runs that "
        "rolled back; 'exposed' = exposures with the feature, all steps, up to the rollback",
        "users: a fresh draw each day, one exposure each, evenly over the minutes; a user has "
        "the feature when its uniform bucket < the step's share (10% users keep it at 25%)",
        "breach -> off: a `shipwise serve` process (runner on, real time), a plan with an "
        "error-rate guardrail, an SDK client on the stream; timed from posting the "
        "breaching batch of tracked errors to the client evaluating the flag off",
    ):
        print(f"  - {note}")
    print()
    print("Environment")
    print(
        f"  Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.platform()}, {os.cpu_count()} CPUs, {workers} worker processes, "
        f"numpy {np.__version__}"
    )
    print(f"  wall time {seconds:.0f} s ({seconds / 60:.1f} min)")
    for problem in missed:
        print(f"MISSED TARGET: {problem}")
    return 1 if missed else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="rollouts per scenario")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--scenarios",
        default=",".join(BY_KEY),
        help=f"comma-separated subset of {', '.join(BY_KEY)}",
    )
    parser.add_argument("--max-worse", type=float, default=DEFAULT_MAX_WORSE)
    parser.add_argument("--every", type=int, default=1, help="minutes between checks")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=10, help="rollouts per task")
    parser.add_argument(
        "--latency-runs",
        type=int,
        default=20,
        help="breaches timed against a real server (0: skip)",
    )
    args = parser.parse_args(argv)
    unknown = [k for k in args.scenarios.split(",") if k not in BY_KEY]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(BY_KEY)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keys = args.scenarios.split(",")
    tasks = [
        (
            key,
            args.seed,
            list(range(first, min(first + args.chunk, args.runs))),
            args.max_worse,
            args.every,
        )
        for key in keys
        for first in range(0, args.runs, args.chunk)
    ]
    results: dict[str, list[Outcome]] = {key: [] for key in keys}
    started = time.perf_counter()
    workers = max(1, min(args.workers, len(tasks)))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for done, (key, outcomes) in enumerate(pool.imap_unordered(run_chunk, tasks), 1):
            results[key].extend(outcomes)
            if done % max(1, len(tasks) // 20) == 0:
                elapsed = time.perf_counter() - started
                print(f"  {done}/{len(tasks)} tasks, {elapsed:.0f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    summaries = {key: summarise(BY_KEY[key], results[key]) for key in keys}
    latency = None
    if args.latency_runs > 0:
        print("  timing breaches against a real server ...", file=sys.stderr, flush=True)
        latency = _guardrail_latency.measure(args.latency_runs)
    return report(summaries, args, seconds, workers, latency)


if __name__ == "__main__":
    raise SystemExit(main())
