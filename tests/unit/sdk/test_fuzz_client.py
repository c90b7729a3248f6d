"""The SDK's public calls against hostile input: random snapshots (the engine fuzz's rule
sets, loaded as documents through ``Client.offline``) and random names, contexts, events
and values, all of Unicode with lone surrogates and NUL included.

``is_enabled``, ``get_variant``, ``explain`` and ``track`` never crash the process,
never raise, never hang, and what the client would send (exposure counts, tracked
events) can always be encoded: one odd flag or event name must not stop every later
batch. The properties run in a child interpreter, as in ``test_fuzz_engine``, so a
segfault is a failed test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.engine.test_fuzz_engine import (
    FIXED_ENV,
    FLAG_NAMES,
    FUZZ,
    HANG_AFTER,
    flag_states,
    odd_contexts,
    short_text,
    well_formed_contexts,
)

from shipwise import Client, Explanation, Reason, Snapshot, SnapshotError, Variant
from shipwise.engine import FlagState, dump_snapshot
from shipwise.sdk._events import EventBook, EventSender
from shipwise.sdk._exposures import FlagExposure
from shipwise.sdk._http import json_body
from shipwise.sdk._metrics import MetricsSender, exposure_delta

ROOT = Path(__file__).resolve().parents[3]

names = st.one_of(st.sampled_from([*FLAG_NAMES, "missing"]), short_text)
values = st.one_of(
    st.none(),
    st.floats(min_value=-1e100, max_value=1e100),  # sums of squares stay finite
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v)),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    short_text,
)
calls = st.lists(
    st.tuples(st.sampled_from(["is_enabled", "get_variant", "explain", "track"]), names, values),
    min_size=1,
    max_size=8,
)


def _client(state: FlagState, *, deterministic: bool = False) -> Client | None:
    """``Client.offline`` over the state as a snapshot document; ``deterministic``: with
    randomness pinned, so answers for contexts without an identifier can be compared."""
    document = dump_snapshot(state)
    try:
        if deterministic:
            return Client(snapshot=Snapshot.load(document, environment=FIXED_ENV))
        return Client.offline(document)
    except SnapshotError:  # loading may refuse a document, by design, with a message
        return None


@settings(FUZZ, max_examples=40)
@given(
    state=flag_states(),
    context=st.one_of(well_formed_contexts(), odd_contexts),
    calls=calls,
)
def check_public_calls__never_raise_and_what_is_sent_encodes(
    state: FlagState, context: Any, calls: list[tuple[str, str, Any]]
) -> None:
    client = _client(state)
    if client is None:
        return
    for call, name, value in calls:
        if call == "is_enabled":
            assert isinstance(client.is_enabled(name, context, default=True), bool)
        elif call == "get_variant":
            assert isinstance(client.get_variant(name, context), Variant)
        elif call == "explain":
            explanation = client.explain(name, context)
            assert isinstance(explanation, Explanation)
            json.dumps(explanation.to_dict())  # the CLI and API print it
        else:
            assert client.track(name, context, value) is None
    # What the background senders would post: it encodes, whatever the names were.
    json_body(exposure_delta(client.exposures(), {}))
    json_body(client.tracked_events())
    client.close()


@settings(FUZZ, max_examples=30)
@given(state=flag_states(), context=well_formed_contexts())
def check_well_formed_context__client_agrees_with_its_explanation(
    state: FlagState, context: dict[str, Any]
) -> None:
    client = _client(state, deterministic=True)
    if client is None:
        return
    for name in [*FLAG_NAMES, "missing"]:
        explanation = client.explain(name, context)
        assert explanation.reason is not Reason.ERROR, explanation.message
        assert client.is_enabled(name, context) is explanation.enabled
        assert client.get_variant(name, context) == explanation.variant


def _in_child(property_name: str) -> None:
    """Run ``property_name`` of this module in a fresh interpreter; fail with its output
    unless it ends cleanly (a negative return code is the signal that killed it)."""
    program = f"import tests.unit.sdk.test_fuzz_client as fuzz; fuzz.{property_name}()"
    try:
        child = subprocess.run(
            [sys.executable, "-W", "error", "-c", program],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=HANG_AFTER,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{property_name} hung for {HANG_AFTER} s") from None
    assert child.returncode == 0, (
        f"{property_name} ended with {child.returncode}:\n{child.stdout}\n{child.stderr}"
    )


def test_fuzz__public_calls__never_raise_and_what_is_sent_encodes() -> None:
    _in_child("check_public_calls__never_raise_and_what_is_sent_encodes")


def test_fuzz__well_formed_contexts__client_agrees_with_its_explanation() -> None:
    _in_child("check_well_formed_context__client_agrees_with_its_explanation")


# -- the issue's reproductions ----------------------------------------------------------


def test_get_variant__user_id_with_a_lone_surrogate__does_not_end_the_application() -> None:
    # Before the fix this process ended with SIGSEGV (exit 139) inside mmh3.
    program = textwrap.dedent(
        """
        from shipwise import Client
        rollout = {"name": "flexibleRollout",
                   "parameters": {"rollout": "50", "stickiness": "default", "groupId": "f"}}
        client = Client.offline({"format": "shipwise-snapshot", "version": 1, "flags": [
            {"key": "f", "enabled": True, "strategies": [rollout],
             "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]}]})
        for context in ({"userId": "\\ud800"}, {"userId": "\\x00\\ud800"},
                        {"sessionId": "\\udfff"}, {"properties": {"userId": "a\\ud83d"}}):
            print(client.get_variant("f", context).name, client.is_enabled("f", context),
                  client.explain("f", context).reason.value)
            client.track("error", context)
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert child.returncode == 0, child.stderr
    lines = child.stdout.splitlines()
    assert len(lines) == 4
    assert all(line.split()[2] in {"strategy_match", "no_strategy_matched"} for line in lines)


# -- sending what odd names counted -----------------------------------------------------


class Recorder:
    """The server's side of a POST: records each JSON body and answers 202."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content.decode("utf-8")))
        return httpx.Response(202, json={})


def _http(recorder: Recorder) -> httpx.Client:
    return httpx.Client(
        base_url="http://flags.test", transport=httpx.MockTransport(recorder.handle)
    )


def test_exposures__flag_name_with_a_lone_surrogate__are_sent_and_later_batches_too() -> None:
    # Given exposure totals for a name the application made up, holding a surrogate
    recorder = Recorder()
    totals = {"new-\ud800": FlagExposure(yes=2, no=1)}
    sender = MetricsSender(
        _http(recorder), lambda: totals, interval=3600, app_name="web", instance_id="i-1"
    )
    # When they are sent, and then more
    first = sender.flush()
    totals["other"] = FlagExposure(yes=1, no=0)
    second = sender.flush()
    # Then both batches went, the surrogate as U+FFFD (httpx's own encoder raised)
    assert (first, second) == (True, True)
    assert list(recorder.bodies[0]["flags"]) == ["new-\ufffd"]
    assert list(recorder.bodies[1]["flags"]) == ["other"]


def test_tracked_events__event_name_with_a_lone_surrogate__are_sent() -> None:
    recorder = Recorder()
    book = EventBook()
    book.add("clicked-\udfff", [("f", "on")], 2.0)
    sender = EventSender(_http(recorder), book, interval=3600, app_name="web", instance_id="i")
    assert sender.flush() is True
    assert [line["event"] for line in recorder.bodies[0]["events"]] == ["clicked-\ufffd"]
    assert recorder.bodies[0]["events"][0]["sum"] == 2.0


def test_tracked_events__totals_json_cannot_carry__are_dropped_not_raised() -> None:
    # Given a line whose sum of squares has grown past what a float holds
    recorder = Recorder()
    book = EventBook()
    book.add("latency", [("f", "on")], 1e154)
    book.add("latency", [("f", "on")], 1e154)  # each value is fine; 2e308 squared is not
    assert book.read()[0]["sumSq"] == math.inf
    sender = EventSender(_http(recorder), book, interval=3600, app_name="web", instance_id="i")
    # When it is sent: refused for good (logged), the call itself does not raise
    assert sender.flush() is False
    assert recorder.bodies == []
    # And the next batch goes
    book.add("latency", [("f", "on")], 1.0)
    assert sender.flush() is True


def test_exposures__flag_name_that_is_not_text__is_not_counted() -> None:
    # A name JSON cannot carry as a key (a tuple) would make every later batch fail
    client = Client.offline({"format": "shipwise-snapshot", "version": 1, "flags": []})
    assert client.is_enabled(("not", "a", "name"), {}) is False  # type: ignore[arg-type]
    assert client.is_enabled("unknown", {}) is False
    assert list(client.exposures()) == ["unknown"]
    recorder = Recorder()
    sender = MetricsSender(
        _http(recorder), client.exposures, interval=3600, app_name="web", instance_id="i"
    )
    assert sender.flush() is True
