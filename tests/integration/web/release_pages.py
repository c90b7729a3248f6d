"""What the board and release page tests share: a real server, people signed in through
the real ``POST /sign-in`` (httpx keeps the session cookie), a page read as a browser
reads it (its forms, its board cards, its labels: stdlib ``html.parser``), and releases
set up through the admin API, the way the CLI makes them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import STALL_HOOKS, TLS, RunningServer, running_server

PROJECT = "default"
API = f"/api/v1/projects/{PROJECT}"
BOARD = f"/projects/{PROJECT}/board"
# alice writes the changes, bob reviews them, vic only looks.
ROLES = {"alice": "developer", "bob": "developer", "vic": "viewer"}


def release_page(key: str) -> str:
    return f"/projects/{PROJECT}/releases/{key}"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class Page(HTMLParser):
    """One rendered page: its forms, its board cards by column, the ids of its labelled
    fields, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.mains = 0
        self.forms: list[Form] = []
        self.columns: dict[str, str] = {}  # release key -> the board column it is in
        self.labels: set[str] = set()  # the ids label elements name (for=)
        self.wrapped: set[str] = set()  # field names inside a <label>
        self.fields: list[tuple[str, dict[str, str]]] = []  # visible form fields
        self.ids: list[str] = []
        self.text_parts: list[str] = []
        self.cards: dict[str, str] = {}  # release key -> its card's text
        self._card: str | None = None
        self._column: str | None = None
        self._in_label = 0
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "main":
            self.mains += 1
        elif tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get")))
        elif tag == "section" and "data-column" in values:
            self._column = values["data-column"]
        elif tag == "li" and "data-release" in values and self._column is not None:
            self.columns[values["data-release"]] = self._column
            self._card = values["data-release"]
            self.cards[self._card] = ""
        elif tag == "label":
            self._in_label += 1
            if "for" in values:
                self.labels.add(values["for"])
        if tag in {"input", "select", "textarea"}:
            if self.forms and "name" in values:
                self.forms[-1].fields[values["name"]] = values.get("value", "")
            if values.get("type") != "hidden":
                self.fields.append((tag, values))
                if self._in_label:
                    self.wrapped.add(values.get("id", values.get("name", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1
        elif tag == "li" and self._card is not None:
            self.cards[self._card] = " ".join(self.cards[self._card].split())
            self._card = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._card is not None:
            self.cards[self._card] += f" {data}"

    def form(self, action_ends: str) -> Form:
        found = [f for f in self.forms if f.action.endswith(action_ends)]
        assert len(found) == 1, f"forms ending {action_ends!r}: {[f.action for f in self.forms]}"
        return found[0]

    def unlabelled(self) -> list[dict[str, str]]:
        """Visible fields without a label: neither named by one nor inside one."""
        return [
            values
            for _tag, values in self.fields
            if values.get("id") not in self.labels
            and values.get("id", values.get("name", "")) not in self.wrapped
        ]


def read(response: httpx.Response) -> Page:
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    page = Page(response.text)
    assert page.mains == 1, "one <main> per page"
    assert page.unlabelled() == [], page.unlabelled()
    assert len(page.ids) == len(set(page.ids)), "ids are unique"
    return page


@dataclass
class World:
    server: RunningServer
    admin: httpx.Client
    tokens: dict[str, str]

    @contextmanager
    def person(self, name: str) -> Iterator[httpx.Client]:
        """``name``'s browser: signed in through the real sign-in form."""
        # 30 s is a hang guard; a stall past 8 s reports itself (stall_watch).
        with httpx.Client(
            base_url=self.server.url, timeout=30, event_hooks=STALL_HOOKS, verify=TLS
        ) as client:
            response = client.post("/sign-in", data={"token": self.tokens[name], "next": "/"})
            assert response.status_code == 303, response.text
            yield client

    def api_as(self, name: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[name]}"}
        return httpx.Client(
            base_url=self.server.url,
            headers=headers,
            timeout=30,
            event_hooks=STALL_HOOKS,
            verify=TLS,
        )

    def release(self, title: str, **fields: Any) -> str:
        """A release alice opened, with a commit CI passed; its key."""
        commit = secrets.token_hex(20)
        body = {"title": title, "kind": "feature", "commit": commit, **fields}
        with self.api_as("alice") as alice:
            response = alice.post(f"{API}/releases", json=body)
        assert response.status_code == 201, response.text
        ci = {"commit": commit, "context": "tests", "state": "success"}
        assert self.admin.post(f"{API}/ci", json=ci).status_code == 201
        return str(response.json()["key"])

    def state(self, key: str) -> dict[str, Any]:
        response = self.admin.get(f"{API}/releases/{key}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def audit_count(self) -> int:
        response = self.admin.get("/api/v1/audit", params={"limit": 1})
        records = response.json()["records"]
        return int(records[0]["id"]) if records else 0


@contextmanager
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with (
        running_server(database_url=database_url, data_dir=tmp_path) as server,
        server.admin() as admin,
    ):
        tokens = {}
        for name, role in ROLES.items():
            body = {"name": name, "kind": "api", "project": PROJECT, "role": role}
            response = admin.post("/api/v1/tokens", json=body)
            assert response.status_code == 201, response.text
            tokens[name] = response.json()["secret"]
        yield World(server, admin, tokens)
