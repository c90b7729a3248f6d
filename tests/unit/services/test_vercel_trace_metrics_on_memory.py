"""The ``vercel`` metric source with trace drains on the memory store: request durations
are the trace drain's server spans only; the 5xx share counts the log drain's requests,
or the spans when the team drains traces alone, never both, so a request drained both
ways counts once; a comparison of deploys reads both arms from the same drain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.services.world import SteppingClock

from shipwise.domain.guardrails import DEPLOYS, ArmStats, Comparison, Observation, Reading
from shipwise.server.ports import MetricDefinition, MetricWindow
from shipwise.server.ports.memory import MemoryStore
from shipwise.server.ports.vercel import (
    LOG_REQUEST,
    REQUEST,
    TRACE_SPAN,
    DrainRecord,
    VercelDeployment,
)
from shipwise.server.services.vercel_metrics import read_vercel

DEPLOYED = datetime(2026, 3, 2, 9, tzinfo=UTC)
STEP = DEPLOYED + timedelta(minutes=5)
NOW = STEP + timedelta(hours=6)
PROJECT_ID = 1
WINDOW = MetricWindow("shop", "production", "checkout", STEP, NOW)
OLD, NEW = "a" * 40, "b" * 40


def logged(minutes: int, status: int, deployment: str = "dpl_new") -> DrainRecord:
    at = STEP + timedelta(minutes=minutes)
    return DrainRecord(REQUEST, at, LOG_REQUEST, None, status, "/api", deployment, "production")


def traced(
    minutes: int, millis: float, status: int | None = 200, deployment: str = "dpl_new"
) -> DrainRecord:
    at = STEP + timedelta(minutes=minutes)
    return DrainRecord(REQUEST, at, TRACE_SPAN, millis, status, "/api", deployment, "production")


def read(records: list[DrainRecord], **settings: Any) -> Observation:
    store = MemoryStore(SteppingClock(NOW))
    with store.transaction() as tx:
        tx.add_deploy(PROJECT_ID, "production", OLD, True, "ci", DEPLOYED - timedelta(days=2))
        tx.add_deploy(PROJECT_ID, "production", NEW, True, "ci", DEPLOYED)
        for deployment, commit in (("dpl_old", OLD), ("dpl_new", NEW)):
            link = VercelDeployment(PROJECT_ID, deployment, "production", commit, DEPLOYED)
            tx.link_vercel_deployment(link)
        tx.add_drain_records(PROJECT_ID, records, NOW)
    definition = MetricDefinition(PROJECT_ID, "m", "vercel", settings)
    with store.read() as tx:
        return read_vercel(tx, PROJECT_ID, definition, WINDOW)


def test_request_duration__p95__reads_the_trace_spans_durations_only() -> None:
    records = [traced(i, float(10 * (i + 1))) for i in range(20)]
    records += [logged(i, 200) for i in range(50)]  # log lines carry no duration
    assert read(records, measure="request-duration") == Reading(190.0, 20.0)
    assert read(records, measure="request-duration", quantile=0.5) == Reading(100.0, 20.0)


def test_request_duration__with_log_drains_only__is_no_data() -> None:
    assert read([logged(i, 200) for i in range(50)], measure="request-duration") == Reading(
        None, 0.0
    )


def test_5xx_share__with_both_drains__counts_the_log_drains_requests_once() -> None:
    # The same ten requests, drained both ways: two 5xx in the logs; the spans agree.
    records = [logged(i, 503 if i < 2 else 200) for i in range(10)]
    records += [traced(i, 50.0, 503 if i < 2 else 200) for i in range(10)]
    assert read(records, measure="5xx-share") == Reading(2 / 10, 10.0)


def test_5xx_share__with_trace_drains_only__counts_the_server_spans() -> None:
    records = [traced(i, 50.0, 500 if i < 3 else 200) for i in range(12)]
    assert read(records, measure="5xx-share") == Reading(3 / 12, 12.0)


def test_compare_deploys__5xx_share__reads_both_arms_from_the_same_drain() -> None:
    # The new deployment is traced and logged; the old one was only traced. Its arm
    # must not come from spans while the new one comes from logs: both read the logs.
    before = DEPLOYED - timedelta(minutes=30) - STEP
    old_spans = [traced(int(before.total_seconds() // 60), 50.0, 500, "dpl_old")] * 4
    records = [logged(i, 503 if i == 0 else 200) for i in range(10)]
    records += [traced(i, 50.0, 200) for i in range(10)] + old_spans
    assert read(records, measure="5xx-share", compare="deploys") == Comparison(
        "rate", ArmStats(10.0, 1.0), ArmStats(0.0, 0.0), DEPLOYS
    )


def test_compare_deploys__request_duration__compares_the_spans_means() -> None:
    before = int((DEPLOYED - timedelta(minutes=30) - STEP).total_seconds() // 60)
    records = [traced(1, 100.0), traced(2, 300.0), logged(3, 200)]
    records += [traced(before, 50.0, deployment="dpl_old")]
    assert read(records, measure="request-duration", compare="deploys") == Comparison(
        "mean",
        ArmStats(2.0, 2.0, 400.0, 100.0**2 + 300.0**2),
        ArmStats(1.0, 1.0, 50.0, 2500.0),
        DEPLOYS,
    )
