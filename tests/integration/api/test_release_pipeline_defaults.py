"""Sign-offs and rollback drills default to where the project's pipeline tests before
production, not to a "staging" it may not have: in dev → qa → prod, that is qa."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

SHOP = "/api/v1/projects/shop"
RELEASE = f"{SHOP}/releases/rel-1"
PIPELINE = [
    {"key": "dev", "branch": "dev"},
    {"key": "qa", "branch": "qa"},
    {"key": "prod", "branch": "main"},
]


@pytest.fixture
def shop(admin: httpx.Client) -> httpx.Client:
    """A project whose pipeline is dev → qa → prod, with a release of one flag that is
    on in qa."""
    assert admin.post("/api/v1/projects", json={"key": "shop", "environments": PIPELINE}).is_success
    assert admin.post(f"{SHOP}/flags", json={"key": "checkout"}).status_code == 201
    enabled = admin.post(f"{SHOP}/flags/checkout/environments/qa/enable", json={})
    assert enabled.is_success, enabled.text
    release = {"title": "Checkout", "kind": "feature", "flags": ["checkout"]}
    assert admin.post(f"{SHOP}/releases", json=release).status_code == 201
    return admin


def _newest(admin: httpx.Client, action: str) -> dict[str, Any]:
    response = admin.get("/api/v1/audit", params={"project": "shop", "action": action})
    assert response.status_code == 200, response.text
    return response.json()["records"][0]  # type: ignore[no-any-return]


def test_signoff__without_a_stage_in_a_dev_qa_prod_pipeline__lands_on_qa(
    shop: httpx.Client,
) -> None:
    response = shop.post(f"{RELEASE}/signoff", json={})

    # Before: the stage defaulted to "staging", which this pipeline lacks: a 422.
    assert response.status_code == 200, response.text
    record = _newest(shop, "release.signoff")
    assert (record["environment"], record["after"]["kind"]) == ("qa", "qa")


def test_drill_record__without_an_environment__lands_on_qa(shop: httpx.Client) -> None:
    response = shop.post(f"{RELEASE}/drills", json={"succeeded": True})

    # Before: the environment was required (a 422 naming it).
    assert response.status_code == 200, response.text
    assert _newest(shop, "release.drill")["environment"] == "qa"


def test_rollback_drill__without_an_environment__rehearses_in_qa(shop: httpx.Client) -> None:
    response = shop.post(f"{RELEASE}/rollback-drill", json={"sample": 20})

    # Before: it rehearsed in "staging", which this pipeline lacks: a 404.
    assert response.status_code == 200, response.text
    assert (response.json()["environment"], response.json()["succeeded"]) == ("qa", True)
    assert _newest(shop, "release.drill")["environment"] == "qa"


def test_signoff__naming_a_stage__still_lands_there(shop: httpx.Client) -> None:
    response = shop.post(f"{RELEASE}/signoff", json={"stage": "dev", "kind": "ux"})

    assert response.status_code == 200, response.text
    record = _newest(shop, "release.signoff")
    assert (record["environment"], record["after"]["kind"]) == ("dev", "ux")
