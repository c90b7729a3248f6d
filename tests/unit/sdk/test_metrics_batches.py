"""Exposure batches: each send carries what the last acknowledged one did not, a failed
send loses nothing, and nothing is sent twice."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shipwise.sdk import FlagExposure
from shipwise.sdk._metrics import METRICS_PATH, MetricsSender, exposure_delta


def test_delta__first_batch__is_the_totals_without_errors() -> None:
    totals = {"a": FlagExposure(yes=3, no=1, errors=2, variants={"blue": 4})}
    assert exposure_delta(totals, {}) == {"a": {"yes": 3, "no": 1, "variants": {"blue": 4}}}


def test_delta__later_batch__is_the_difference_and_leaves_out_unchanged_flags() -> None:
    sent = {
        "a": FlagExposure(yes=3, no=1, variants={"blue": 4}),
        "b": FlagExposure(yes=5, no=5),
    }
    totals = {
        "a": FlagExposure(yes=4, no=1, variants={"blue": 4, "green": 1}),
        "b": FlagExposure(yes=5, no=5),
        "c": FlagExposure(yes=0, no=2),
    }
    assert exposure_delta(totals, sent) == {
        "a": {"yes": 1, "no": 0, "variants": {"green": 1}},
        "c": {"yes": 0, "no": 2, "variants": {}},
    }


def test_delta__only_errors_changed__sends_nothing() -> None:
    sent = {"a": FlagExposure(yes=1, no=0)}
    assert exposure_delta({"a": FlagExposure(yes=1, no=0, errors=5)}, sent) == {}


class Server:
    """Answers metrics POSTs with the scripted statuses and records the batches."""

    def __init__(self, *statuses: int | Exception) -> None:
        self.statuses = list(statuses)
        self.batches: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == METRICS_PATH
        outcome = self.statuses.pop(0) if self.statuses else 202
        if isinstance(outcome, Exception):
            raise outcome
        self.batches.append(json.loads(request.content))
        return httpx.Response(outcome, json={"accepted": 1})


@pytest.fixture
def totals() -> dict[str, FlagExposure]:
    return {}


def _sender(server: Server, totals: dict[str, FlagExposure]) -> MetricsSender:
    http = httpx.Client(base_url="http://flags.test", transport=httpx.MockTransport(server.handle))
    return MetricsSender(
        http, lambda: totals, interval=3600, app_name="checkout-api", instance_id="host-1"
    )


def test_flush__sends_app_instance_and_flags(totals: dict[str, FlagExposure]) -> None:
    server = Server()
    sender = _sender(server, totals)
    totals["a"] = FlagExposure(yes=2, no=1)
    assert sender.flush() is True
    assert server.batches == [
        {
            "appName": "checkout-api",
            "instanceId": "host-1",
            "flags": {"a": {"yes": 2, "no": 1, "variants": {}}},
        }
    ]
    sender.close()


def test_flush__nothing_new__sends_nothing(totals: dict[str, FlagExposure]) -> None:
    server = Server()
    sender = _sender(server, totals)
    totals["a"] = FlagExposure(yes=2, no=1)
    sender.flush()
    assert sender.flush() is True
    assert len(server.batches) == 1
    sender.close()


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(503, id="503"),
        pytest.param(401, id="401"),
        pytest.param(httpx.ConnectError("refused"), id="connection refused"),
    ],
)
def test_flush__failed_send__keeps_its_counts_for_the_next_batch(
    totals: dict[str, FlagExposure], failure: int | Exception
) -> None:
    # Given a send that fails
    server = Server(failure)
    sender = _sender(server, totals)
    totals["a"] = FlagExposure(yes=2, no=1)
    assert sender.flush() is False
    # When more evaluations happen and the next send succeeds
    totals["a"] = FlagExposure(yes=5, no=1)
    assert sender.flush() is True
    # Then that batch carries both, and the one after carries only what is new
    totals["a"] = FlagExposure(yes=6, no=1)
    sender.close()
    sent = [b["flags"]["a"] for b in server.batches if b["flags"]]
    assert sent[-2:] == [
        {"yes": 5, "no": 1, "variants": {}},
        {"yes": 1, "no": 0, "variants": {}},
    ]


def test_flush__batch_the_server_calls_invalid__is_dropped_not_resent(
    totals: dict[str, FlagExposure],
) -> None:
    server = Server(422)
    sender = _sender(server, totals)
    totals["a"] = FlagExposure(yes=2, no=1)
    assert sender.flush() is False
    totals["a"] = FlagExposure(yes=3, no=1)
    assert sender.flush() is True
    assert server.batches[-1]["flags"] == {"a": {"yes": 1, "no": 0, "variants": {}}}
    sender.close()


def test_close__sends_the_final_batch(totals: dict[str, FlagExposure]) -> None:
    server = Server()
    sender = _sender(server, totals)
    sender.start()
    totals["a"] = FlagExposure(yes=1, no=0, variants={"blue": 1})
    sender.close()
    assert server.batches[-1]["flags"] == {"a": {"yes": 1, "no": 0, "variants": {"blue": 1}}}
