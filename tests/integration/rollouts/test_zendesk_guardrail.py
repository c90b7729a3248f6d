"""A guardrail on Zendesk tickets, end to end: the runner asks a Zendesk stand-in how many
checkout tickets were created since the step began, holds while they stay under the
threshold, and rolls back when they pass it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production
from tests.support.zendesk_standin import ZendeskStandin, zendesk_standin

from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

FLAG = "new-checkout"
EMAIL, TOKEN, TOKEN_ENV = "ops@example.com", "zd-api-token", "SHIPWISE_TEST_ZENDESK_TOKEN"
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def zendesk(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZendeskStandin]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with zendesk_standin(EMAIL, TOKEN) as standin:
        yield standin


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def services(tmp_path: Path, zendesk: ZendeskStandin, clock: ManualClock) -> Iterator[Services]:
    built = build(Settings(data_dir=tmp_path / "data", admin_token=None), clock)
    built.flags.create(SYSTEM, "default", FLAG)
    built.metric_catalog.define(
        SYSTEM,
        "default",
        "checkout-tickets",
        "zendesk",
        {"url": zendesk.url, "email": EMAIL, "token_env": TOKEN_ENV, "query": "tags:{flag}"},
    )
    yield built
    built.close()


def test_the_runner_rolls_back_when_zendesk_counts_more_tickets_than_the_threshold(
    services: Services, zendesk: ZendeskStandin, clock: ManualClock
) -> None:
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={
            "steps": [{"percentage": 10, "min_duration": "1h"}, {"percentage": 100}],
            "guardrails": [{"metric": "checkout-tickets", "threshold": 3, "action": "rollback"}],
        },
        release=release_in_production(services, FLAG),
    )
    # Two tickets about the feature (and one about something else) in the first minutes
    zendesk.add(MONDAY + timedelta(minutes=5), FLAG)
    zendesk.add(MONDAY + timedelta(minutes=7), FLAG, "vip")
    zendesk.add(MONDAY + timedelta(minutes=8), "billing")
    clock.advance(minutes=10)

    outcome = services.runner.check(plan.id)

    assert outcome is not None
    judgement = outcome.judgements["checkout-tickets"]
    assert judgement.verdict.value == "healthy"
    assert outcome.decision.kind.value == "hold"
    assert zendesk.queries[-1] == (
        f"type:ticket tags:{FLAG} created>=2026-11-02T09:00:00Z created<2026-11-02T09:10:00Z"
    )

    # Then two more: four since the step began, over the threshold of three
    zendesk.add(MONDAY + timedelta(minutes=12), FLAG)
    zendesk.add(MONDAY + timedelta(minutes=14), FLAG)
    clock.advance(minutes=10)

    outcome = services.runner.check(plan.id)

    assert outcome is not None
    assert outcome.decision.kind.value == "rollback"
    assert "checkout-tickets" in outcome.decision.reason
    assert outcome.judgements["checkout-tickets"].estimate == pytest.approx(4)
    final = services.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.ROLLED_BACK
    assert not services.flags.config(SYSTEM, "default", FLAG, "production").enabled
