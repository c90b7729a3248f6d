"""``shipwise simulate``: a real server on a simulated clock, synthetic users through the
real SDK. An error spike at 25% is rolled back at 25%, a latency regression at the first
step, and low traffic holds the plan at its first step as inconclusive."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.cli.cli_runner import Shipwise


def test_the_scenarios_end_where_the_guardrails_say(tmp_path: Path) -> None:
    result = Shipwise(tmp_path)(
        "simulate", "error-spike", "latency", "low-traffic", "--days", "9", "--json"
    )
    assert result.exit_code == 0, result.output
    outcomes = {o["scenario"]: o for o in json.loads(result.stdout)}
    spike = outcomes["error-spike"]
    assert (spike["status"], spike["percentage"]) == ("rolled-back", 25)
    assert [e["what"] for e in spike["timeline"]] == ["advance", "advance", "rollback"]
    assert "errors" in spike["timeline"][-1]["detail"]
    latency = outcomes["latency"]
    assert (latency["status"], latency["percentage"]) == ("rolled-back", 10)
    assert "latency" in latency["timeline"][-1]["detail"]
    low = outcomes["low-traffic"]
    assert low["percentage"] == 10
    assert low["status"].startswith("held: ")
    assert "errors" in low["status"]  # too few errors to compare 1% with 1%
    assert [e["what"] for e in low["timeline"]] == ["advance"]  # only the start
