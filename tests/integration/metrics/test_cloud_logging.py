"""``CloudLoggingSource`` over HTTP against a stand-in that speaks Cloud Logging's
``entries:list`` and checks the service-account JWT at its token endpoint
(``tests/support/cloud_logging_standin.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_logging_standin import (
    ACCOUNT,
    PROJECT,
    CloudLoggingStandin,
    cloud_logging_standin,
)
from tests.support.local_http import Reply, closed_port_url

from shipwise.domain.guardrails import ArmCounts, Reading
from shipwise.server.metrics import pulled_sources
from shipwise.server.metrics.cloud_logging import CloudLoggingSource
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KEY_ENV = "SHIPWISE_TEST_GCP_KEY"
FLAG = "new-checkout"


@pytest.fixture
def logging_api() -> Iterator[CloudLoggingStandin]:
    with cloud_logging_standin() as standin:
        yield standin


@pytest.fixture
def key_file(tmp_path: Path, logging_api: CloudLoggingStandin) -> Path:
    path = tmp_path / "gcp-key.json"
    path.write_text(json.dumps(logging_api.key()))
    return path


def _settings(logging_api: CloudLoggingStandin, key_file: Path, **more: Any) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "filter": "severity>=ERROR",
        "credentials_file": str(key_file),
        "url": logging_api.url,
        **more,
    }


def _window(minutes: int = 60) -> MetricWindow:
    return MetricWindow("shop", "production", FLAG, NINE, NINE + timedelta(minutes=minutes))


def _read(
    source: CloudLoggingSource, settings: dict[str, Any], window: MetricWindow | None = None
) -> Reading | ArmCounts:
    definition = MetricDefinition(1, "function-errors", "cloud-logging", settings)
    return source.read(definition, window or _window())


def test_pulled_sources__include_cloud_logging() -> None:
    assert isinstance(pulled_sources()["cloud-logging"], CloudLoggingSource)


def test_read__errors_in_the_window__are_counted_across_pages(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    # Given five errors inside 9:00-10:00 (one at each edge's inside), and entries that
    # do not count: too early, the next window's, and a warning
    for minute in (0, 5, 10, 30, 59):
        logging_api.add(NINE + timedelta(minutes=minute))
    logging_api.add(NINE - timedelta(seconds=1))
    logging_api.add(NINE + timedelta(hours=1))
    logging_api.add(NINE + timedelta(minutes=20), "WARNING")

    # When it is read two entries a page
    reading = _read(CloudLoggingSource(page_size=2), _settings(logging_api, key_file))

    # Then all five are counted, over three pages that follow nextPageToken
    assert reading == Reading(5.0)
    requests = logging_api.list_requests
    assert len(requests) == 3
    bodies = [json.loads(request.body) for request in requests]
    assert bodies[0] == {
        "resourceNames": [f"projects/{PROJECT}"],
        "filter": '(severity>=ERROR) AND timestamp>="2026-11-02T09:00:00Z" '
        'AND timestamp<"2026-11-02T10:00:00Z"',
        "orderBy": "timestamp asc",
        "pageSize": 2,
    }
    assert "pageToken" not in bodies[0]
    assert bodies[1]["pageToken"] != bodies[2]["pageToken"]
    assert requests[0].first("fields") == "nextPageToken,entries(insertId,timestamp)"
    assert logging_api.served == 5


def test_read__no_entry_matches__reads_zero(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    logging_api.add(NINE + timedelta(minutes=5), "INFO")

    assert _read(CloudLoggingSource(), _settings(logging_api, key_file)) == Reading(0.0)


def test_read__placeholders__are_filled_and_quoted_in_the_filter(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    logging_api.add(NINE + timedelta(minutes=1), labels={"flag": FLAG})
    logging_api.add(NINE + timedelta(minutes=2), labels={"flag": "other"})
    settings = _settings(logging_api, key_file, filter='severity>=ERROR labels.flag="{flag}"')

    reading = _read(CloudLoggingSource(), settings)

    assert reading == Reading(1.0)
    sent = json.loads(logging_api.list_requests[0].body)["filter"]
    assert sent.startswith(f'(severity>=ERROR labels.flag="{FLAG}") AND timestamp>=')


def test_read__with_an_arm_field__counts_each_arm(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    # Given errors whose entries carry the flag's value in several spellings, and some
    # that carry none or something else
    values: list[Any] = [True, "on", "enabled", "ON", False, "off", "disabled", "maybe", 1]
    for minute, value in enumerate(values):
        payload = {"message": "boom", "flags": {FLAG: value, "other-flag": True}}
        logging_api.add(NINE + timedelta(minutes=minute), payload=payload)
    logging_api.add(NINE + timedelta(minutes=30), payload={"message": "no flags"})
    settings = _settings(logging_api, key_file, arm_field="jsonPayload.flags.{flag}")

    counts = _read(CloudLoggingSource(page_size=3), settings)

    assert counts == ArmCounts(with_feature=4.0, without=3.0)
    fields = logging_api.list_requests[0].first("fields")
    assert fields == "nextPageToken,entries(insertId,timestamp,jsonPayload)"


def test_read__a_flag_name_with_a_dot__stays_one_segment_of_the_arm_field(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    logging_api.add(NINE + timedelta(minutes=1), payload={"flags": {"a.b": "on"}})
    logging_api.add(NINE + timedelta(minutes=2), payload={"flags": {"a": {"b": "on"}}})
    settings = _settings(logging_api, key_file, arm_field="jsonPayload.flags.{flag}")
    window = MetricWindow("shop", "production", "a.b", NINE, NINE + timedelta(hours=1))

    assert _read(CloudLoggingSource(), settings, window) == ArmCounts(1.0, 0.0)


def test_read__twice__asks_the_token_endpoint_once(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    source = CloudLoggingSource()
    logging_api.add(NINE + timedelta(minutes=1))

    _read(source, _settings(logging_api, key_file), _window(60))
    _read(source, _settings(logging_api, key_file), _window(61))

    assert logging_api.grants == 1
    first, second = (r.headers["authorization"] for r in logging_api.list_requests)
    assert first == second
    assert first.startswith("Bearer ya29.standin-")


def test_read__key_from_an_environment_variable__is_used(
    logging_api: CloudLoggingStandin,
) -> None:
    logging_api.add(NINE + timedelta(minutes=1))
    source = CloudLoggingSource(environ={KEY_ENV: json.dumps(logging_api.key())})
    settings = {
        "project": PROJECT,
        "filter": "severity>=ERROR",
        "credentials_env": KEY_ENV,
        "url": logging_api.url,
    }

    assert _read(source, settings) == Reading(1.0)


def test_read__a_key_the_token_endpoint_does_not_know__is_unavailable(
    logging_api: CloudLoggingStandin, tmp_path: Path
) -> None:
    # Given a key for the same account whose private key is not the account's
    wrong = tmp_path / "old-key.json"
    wrong.write_text(json.dumps(logging_api.key(other=True)))

    with pytest.raises(MetricUnavailable) as caught:
        _read(CloudLoggingSource(), _settings(logging_api, wrong))

    message = str(caught.value)
    assert f"the token endpoint {logging_api.token_uri} refused {ACCOUNT}'s key" in message
    assert "Invalid JWT Signature" in message
    assert str(wrong) in message
    assert "PRIVATE KEY" not in message
    assert logging_api.grants == 0
    assert logging_api.list_requests == []


def test_read__a_token_logging_no_longer_accepts__is_unavailable_then_renewed(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    source = CloudLoggingSource()
    _read(source, _settings(logging_api, key_file), _window(60))
    logging_api.tokens.clear()  # revoked

    with pytest.raises(MetricUnavailable, match=r"answered 401 .*check the key is current"):
        _read(source, _settings(logging_api, key_file), _window(61))
    assert _read(source, _settings(logging_api, key_file), _window(62)) == Reading(0.0)
    assert logging_api.grants == 2


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(403, {"error": {"code": 403, "message": "Permission denied", "status": "x"}}),
            r"answered 403 Forbidden: 'Permission denied' \(grant the service account the "
            r"Logs Viewer role",
        ),
        (
            Reply(429, {"error": {"code": 429, "message": "Quota exceeded", "status": "x"}}),
            r"answered 429 Too Many Requests: 'Quota exceeded' \(Logging's read quota",
        ),
        (
            Reply(502, raw=b"<html>Bad gateway</html>", content_type="text/html"),
            r"answered 502 Bad Gateway with text/html, not JSON \(expected Logging's",
        ),
        (Reply(200, {"entries": "many"}), r"answered 200 OK with an object \(fields: entries\)"),
        (Reply(200, [1, 2]), r"answered 200 OK with a list of 2, expected Logging's"),
    ],
)
def test_read__logging_refuses_or_answers_nonsense__is_unavailable(
    logging_api: CloudLoggingStandin, key_file: Path, reply: Reply, expected: str
) -> None:
    logging_api.answer_with = reply

    with pytest.raises(MetricUnavailable, match=expected) as caught:
        _read(CloudLoggingSource(), _settings(logging_api, key_file))

    assert "ya29" not in str(caught.value)  # the token is never shown


@pytest.mark.parametrize(
    "timestamp",
    [
        "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
        "0001-01-01T00:00:00.5+23:59",  # before year 1 in UTC
        "2026-02-30T09:00:00Z",  # no such day
        "2026-11-02T24:00:00Z",  # no such hour
    ],
)
def test_read__an_entry_timestamped_beyond_what_a_date_holds__is_unavailable(
    logging_api: CloudLoggingStandin, key_file: Path, timestamp: str
) -> None:
    logging_api.answer_with = Reply(200, {"entries": [{"insertId": "a", "timestamp": timestamp}]})

    with pytest.raises(MetricUnavailable) as caught:
        _read(CloudLoggingSource(), _settings(logging_api, key_file))

    assert str(caught.value) == (
        f"{logging_api.url}/v2/entries:list answered 200 OK with an entry timestamped "
        f"{timestamp!r}, not a time this server can count (not a real date, or out of "
        "range once turned to UTC)"
    )


def test_read__logging_down__is_unavailable(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    settings = _settings(logging_api, key_file, url=closed_port_url())

    with pytest.raises(MetricUnavailable, match=r"cannot connect to http://127\.0\.0\.1"):
        _read(CloudLoggingSource(), settings)


def test_read__exactly_the_cap__is_counted(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    for minute in range(4):
        logging_api.add(NINE + timedelta(minutes=minute))

    reading = _read(CloudLoggingSource(page_size=2, max_pages=2), _settings(logging_api, key_file))

    assert reading == Reading(4.0)


# --- settings ------------------------------------------------------------------------


def _problems(settings: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, str]:
    return dict(CloudLoggingSource(environ=environ or {}).problems(settings))


def test_problems__good_settings__are_none(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    settings = _settings(logging_api, key_file, arm_field="labels.{flag}")
    settings["filter"] = 'severity>=ERROR AND resource.labels.function_name="{project}"'

    assert _problems(settings) == {}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"project": None}, "project", "required: the Google Cloud project's id"),
        ({"project": "Shop Prod"}, "project", "write the project's id"),
        ({"project": 123456}, "project", "write the project's id"),
        ({"filter": None}, "filter", "required"),
        ({"filter": "  "}, "filter", "write a non-empty text"),
        ({"filter": "labels.f={flags}"}, "filter", "unknown placeholder {flags}"),
        ({"filter": "x" * 19_001}, "filter", "at most 19000 characters"),
        ({"url": "ftp://logging"}, "url", "absolute http:// or https:// URL"),
        ({"url": "https://{flag}.example.com"}, "url", "without placeholders"),
        ({"arm_field": "jsonPayload..flag"}, "arm_field", "write a field's path"),
        ({"arm_field": 'labels."x y"'}, "arm_field", "write a field's path"),
        ({"arm_field": "labels.{env}"}, "arm_field", "unknown placeholder {env}"),
        ({"arm_field": "payload.flags.{flag}"}, "arm_field", "start with a log entry's field"),
        ({"arm_field": "jsonPayload"}, "arm_field", "start with a log entry's field"),
        ({"credentials_file": None}, "credentials_file", "required: the path of a service"),
        ({"credentials_env": "GCP_KEY"}, "credentials_env", "not both"),
        ({"credentials_file": "/nonexistent/key.json"}, "credentials_file", "cannot read"),
        ({"colour": "blue"}, "colour", "unknown setting"),
    ],
)
def test_problems__a_wrong_setting__is_named(
    logging_api: CloudLoggingStandin,
    key_file: Path,
    change: dict[str, Any],
    field: str,
    words: str,
) -> None:
    settings = _settings(logging_api, key_file) | change
    settings = {name: value for name, value in settings.items() if value is not None}

    assert words in _problems(settings).get(field, "")


@pytest.mark.parametrize(
    ("held", "words"),
    [
        (None, "the environment variable GCP_KEY is not set on this server"),
        ("not json", "the key in the environment variable GCP_KEY is not JSON"),
        ('{"type": "authorized_user"}', "is not a service-account key"),
        ('{"type": "service_account", "client_email": "a@b"}', "lacks private_key, token_uri"),
        (
            '{"type": "service_account", "client_email": "a@b", "private_key": "nope", '
            '"token_uri": "http://127.0.0.1:1/token"}',
            "holds no usable private key",
        ),
    ],
)
def test_problems__credentials_env_without_a_key__is_named(
    logging_api: CloudLoggingStandin, held: str | None, words: str
) -> None:
    settings = {"project": PROJECT, "filter": "severity>=ERROR", "credentials_env": "GCP_KEY"}
    environ = {} if held is None else {"GCP_KEY": held}

    problems = _problems(settings, environ)

    assert words in problems["credentials_env"]
    assert "nope" not in problems["credentials_env"]
    with pytest.raises(MetricUnavailable, match=words):  # a read refuses it the same
        _read(CloudLoggingSource(environ=environ), settings | {"url": logging_api.url})
    assert logging_api.grants == 0


def test_read__settings_wrong_since_saved__are_unavailable(
    logging_api: CloudLoggingStandin, key_file: Path
) -> None:
    key_file.unlink()

    with pytest.raises(MetricUnavailable, match="settings are wrong: credentials_file: cannot"):
        _read(CloudLoggingSource(), _settings(logging_api, key_file))
