"""A compare guardrail on Cloud Logging, end to end: the runner asks a Cloud Logging
stand-in (with its JWT-checking token endpoint) for the errors each arm logged since the
step began, pairs them with the SDKs' exposures, holds while the arms log alike, and
rolls back when users with the feature log many more errors per exposure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.cloud_logging_standin import PROJECT, CloudLoggingStandin, cloud_logging_standin
from tests.support.releases import release_in_production

from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

FLAG = "new-checkout"
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def logging_api() -> Iterator[CloudLoggingStandin]:
    with cloud_logging_standin() as standin:
        yield standin


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def services(
    tmp_path: Path, logging_api: CloudLoggingStandin, clock: ManualClock
) -> Iterator[Services]:
    key = tmp_path / "gcp-key.json"
    key.write_text(json.dumps(logging_api.key()))
    built = build(Settings(data_dir=tmp_path / "data", admin_token=None), clock)
    built.flags.create(SYSTEM, "default", FLAG)
    built.metric_catalog.define(
        SYSTEM,
        "default",
        "function-errors",
        "cloud-logging",
        {
            "project": PROJECT,
            "filter": "severity>=ERROR",
            "credentials_file": str(key),
            "url": logging_api.url,
            "arm_field": "jsonPayload.flags.{flag}",
        },
    )
    yield built
    built.close()


def _exposures(services: Services, with_feature: int, without: int) -> None:
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, "production")
        assert environment is not None
    services.metrics.record_exposures(environment.id, "shop", {FLAG: (with_feature, without, {})})


def _errors(logging_api: CloudLoggingStandin, at: datetime, arm: bool, count: int) -> None:
    for _ in range(count):
        logging_api.add(at, payload={"message": "checkout failed", "flags": {FLAG: arm}})


def test_the_runner_rolls_back_when_the_feature_logs_more_errors_per_exposure(
    services: Services, logging_api: CloudLoggingStandin, clock: ManualClock
) -> None:
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={
            "steps": [{"percentage": 50, "min_duration": "1h"}, {"percentage": 100}],
            "guardrails": [{"metric": "function-errors", "max_worse": 0.5, "action": "rollback"}],
        },
        release=release_in_production(services, FLAG),
    )
    # Ten minutes of traffic: 2000 users each way, both arms logging 1% errors
    _exposures(services, 2000, 2000)
    _errors(logging_api, MONDAY + timedelta(minutes=5), True, 20)
    _errors(logging_api, MONDAY + timedelta(minutes=6), False, 20)
    clock.advance(minutes=10)

    outcome = services.runner.check(plan.id)

    assert outcome is not None
    assert outcome.judgements["function-errors"].verdict.value != "regressed"
    assert outcome.decision.kind.value == "hold"

    # Then the feature's users log ten times the errors of the others
    _exposures(services, 2000, 2000)
    _errors(logging_api, MONDAY + timedelta(minutes=15), True, 380)
    _errors(logging_api, MONDAY + timedelta(minutes=16), False, 20)
    clock.advance(minutes=10)

    outcome = services.runner.check(plan.id)

    assert outcome is not None
    assert outcome.judgements["function-errors"].verdict.value == "regressed"
    assert outcome.decision.kind.value == "rollback"
    assert "function-errors" in outcome.decision.reason
    final = services.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.ROLLED_BACK
    assert not services.flags.config(SYSTEM, "default", FLAG, "production").enabled
    assert logging_api.grants == 1  # one token for both checks
    # And the second check asked only for what was logged after the first one's settled
    # part, two minutes before its end
    second = json.loads(logging_api.list_requests[-1].body)["filter"]
    assert 'timestamp>="2026-11-02T09:08:00Z" AND timestamp<"2026-11-02T09:20:00Z"' in second
    assert logging_api.served == 40 + 400
