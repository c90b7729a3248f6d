"""Decoding ``text/event-stream`` lines into events, as the server writes them and as
the specification allows them."""

from __future__ import annotations

from shipwise.sdk._sse import EventDecoder, ServerSentEvent


def _decode(*lines: str) -> tuple[list[ServerSentEvent], EventDecoder]:
    decoder = EventDecoder()
    events = [event for line in lines if (event := decoder.decode(line)) is not None]
    return events, decoder


def test_decode__the_servers_opening__gives_retry_then_one_snapshot_event() -> None:
    events, decoder = _decode(
        "retry: 1000", "", "event: snapshot", "id: 7", 'data: {"revision":"7"}', ""
    )
    assert events == [ServerSentEvent("snapshot", '{"revision":"7"}', "7")]
    assert decoder.retry == 1000
    assert decoder.last_event_id == "7"


def test_decode__comments__are_skipped() -> None:
    events, _ = _decode(": ping", "", ": ping", "")
    assert events == []


def test_decode__several_data_lines__join_with_newlines() -> None:
    events, _ = _decode("data: first", "data:second", "data:  third", "")
    assert events == [ServerSentEvent("message", "first\nsecond\n third")]


def test_decode__event_without_data__is_not_dispatched() -> None:
    events, _ = _decode("event: snapshot", "id: 3", "", "data: x", "")
    # The id persists (it is the stream's last event id); the type does not.
    assert events == [ServerSentEvent("message", "x", "3")]


def test_decode__field_without_colon__is_a_field_with_empty_value() -> None:
    events, _ = _decode("data", "data", "")
    assert events == [ServerSentEvent("message", "\n")]


def test_decode__retry_that_is_not_a_number__is_ignored() -> None:
    _, decoder = _decode("retry: soon", "retry: 1.5", "")
    assert decoder.retry is None


def test_decode__data_with_colons__keeps_them() -> None:
    events, _ = _decode('data: {"a":"b:c"}', "")
    assert events[0].data == '{"a":"b:c"}'
