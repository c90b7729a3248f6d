"""The settings pages' test world: a project with ada (admin) and rita (release manager)
besides release_pages' people, channel secrets' key set as an operator sets it, and a
Slack stand-in on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.integration.web.release_pages import PROJECT, World, read, world
from tests.support.slack_standin import SlackStandin, slack_standin

SETTINGS = f"/projects/{PROJECT}/settings"
# ada administers the project (tokens and policy); rita manages releases (policy only).
MORE_PEOPLE = {"ada": "admin", "rita": "release-manager"}


@pytest.fixture
def team(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # Channel secrets' key, as an operator sets it (PostgreSQL stores no secret without).
    monkeypatch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())
    with world(database_url, tmp_path) as made:
        for name, role in MORE_PEOPLE.items():
            body = {"name": name, "kind": "api", "project": PROJECT, "role": role}
            response = made.admin.post("/api/v1/tokens", json=body)
            assert response.status_code == 201, response.text
            made.tokens[name] = response.json()["secret"]
        yield made


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with slack_standin() as standin:
        yield standin


def words(response: httpx.Response) -> str:
    """The page's text as a person reads it: no space before a colon or comma that
    follows an element (<strong>Approvals</strong>: …)."""
    return read(response).text.replace(" :", ":").replace(" ,", ",")


def post_forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="([^"]+)"', html)
