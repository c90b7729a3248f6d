"""Every case of the Unleash client specification, run through ``Client.from_unleash``.

The specification is the npm package ``@unleash/client-specification`` at the version
pinned in ``scripts/test``, installed by the test command (never committed). If it is
missing, collection fails loudly: no case is ever skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from shipwise import Client

SPEC_VERSION = "6.1.0"
SPEC_DIR = Path(
    os.environ.get(
        "SHIPWISE_SPEC_DIR",
        Path(__file__).parents[2] / ".cache/spec/node_modules/@unleash/client-specification",
    )
)


def _load_cases() -> list[Any]:
    package = json.loads((SPEC_DIR / "package.json").read_text())
    if package["version"] != SPEC_VERSION:
        raise RuntimeError(
            f"expected client-specification {SPEC_VERSION}, found {package['version']}"
        )
    index = json.loads((SPEC_DIR / "specifications/index.json").read_text())
    cases = []
    for file_name in index:
        suite = json.loads((SPEC_DIR / "specifications" / file_name).read_text())
        for kind in ("tests", "variantTests"):
            for number, case in enumerate(suite.get(kind, [])):
                case_id = (
                    f"{file_name.removesuffix('.json')}/{kind}/{number}: {case['description']}"
                )
                cases.append(pytest.param(file_name, kind, case, id=case_id))
    return cases


CASES = _load_cases()
_clients: dict[str, Client] = {}


def _client(file_name: str) -> Client:
    if file_name not in _clients:
        suite = json.loads((SPEC_DIR / "specifications" / file_name).read_text())
        _clients[file_name] = Client.from_unleash(suite["state"])
    return _clients[file_name]


def test_specification__has_all_279_cases() -> None:
    assert len(CASES) == 279


@pytest.mark.conformance
@pytest.mark.parametrize(("file_name", "kind", "case"), CASES)
def test_specification_case(file_name: str, kind: str, case: dict[str, Any]) -> None:
    client = _client(file_name)
    if kind == "tests":
        assert client.is_enabled(case["toggleName"], case["context"]) is case["expectedResult"]
    else:
        assert (
            client.get_variant(case["toggleName"], case["context"]).to_dict()
            == case["expectedResult"]
        )
