"""What the flag pages' tests share: a real server with people signed in through the real
``POST /sign-in``, the forms of a page read as a browser reads them (so a test posts
what the page rendered: its CSRF token and version), and the flag's state read back
through the admin API.

Starting states in protected production are written in-process with an authority, as
the demo's seeding does; everything under test goes through HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import STALL_HOOKS, TLS, RunningServer, running_server

from shipwise.server.services.principal import SYSTEM

PROJECT = "default"
API = f"/api/v1/projects/{PROJECT}"
PAGES = f"/projects/{PROJECT}/flags"
SETUP = "test setup"


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden and filled inputs
    buttons: list[str] = field(default_factory=list)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    """A rendered page: its forms, every element with an id (and its text), and the
    cells of its tables by ``data-env``."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.by_id: dict[str, Element] = {}
        self.mains = 0
        self.cells: list[Element] = []  # table cells with data-env, in document order
        self._open: list[Element] = []
        self._form: Form | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "main":
            self.mains += 1
        if tag == "form":
            self._form = Form(values.get("method", "get").lower(), values.get("action", ""))
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and "name" in values:
            self._form.fields[values["name"]] = values.get("value", "")
        if tag in {"input", "meta", "link", "br", "hr", "img"}:
            if "id" in values:
                self.by_id[values["id"]] = Element(tag, values)
            return
        element = Element(tag, values)
        self._open.append(element)
        if "id" in values:
            self.by_id[values["id"]] = element

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        while self._open:
            element = self._open.pop()
            if self._form is not None and element.tag == "button":
                self._form.buttons.append(" ".join(element.text.split()))
            if self._open:
                self._open[-1].text += element.text
            if element.tag == "td" and "data-env" in element.attrs:
                self.cells.append(element)
            if element.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text += data

    def form(self, action_ends: str) -> Form:
        found = [f for f in self.forms if f.action.endswith(action_ends)]
        assert len(found) == 1, (action_ends, [f.action for f in self.forms])
        return found[0]

    def text_of(self, element_id: str) -> str:
        return " ".join(self.by_id[element_id].text.split())


def page(response: httpx.Response) -> Page:
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    return Page(response.text)


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.url}: {response.text}"
    return response.json()


@dataclass
class FlagWorld:
    server: RunningServer
    admin: httpx.Client
    opened: list[httpx.Client] = field(default_factory=list)

    def token(self, name: str, role: str) -> str:
        body = {"name": name, "kind": "api", "project": PROJECT, "role": role}
        return str(ok(self.admin.post("/api/v1/tokens", json=body))["secret"])

    def sdk_key(self, environment: str) -> str:
        body = {"name": f"sdk-{environment}", "kind": "server", "project": PROJECT}
        return str(
            ok(self.admin.post("/api/v1/tokens", json={**body, "environment": environment}))[
                "secret"
            ]
        )

    def signed_in(self, name: str, role: str) -> httpx.Client:
        """A browser-like client for a new person, signed in by the real sign-in form."""
        # 30 s is a hang guard; a stall past 8 s reports itself (stall_watch).
        browser = httpx.Client(
            base_url=self.server.url, timeout=30, event_hooks=STALL_HOOKS, verify=TLS
        )
        self.opened.append(browser)
        answer = browser.post("/sign-in", data={"token": self.token(name, role)})
        assert answer.status_code == 303, answer.text
        assert "shipwise_session" in browser.cookies
        return browser

    def flag(self, key: str, **fields: Any) -> None:
        ok(self.admin.post(f"{API}/flags", json={"key": key, **fields}))

    def rules(self, flag: str, environment: str) -> dict[str, Any]:
        return ok(self.admin.get(f"{API}/flags/{flag}/environments/{environment}"))  # type: ignore[no-any-return]

    def newest_audit_id(self) -> int:
        records = ok(self.admin.get("/api/v1/audit", params={"limit": 1}))["records"]
        return int(records[0]["id"]) if records else 0

    def set_up(self, flag: str, environment: str, rules: dict[str, Any]) -> None:
        """Rules written in-process with an authority (protected production too)."""
        version = self.rules(flag, environment)["version"]
        self.server.services.flags.update_rules(
            SYSTEM, PROJECT, flag, environment, rules, expected_version=version, authority=SETUP
        )


@contextmanager
def flag_world(database_url: str, data_dir: Path) -> Iterator[FlagWorld]:
    with (
        running_server(database_url=database_url, data_dir=data_dir) as server,
        server.admin() as admin,
    ):
        world = FlagWorld(server, admin)
        try:
            yield world
        finally:
            for client in world.opened:
                client.close()
