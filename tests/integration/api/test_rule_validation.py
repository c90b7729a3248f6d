"""Rules that cannot be evaluated as written are refused when written, on every database.

Each case once saved with 200 and then broke every evaluation (issue 10, finding 6): a
payload that is not JSON or not a number, a number operand of ``1e99999``, addresses
that are not addresses, a ``userWithId`` without users, NUL in a context name or value,
a value or a list far larger than any rule needs. Through the admin API (a flag's rules,
a segment) and the Unleash import, each is a 422 naming the exact field and the limit,
and nothing changes: no rules, no segment, no audit record. The CLI's import posts to
the same route, so the same check answers it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import (
    FLAGS,
    create_flag,
    error_field,
    newest_audit_id,
    rules_path,
)
from tests.support.server import RunningServer

from shipwise.engine.limits import (
    MAX_CONSTRAINTS,
    MAX_NAME_LENGTH,
    MAX_PAYLOAD_DEPTH,
    MAX_PAYLOAD_LENGTH,
    MAX_STRATEGIES_PER_FLAG,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
)

SEGMENTS = "/api/v1/projects/default/segments"
IMPORT = "/api/v1/projects/default/environments/production/import/unleash"


def _constraint(**fields: Any) -> dict[str, Any]:
    return {"contextName": "plan", "operator": "IN", "values": ["pro"], **fields}


def _with_constraints(*constraints: dict[str, Any]) -> dict[str, Any]:
    return {"enabled": True, "strategies": [{"name": "default", "constraints": list(constraints)}]}


def _with_strategy(name: str, **parameters: Any) -> dict[str, Any]:
    return {"enabled": True, "strategies": [{"name": name, "parameters": parameters}]}


def _with_payload(kind: str, value: str) -> dict[str, Any]:
    variant = {"name": "blue", "weight": 1000, "payload": {"type": kind, "value": value}}
    return {"enabled": True, "strategies": [{"name": "default"}], "variants": [variant]}


# (rules, the field at fault, words the message must hold)
INVALID_RULES = [
    pytest.param(
        _with_payload("json", "{not json"),
        "variants[0].payload.value",
        "is not JSON",
        id="json-payload-that-is-not-json",
    ),
    pytest.param(
        _with_payload("number", "abc"),
        "variants[0].payload.value",
        "is not a number",
        id="number-payload-abc",
    ),
    pytest.param(
        _with_payload("json", "[" * (MAX_PAYLOAD_DEPTH + 1) + "]" * (MAX_PAYLOAD_DEPTH + 1)),
        "variants[0].payload.value",
        f"nested deeper than {MAX_PAYLOAD_DEPTH}",
        id="json-payload-nested-too-deep",
    ),
    pytest.param(
        _with_payload("yaml", "a: 1"),
        "variants[0].payload.type",
        "use one of string, json, csv, number",
        id="payload-type-unknown",
    ),
    pytest.param(
        _with_payload("string", "x" * (MAX_PAYLOAD_LENGTH + 1)),
        "variants[0].payload.value",
        f"at most {MAX_PAYLOAD_LENGTH:,}",
        id="payload-too-long",
    ),
    pytest.param(
        {
            "enabled": True,
            "strategies": [
                {
                    "name": "default",
                    "variants": [
                        {"name": "a", "weight": 1, "payload": {"type": "json", "value": "NaN"}}
                    ],
                }
            ],
        },
        "strategies[0].variants[0].payload.value",
        "is not JSON",
        id="strategy-variant-json-payload-nan",
    ),
    pytest.param(
        _with_constraints(_constraint(operator="NUM_EQ", values=[], value="1e99999")),
        "strategies[0].constraints[0].value",
        "not a finite number",
        id="num-eq-1e99999",
    ),
    pytest.param(
        _with_strategy("remoteAddress", IPs="10.0.0.0/8,not-an-ip,::::"),
        "strategies[0].parameters.IPs",
        "'not-an-ip' is not an IP address",
        id="remote-address-not-an-ip",
    ),
    pytest.param(
        _with_strategy("userWithId", userIds=None),
        "strategies[0].parameters.userIds",
        "userWithId needs userIds",
        id="user-with-id-null-user-ids",
    ),
    pytest.param(
        _with_constraints(_constraint(contextName="pl\x00an")),
        "strategies[0].constraints[0].contextName",
        "NUL",
        id="nul-in-context-name",
    ),
    pytest.param(
        _with_constraints(_constraint(), _constraint(values=["pro", "be\x00ta"])),
        "strategies[0].constraints[1].values[1]",
        "NUL",
        id="nul-in-a-value",
    ),
    pytest.param(
        _with_constraints(_constraint(values=["x" * 1_000_000])),  # within the 1 MiB body
        "strategies[0].constraints[0].values[0]",
        f"at most {MAX_VALUE_LENGTH:,} characters",
        id="value-of-1-mb",
    ),
    pytest.param(
        _with_constraints(_constraint(values=[str(n) for n in range(MAX_VALUES + 1)])),
        "strategies[0].constraints[0].values",
        f"at most {MAX_VALUES:,}",
        id="one-value-too-many",
    ),
    pytest.param(
        _with_constraints(*[_constraint()] * (MAX_CONSTRAINTS + 1)),
        "strategies[0].constraints",
        f"at most {MAX_CONSTRAINTS}",
        id="one-constraint-too-many",
    ),
    pytest.param(
        {"enabled": True, "strategies": [{"name": "default"}] * (MAX_STRATEGIES_PER_FLAG + 1)},
        "strategies",
        f"at most {MAX_STRATEGIES_PER_FLAG}",
        id="one-strategy-too-many",
    ),
    pytest.param(
        _with_constraints(_constraint(contextName="p" * (MAX_NAME_LENGTH + 1))),
        "strategies[0].constraints[0].contextName",
        f"at most {MAX_NAME_LENGTH}",
        id="context-name-too-long",
    ),
    pytest.param(
        _with_constraints(_constraint(operator="IN_CIDR", values=["10.0.0.0/8", "10.0.0.300"])),
        "strategies[0].constraints[0].values[1]",
        "'10.0.0.300' is not an IP address",
        id="cidr-list-with-one-bad-entry",
    ),
    pytest.param(
        {
            "enabled": True,
            "variants": [
                {
                    "name": "blue",
                    "weight": 1,
                    "overrides": [{"contextName": "userId", "values": ["a\x00"]}],
                }
            ],
        },
        "variants[0].overrides[0].values[0]",
        "NUL",
        id="nul-in-an-override",
    ),
]


def _rules(admin: httpx.Client, flag: str = "checkout") -> dict[str, Any]:
    response = admin.get(rules_path(flag, "staging"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("rules", "field", "words"), INVALID_RULES)
def test_put_rules__that_cannot_be_evaluated__is_a_422_naming_the_field_and_changes_nothing(
    server: RunningServer, rules: dict[str, Any], field: str, words: str
) -> None:
    with server.admin() as admin:
        # Given a flag, as it is
        create_flag(admin, "checkout")
        before_rules, before = _rules(admin), newest_audit_id(admin)

        # When rules that cannot be evaluated are written
        response = admin.put(
            rules_path("checkout", "staging"), json=rules, headers={"If-Match": '"1"'}
        )

        # Then they are refused, naming the field and why, and nothing changed
        assert response.status_code == 422, response.text
        assert error_field(response) == field
        assert words in response.json()["error"]["message"]
        assert _rules(admin) == before_rules
        assert newest_audit_id(admin) == before


def test_put_rules__at_every_limit_and_of_every_payload_type__are_saved(
    server: RunningServer,
) -> None:
    deep = "[" * MAX_PAYLOAD_DEPTH + "]" * MAX_PAYLOAD_DEPTH
    payloads = [("json", deep), ("json", '{"a": [1, 2.5, null]}'), ("number", "-1.5e3")]
    payloads += [("number", " 42 "), ("csv", "a,b"), ("string", "s" * MAX_PAYLOAD_LENGTH)]
    variants = [
        {"name": f"v{index}", "weight": 1, "payload": {"type": kind, "value": value}}
        for index, (kind, value) in enumerate(payloads)
    ]
    many = [str(n) for n in range(MAX_VALUES - 1)] + ["x" * MAX_VALUE_LENGTH]
    constraints = [_constraint(contextName="p" * MAX_NAME_LENGTH, values=many)]
    constraints += [_constraint(operator="NUM_GT", values=[], value="1e300")]
    constraints += [_constraint(operator="IN_CIDR", values=["10.0.0.0/8", "::1"])]
    constraints += [_constraint()] * (MAX_CONSTRAINTS - len(constraints))
    strategies = [
        {"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": constraints},
        {"name": "remoteAddress", "parameters": {"IPs": "10.0.0.1, 192.168.0.0/16,::1"}},
        {"name": "userWithId", "parameters": {"userIds": "a,b"}},
    ]
    strategies += [{"name": "default"}] * (MAX_STRATEGIES_PER_FLAG - len(strategies))
    rules = {"enabled": True, "strategies": strategies, "variants": variants}
    with server.admin() as admin:
        create_flag(admin, "checkout")
        response = admin.put(
            rules_path("checkout", "staging"), json=rules, headers={"If-Match": '"1"'}
        )
        assert response.status_code == 200, response.text
        assert _rules(admin)["variants"] == variants


@pytest.mark.parametrize(
    ("constraints", "field"),
    [
        pytest.param(
            [_constraint(operator="NUM_LT", values=[], value="1e99999")],
            "constraints[0].value",
            id="num-lt-1e99999",
        ),
        pytest.param([_constraint(values=["ok", "\x00"])], "constraints[0].values[1]", id="nul"),
        pytest.param(
            [_constraint(values=["v"] * (MAX_VALUES + 1))], "constraints[0].values", id="too-many"
        ),
        pytest.param([_constraint()] * (MAX_CONSTRAINTS + 1), "constraints", id="too-many-rules"),
    ],
)
def test_create_segment__that_cannot_be_evaluated__is_a_422_naming_the_field_and_creates_nothing(
    server: RunningServer, constraints: list[dict[str, Any]], field: str
) -> None:
    with server.admin() as admin:
        before = newest_audit_id(admin)
        response = admin.post(SEGMENTS, json={"name": "beta", "constraints": constraints})
        assert response.status_code == 422, response.text
        assert error_field(response) == field
        assert admin.get(SEGMENTS).json()["segments"] == []
        assert newest_audit_id(admin) == before


def _document(flag: dict[str, Any], segments: list[Any] | None = None) -> dict[str, Any]:
    fine = {"name": "fine", "enabled": True, "strategies": [{"name": "default"}]}
    return {
        "version": 2,
        "features": [fine, {"name": "broken", **flag}],
        "segments": segments or [],
    }


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param(
            _document(_with_payload("number", "abc")),
            "features[1].variants[0].payload.value",
            id="number-payload-abc",
        ),
        pytest.param(
            _document(_with_strategy("remoteAddress", IPs="not-an-ip,::::")),
            "features[1].strategies[0].parameters.IPs",
            id="remote-address-not-an-ip",
        ),
        pytest.param(
            _document(_with_strategy("userWithId", userIds=None)),
            "features[1].strategies[0].parameters.userIds",
            id="user-with-id-null-user-ids",
        ),
        pytest.param(  # 1.9 MB: past the admin API's body limit, within an import's
            _document(_with_constraints(_constraint(values=[str(n) for n in range(200_000)]))),
            "features[1].strategies[0].constraints[0].values",
            id="200-000-values",
        ),
        pytest.param(
            _document(
                {"enabled": True, "strategies": [{"name": "default", "segments": [1]}]},
                [{"id": 1, "constraints": [_constraint(values=["\x00"])]}],
            ),
            "segments[0].constraints[0].values[0]",
            id="nul-in-a-segment",
        ),
    ],
)
def test_import__rules_that_cannot_be_evaluated__are_a_422_naming_the_field_and_write_nothing(
    server: RunningServer, document: dict[str, Any], field: str
) -> None:
    with server.admin() as admin:
        before = newest_audit_id(admin)
        response = admin.post(IMPORT, json=document)
        assert response.status_code == 422, response.text
        assert error_field(response) == field
        assert "nothing was imported" in response.json()["error"]["message"]
        assert admin.get(FLAGS).json()["flags"] == []
        assert admin.get(SEGMENTS).json()["segments"] == []
        assert newest_audit_id(admin) == before
