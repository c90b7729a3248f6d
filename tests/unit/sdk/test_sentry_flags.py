"""``Client(sentry=True)``: a real ``sentry_sdk`` client, whose transport keeps the
envelopes here instead of sending them, sees Shipwise's evaluations in the flag context
of the errors it captures; a client without ``sentry`` leaves that context empty."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from shipwise import Client

SNAPSHOT: dict[str, Any] = {
    "format": "shipwise-snapshot",
    "version": 1,
    "flags": [
        {"key": "new-checkout", "enabled": True},
        {"key": "dark-mode", "enabled": False, "strategies": [{"name": "default"}]},
        {
            "key": "banner",
            "enabled": True,
            "variants": [{"name": "blue", "weight": 1000, "stickiness": "default"}],
        },
    ],
}


class KeptEnvelopes(Transport):
    """A transport that keeps what Sentry would send."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event" and item.payload.json is not None
        ]


@pytest.fixture
def sentry() -> Iterator[KeptEnvelopes]:
    transport = KeptEnvelopes()
    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1",
        transport=transport,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    try:
        with sentry_sdk.isolation_scope():
            yield transport
    finally:
        sentry_sdk.get_client().close()
        # No DSN: a client that sends nothing, for the tests after this; and no
        # integrations, which would patch httpx and more for the rest of the process.
        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


def _flags_of_the_captured_error(transport: KeptEnvelopes) -> list[dict[str, Any]]:
    try:
        raise RuntimeError("checkout failed")
    except RuntimeError as error:
        sentry_sdk.capture_exception(error)
    sentry_sdk.flush()
    (event,) = transport.events()
    flags: list[dict[str, Any]] = event.get("contexts", {}).get("flags", {}).get("values", [])
    return flags


def test_sentry_client__two_flags_evaluated__the_captured_error_lists_them_with_results(
    sentry: KeptEnvelopes,
) -> None:
    client = Client.offline(SNAPSHOT, sentry=True)

    assert client.is_enabled("new-checkout", {"userId": "42"}) is True
    assert client.is_enabled("dark-mode", {"userId": "42"}) is False

    assert _flags_of_the_captured_error(sentry) == [
        {"flag": "new-checkout", "result": True},
        {"flag": "dark-mode", "result": False},
    ]


def test_sentry_client__get_variant__records_whether_the_feature_was_enabled(
    sentry: KeptEnvelopes,
) -> None:
    client = Client.offline(SNAPSHOT, sentry=True)

    assert client.get_variant("banner", {"userId": "42"}).name == "blue"

    assert _flags_of_the_captured_error(sentry) == [{"flag": "banner", "result": True}]


def test_sentry_client__unknown_flag__is_not_recorded_and_still_counted(
    sentry: KeptEnvelopes,
) -> None:
    client = Client.offline(SNAPSHOT, sentry=True)

    assert client.is_enabled("no-such-flag", default=True) is True

    assert _flags_of_the_captured_error(sentry) == []
    assert client.unknown_flags() == ["no-such-flag"]


def test_client_without_sentry__evaluations__leave_sentrys_flag_context_empty(
    sentry: KeptEnvelopes,
) -> None:
    client = Client.offline(SNAPSHOT)

    assert client.is_enabled("new-checkout") is True

    assert _flags_of_the_captured_error(sentry) == []
    assert client.exposures()["new-checkout"].yes == 1


def test_sentry_client__evaluations__are_still_counted_as_exposures(
    sentry: KeptEnvelopes,
) -> None:
    client = Client.offline(SNAPSHOT, sentry=True)

    client.is_enabled("new-checkout")
    client.is_enabled("dark-mode")

    exposures = client.exposures()
    assert (exposures["new-checkout"].yes, exposures["dark-mode"].no) == (1, 1)


def test_sentry_true__sentry_sdk_missing__refused_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def without_sentry(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("sentry_sdk"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_sentry)

    with pytest.raises(ValueError, match=r"shipwise\[sentry\]"):
        Client.offline(SNAPSHOT, sentry=True)


def test_sentry_client__sentry_fails_to_record__the_evaluation_still_answers(
    sentry: KeptEnvelopes, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client.offline(SNAPSHOT, sentry=True)

    def broken_scope() -> Any:
        raise RuntimeError("scope is gone")

    monkeypatch.setattr(sentry_sdk, "get_isolation_scope", broken_scope)

    assert client.is_enabled("new-checkout") is True
    assert client.is_enabled("new-checkout") is True
    failures = [r for r in caplog.records if "Sentry's flag context" in r.getMessage()]
    assert len(failures) == 1
