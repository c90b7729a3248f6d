"""Flag keys are Unleash feature names: case-sensitive, with dots, '~' and the other
characters Unleash allows, on both databases and through every API that names a flag.
Other keys keep the lowercase rule, and a bad key of any kind is a 422 in words that
names the field and suggests a key that would do."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.integration.api.helpers import FLAGS, as_token, error_field, issue, newest_audit_id
from tests.support.server import RunningServer

ODD_KEYS = ("Feature.C", "a~b", "Promo(2024)!*'")  # every character Unleash adds to ours
EVERYONE = [{"name": "default", "parameters": {}, "constraints": []}]


def _switch_on_in_dev(admin: httpx.Client, key: str) -> None:
    path = f"{FLAGS}/{quote(key, safe='')}/environments/dev"
    current = admin.get(path)
    assert current.status_code == 200, current.text
    rules = {"enabled": True, "strategies": EVERYONE, "variants": [], "dependencies": []}
    response = admin.put(path, json=rules, headers={"If-Match": current.headers["ETag"]})
    assert response.status_code == 200, response.text


def _create(admin: httpx.Client, key: str, **fields: Any) -> httpx.Response:
    return admin.post(FLAGS, json={"key": key, **fields})


# -- case matters, on SQLite and PostgreSQL ---------------------------------------------


def test_create_flag__camel_and_lower_case_keys__two_flags_each_found_by_its_own_name(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        # Given two keys that differ only in case
        upper = _create(admin, "newCheckout", description="camel")
        lower = _create(admin, "newcheckout", description="lower")

        # Then both are created, and each lookup finds its own flag and never the other
        assert (upper.status_code, lower.status_code) == (201, 201), (upper.text, lower.text)
        assert admin.get(f"{FLAGS}/newCheckout").json()["description"] == "camel"
        assert admin.get(f"{FLAGS}/newcheckout").json()["description"] == "lower"
        missing = admin.get(f"{FLAGS}/NEWCHECKOUT")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "no flag 'NEWCHECKOUT' in project 'default'"
        listed = [f["key"] for f in admin.get(FLAGS).json()["flags"]]
        assert sorted(k for k in listed if k.lower() == "newcheckout") == [
            "newCheckout",
            "newcheckout",
        ]

        # And switching one on leaves the other off, in the admin API and the SDK snapshot
        _switch_on_in_dev(admin, "newCheckout")
        assert admin.get(f"{FLAGS}/newcheckout").json()["environments"]["dev"]["enabled"] is False
        key = issue(admin, kind="server", project="default", environment="dev")
    with as_token(server, key) as sdk:
        flags = {f["name"]: f for f in sdk.get("/api/client/features").json()["features"]}
    assert (flags["newCheckout"]["enabled"], flags["newcheckout"]["enabled"]) == (True, False)


def test_create_flag__same_key_twice__409_even_when_another_case_exists(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        assert _create(admin, "newCheckout").status_code == 201
        assert _create(admin, "newcheckout").status_code == 201
        again = _create(admin, "newCheckout")
    assert again.status_code == 409
    assert again.json()["error"]["message"] == (
        "flag 'newCheckout' already exists in project 'default'"
    )


# -- odd keys route through every API ---------------------------------------------------


def test_flag_keys__dots_tilde_and_unleash_punctuation__route_through_admin_and_sdk_apis(
    server: RunningServer,
) -> None:
    # Given flags whose keys have dots, '~' and the rest of Unleash's characters, on in dev
    with server.admin() as admin:
        for key in ODD_KEYS:
            assert _create(admin, key).status_code == 201, key
            _switch_on_in_dev(admin, key)
            # Then the admin API finds each by its key in the path, as sent by httpx
            got = admin.get(f"{FLAGS}/{key}")
            assert got.status_code == 200, (key, got.text)
            assert got.json()["key"] == key
            patched = admin.patch(f"{FLAGS}/{quote(key, safe='')}", json={"owner": "team"})
            assert patched.status_code == 200, (key, patched.text)
            # And the filters that take a flag's key take this one
            audit = admin.get("/api/v1/audit", params={"target_type": "flag", "target_key": key})
            assert audit.status_code == 200, (key, audit.text)
            assert "flag.create" in {r["action"] for r in audit.json()["records"]}
            plans = admin.get("/api/v1/projects/default/rollouts", params={"flag": key})
            assert plans.status_code == 200, (key, plans.text)
        server_key = issue(admin, kind="server", project="default", environment="dev")
        frontend_key = issue(admin, kind="frontend", project="default", environment="dev")

    with as_token(server, server_key) as sdk:
        # And Shipwise's snapshot and Unleash's client API carry the same keys
        snapshot = sdk.get("/sdk/v1/snapshot")
        assert snapshot.status_code == 200, snapshot.text
        assert set(ODD_KEYS) <= {f["key"] for f in snapshot.json()["flags"]}
        features = sdk.get("/api/client/features").json()["features"]
        assert set(ODD_KEYS) <= {f["name"] for f in features}
        for key in ODD_KEYS:
            one = sdk.get(f"/api/client/features/{key}")
            assert one.status_code == 200, (key, one.text)
            assert (one.json()["name"], one.json()["enabled"]) == (key, True)
            # And OFREP evaluates each by name
            ofrep = sdk.post(f"/ofrep/v1/evaluate/flags/{key}", json={"context": {}})
            assert ofrep.status_code == 200, (key, ofrep.text)
            assert (ofrep.json()["key"], ofrep.json()["value"]) == (key, True)
        wrong_case = sdk.post("/ofrep/v1/evaluate/flags/feature.c", json={"context": {}})
        assert wrong_case.status_code == 404
    with httpx.Client(base_url=server.url, headers={"Authorization": frontend_key}) as front:
        toggles = front.get("/api/frontend").json()["toggles"]
    # And the frontend API lists them on
    assert set(ODD_KEYS) <= {t["name"] for t in toggles if t["enabled"]}


# -- bad keys: a 422 in words, naming the field, changing nothing -----------------------

_FLAG_RULE = (
    "flag keys may use letters, digits, '-', '_', '.', '~', '!', '*', \"'\", '(' and ')', "
    "at most 100 characters"
)


def _lowercase(plural: str) -> str:
    return (
        f"{plural} are lowercase letters, digits, '.', '_' and '-', starting with a letter or "
        "digit, at most 63 characters"
    )


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        pytest.param(
            FLAGS,
            {"key": "new checkout"},
            "key",
            f"'new checkout' is not a valid flag key: ' ' at position 4 is not allowed; "
            f"{_FLAG_RULE}: try 'new-checkout'",
            id="flag key with a space",
        ),
        pytest.param(
            FLAGS,
            {"key": "Größe"},
            "key",
            f"'Größe' is not a valid flag key: 'ö' at position 3 is not allowed; "
            f"{_FLAG_RULE}: try 'Gr-e'",
            id="flag key with a letter Unleash would not take",
        ),
        pytest.param(
            FLAGS,
            {"key": ".."},
            "key",
            f"'..' is not a valid flag key: '.' and '..' are steps in a path, not names; "
            f"{_FLAG_RULE}: try 'new-checkout'",
            id="flag key that is a path step",
        ),
        pytest.param(
            FLAGS,
            {"key": "x" * 101},
            "key",
            f"'{'x' * 40}'… (101 characters) is not a valid flag key: it is 101 characters "
            f"long; {_FLAG_RULE}: try '{'x' * 100}'",
            id="flag key one too long",
        ),
        pytest.param(
            "/api/v1/projects/default/releases",
            {"key": "Rel 7", "title": "Checkout", "kind": "feature"},
            "key",
            "'Rel 7' is not a valid release key: 'R' at position 1 is uppercase; "
            f"{_lowercase('release keys')}: try 'rel-7'",
            id="release key with capitals",
        ),
        pytest.param(
            "/api/v1/projects",
            {"key": "WebShop", "name": "Web shop"},
            "key",
            "'WebShop' is not a valid project key: 'W' at position 1 is uppercase; "
            f"{_lowercase('project keys')}: try 'webshop'",
            id="project key with capitals",
        ),
        pytest.param(
            "/api/v1/projects/default/environments",
            {"key": "-qa", "name": "QA"},
            "key",
            f"'-qa' is not a valid environment key: it starts with '-'; "
            f"{_lowercase('environment keys')}: try 'qa'",
            id="environment key starting with a dash",
        ),
        pytest.param(
            "/api/v1/projects/default/segments",
            {"name": "Beta Testers", "constraints": []},
            "name",
            "'Beta Testers' is not a valid segment name: 'B' at position 1 is uppercase; "
            f"{_lowercase('segment names')}: try 'beta-testers'",
            id="segment name with capitals and a space",
        ),
        pytest.param(
            FLAGS,
            {"key": "ok", "tags": ["Team Pay"]},
            "tags[0]",
            "'Team Pay' is not a valid tag: 'T' at position 1 is uppercase; "
            f"{_lowercase('tags')}: try 'team-pay'",
            id="tag with capitals",
        ),
    ],
)
def test_create__bad_key__422_in_words_naming_the_field_and_nothing_changes(
    admin: httpx.Client, path: str, body: dict[str, Any], field: str, message: str
) -> None:
    before = newest_audit_id(admin)

    response = admin.post(path, json=body)

    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert response.json()["error"]["message"] == f"{field}: {message}"
    assert "pattern" not in response.text
    assert newest_audit_id(admin) == before


def test_flag_path__bad_key__422_in_words_naming_the_path_parameter(admin: httpx.Client) -> None:
    response = admin.get(f"{FLAGS}/new%20checkout")

    assert response.status_code == 422, response.text
    assert error_field(response) == "key"
    assert response.json()["error"]["message"] == (
        f"key: 'new checkout' is not a valid flag key: ' ' at position 4 is not allowed; "
        f"{_FLAG_RULE}: try 'new-checkout'"
    )


def test_release__mixed_case_flag__ships_it_and_refuses_a_bad_flag_key_in_words(
    admin: httpx.Client,
) -> None:
    assert _create(admin, "Feature.C").status_code == 201
    releases = "/api/v1/projects/default/releases"

    made = admin.post(
        releases, json={"key": "rel-7", "title": "C", "kind": "feature", "flags": ["Feature.C"]}
    )
    bad = admin.post(
        releases, json={"key": "rel-8", "title": "C", "kind": "feature", "flags": ["Feature C"]}
    )

    assert made.status_code == 201, made.text
    assert made.json()["flags"] == ["Feature.C"]
    assert bad.status_code == 422
    assert error_field(bad) == "flags[0]"
    assert bad.json()["error"]["message"].startswith(
        "flags[0]: 'Feature C' is not a valid flag key: ' ' at position 8 is not allowed;"
    )
