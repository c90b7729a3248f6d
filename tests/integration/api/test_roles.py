"""Every admin endpoint, walked with a token of each role, an admin of another project,
the global admin and each kind of SDK key: each gets exactly what its role allows.

The expectations are written out here, endpoint by endpoint, from the product's rules
(viewers read; developers and QA also change flags and segments, run rollout plans and
retreat: switch a flag off, kill it or roll its release back, equally; release managers
also add environments and skip or approve a plan's steps; project admins also manage
tokens; only global admins create projects, read every project's audit log and verify
the chain; SDK keys never use the admin API),
not derived from the code under test. A request that is refused must also change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from tests.integration.api.helpers import as_token, issue, newest_audit_id
from tests.support.git_repos import make_repo
from tests.support.server import RunningServer, free_port, running_server

from shipwise.server.ports import DeliveryState, Notification

PRINCIPALS = (
    "viewer",
    "developer",
    "qa",
    "release-manager",
    "admin",
    "other-admin",  # admin of project "other", none of "default"
    "global",  # the first admin token
    "server",  # SDK keys of default/production
    "frontend",
)

# Who may, in words the product uses. Sets are spelt out, never computed from roles.
ANY_API_TOKEN = {"viewer", "developer", "qa", "release-manager", "admin", "other-admin", "global"}
MEMBERS = {"viewer", "developer", "qa", "release-manager", "admin", "global"}
FLAG_WRITERS = {"developer", "qa", "release-manager", "admin", "global"}
PIPELINE_MANAGERS = {"release-manager", "admin", "global"}
TOKEN_MANAGERS = {"admin", "global"}
GLOBAL_ADMINS = {"global"}
RELEASERS = {"developer", "qa", "release-manager", "admin", "global"}
SIGNERS = {"qa", "release-manager", "admin", "global"}
POLICY_MANAGERS = {"release-manager", "admin", "global"}
DRILLERS = {"developer", "qa", "release-manager", "admin", "global"}  # rehearse a rollback
ROLLERS = {"developer", "qa", "release-manager", "admin", "global"}  # run rollout plans
OVERRIDERS = {"release-manager", "admin", "global"}  # skip a plan ahead, approve a step
REPORTERS = {"developer", "qa", "release-manager", "admin", "global"}  # push metric values
CHANNEL_MANAGERS = {"release-manager", "admin", "global"}  # notification channels
SDK_KEYS = {"server", "frontend"}
COMMIT = "c0ffee00" * 5
NOTE = "pr-7"  # the one entry of release notes-1's notes (a squashed pull request)

P = "/api/v1/projects/default"
# Staging: in protected production a hand edit may only reduce (test_protected_environments).
RULES = f"{P}/flags/checkout/environments/staging"
PLAN = {"steps": [{"percentage": 10}, {"percentage": 100}]}
# "{plan:NAME}" in a path becomes the id of the plan the world started as NAME
# ("{plan:pause-{who}}": the principal's own).
WATCHED = f"{P}/rollouts/{{plan:watched}}"
PLAN_OF = re.compile(r"\{plan:([^{}]+)\}")
# "{cr:NAME}" becomes the id of the change request the world opened as NAME (a principal
# without one of its own gets any request's: it is refused before the request is read).
CR = f"{P}/change-requests"
CR_OF = re.compile(r"\{cr:([^{}]+)\}")
FLAG_REQUEST = {"kind": "flag", "environment": "production", "rules": {"enabled": True}}
MAILOUT = f"{P}/mailouts/{{cr:mail-edit}}"  # an email announcement of rel-1 (``_mailouts``)
# drill-1's in-app announcements ("{cr:ann-...}" ids, as subscriptions'): one to show, and
# per principal one to end and one to remove (each may happen once).
ANNOUNCEMENTS = f"{P}/releases/drill-1/announcements"
ANNOUNCEMENT = {
    "flag": "checkout",
    "title": "by {who}",
    "body": "**new**",
    "starts_at": "2099-01-01T00:00:00+00:00",
    "ends_at": "2099-02-01T00:00:00+00:00",
    "environment": "staging",  # production's wait for drill-1 to pass its gates there
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{who}" becomes the principal's name, "{token}" a fresh token's id
    allowed: set[str]
    body: Any = None
    etag_from: str | None = None  # send If-Match with the version this GET gives now
    id: str = field(default="")

    def label(self) -> str:
        return self.id or f"{self.method} {self.path}"


def _import_document(who: str) -> dict[str, Any]:
    flag = {"name": f"imported-{who}", "enabled": True, "strategies": [{"name": "default"}]}
    return {"version": 2, "features": [flag], "segments": []}


SERVER_KEY = {"name": "{who}", "kind": "server", "project": "default", "environment": "dev"}

ENDPOINTS = [
    Endpoint("GET", "/api/v1/projects", ANY_API_TOKEN),
    Endpoint("POST", "/api/v1/projects", GLOBAL_ADMINS, {"key": "p-{who}"}),
    Endpoint("GET", P, MEMBERS),
    Endpoint("GET", f"{P}/environments", MEMBERS),
    Endpoint("POST", f"{P}/environments", PIPELINE_MANAGERS, {"key": "e-{who}"}),
    Endpoint("GET", f"{P}/environments/production", MEMBERS),
    Endpoint("GET", f"{P}/flags", MEMBERS),
    Endpoint("POST", f"{P}/flags", FLAG_WRITERS, {"key": "f-{who}"}),
    Endpoint("GET", f"{P}/flags/checkout", MEMBERS),
    Endpoint("PATCH", f"{P}/flags/checkout", FLAG_WRITERS, {"description": "by {who}"}),
    Endpoint("GET", RULES, MEMBERS),
    Endpoint("PUT", RULES, FLAG_WRITERS, {"enabled": True}, etag_from=RULES),
    Endpoint("POST", f"{RULES}/enable", FLAG_WRITERS),
    Endpoint("POST", f"{RULES}/disable", FLAG_WRITERS),
    Endpoint("POST", f"{RULES}/rollout", FLAG_WRITERS, {"percentage": 10}),
    Endpoint("POST", f"{RULES}/kill", FLAG_WRITERS, {"reason": "drill by {who}"}),
    Endpoint("GET", f"{P}/segments", MEMBERS),
    Endpoint("POST", f"{P}/segments", FLAG_WRITERS, {"name": "s-{who}", "constraints": []}),
    Endpoint("GET", f"{P}/segments/beta", MEMBERS),
    Endpoint(
        "PUT",
        f"{P}/segments/beta",
        FLAG_WRITERS,
        {"constraints": []},
        etag_from=f"{P}/segments/beta",
    ),
    Endpoint("DELETE", f"{P}/segments/gone-{{who}}", FLAG_WRITERS),
    Endpoint("GET", "/api/v1/tokens?project=default", TOKEN_MANAGERS),
    # Without a project: everything for the global admin, its own project's for an admin.
    Endpoint("GET", "/api/v1/tokens", TOKEN_MANAGERS | {"other-admin"}),
    Endpoint("POST", "/api/v1/tokens", TOKEN_MANAGERS, SERVER_KEY),
    Endpoint("GET", "/api/v1/tokens/{token}", TOKEN_MANAGERS),
    Endpoint("DELETE", "/api/v1/tokens/{token}", TOKEN_MANAGERS),
    # A link for default's viewer: "other-admin" may make links only for its own project.
    Endpoint("POST", "/api/v1/sign-in-links", TOKEN_MANAGERS, {"name": "viewer"}),
    Endpoint("GET", "/api/v1/audit?project=default", MEMBERS),
    Endpoint("GET", "/api/v1/audit", GLOBAL_ADMINS),
    Endpoint("GET", "/api/v1/audit/verify", GLOBAL_ADMINS),
    Endpoint(
        "POST", f"{P}/environments/dev/import/unleash", FLAG_WRITERS, "import", id="POST import"
    ),
    Endpoint("GET", f"{P}/releases", MEMBERS),
    Endpoint(
        "POST",
        f"{P}/releases",
        RELEASERS,
        {"key": "new-{who}", "title": "by {who}", "kind": "feature"},
    ),
    Endpoint("GET", f"{P}/releases/rel-1", MEMBERS),
    Endpoint("PATCH", f"{P}/releases/rel-1", RELEASERS, {"title": "retitled by {who}"}),
    Endpoint("POST", f"{P}/releases/rel-1/approve", RELEASERS, {}),
    Endpoint("POST", f"{P}/releases/rel-1/check", RELEASERS, {"item": "tested by {who}"}),
    Endpoint("POST", f"{P}/releases/rel-1/signoff", SIGNERS, {"kind": "qa", "stage": "staging"}),
    Endpoint(
        "POST",
        f"{P}/releases/rel-1/drills",
        RELEASERS,
        {"environment": "staging", "succeeded": True},
    ),
    Endpoint("POST", f"{P}/releases/a-{{who}}/abandon", RELEASERS, {"reason": "by {who}"}),
    Endpoint("POST", f"{P}/releases/r-{{who}}/promote", RELEASERS, {}),
    Endpoint("GET", f"{P}/releases/rel-1/gates", MEMBERS),
    Endpoint("GET", f"{P}/releases/rel-1/pr-body", MEMBERS),
    Endpoint("POST", f"{P}/deploys", RELEASERS, {"environment": "dev", "commit": COMMIT}),
    Endpoint("POST", f"{P}/ci", RELEASERS, {"commit": COMMIT, "context": "ci", "state": "success"}),
    Endpoint("POST", f"{P}/releases/rb-{{who}}/rollback", FLAG_WRITERS, {"reason": "by {who}"}),
    Endpoint(
        "POST",
        f"{P}/releases/drill-1/rollback-drill",
        DRILLERS,
        {"environment": "staging", "sample": 10},
    ),
    Endpoint("GET", f"{P}/policy", MEMBERS),
    Endpoint("PUT", f"{P}/policy", POLICY_MANAGERS, {"source": ""}),
    Endpoint("GET", f"{P}/rollouts", MEMBERS),
    Endpoint(
        "POST",
        f"{P}/rollouts",
        ROLLERS,
        {"flag": "start-{who}", "environment": "staging", "plan": PLAN},
    ),
    Endpoint("GET", WATCHED, MEMBERS),
    Endpoint("GET", f"{WATCHED}/timeline", MEMBERS),
    Endpoint("POST", f"{P}/rollouts/{{plan:pause-{{who}}}}/pause", ROLLERS, {"reason": "{who}"}),
    Endpoint("POST", f"{P}/rollouts/{{plan:resume-{{who}}}}/resume", ROLLERS),
    Endpoint("POST", f"{WATCHED}/approve", OVERRIDERS),
    Endpoint("POST", f"{P}/rollouts/{{plan:skip-{{who}}}}/skip", OVERRIDERS, {"reason": "{who}"}),
    Endpoint("POST", f"{P}/rollouts/{{plan:abort-{{who}}}}/abort", ROLLERS, {"reason": "{who}"}),
    Endpoint("GET", f"{P}/rollout-templates", MEMBERS),
    Endpoint("PUT", f"{P}/rollout-templates/t-{{who}}", ROLLERS, {"plan": PLAN}),
    Endpoint("DELETE", f"{P}/rollout-templates/gone-{{who}}", ROLLERS),
    Endpoint("GET", "/api/v1/metric-templates", ANY_API_TOKEN),
    Endpoint("GET", f"{P}/metrics", MEMBERS),
    Endpoint(
        "PUT", f"{P}/metrics/m-{{who}}", ROLLERS, {"source": "sdk", "settings": {"event": "e"}}
    ),
    Endpoint("GET", f"{P}/metrics/errors", MEMBERS),
    Endpoint("DELETE", f"{P}/metrics/gone-{{who}}", ROLLERS),
    Endpoint("POST", f"{P}/metrics/tickets/values", REPORTERS, {"value": 1}),
    Endpoint("GET", f"{P}/channels", MEMBERS),
    Endpoint("POST", f"{P}/channels", CHANNEL_MANAGERS, {"name": "c-{who}", "kind": "log"}),
    Endpoint("GET", f"{P}/channels/ops", MEMBERS),
    Endpoint("PATCH", f"{P}/channels/ops", CHANNEL_MANAGERS, {"settings": {}}),
    Endpoint("DELETE", f"{P}/channels/gone-{{who}}", CHANNEL_MANAGERS),
    Endpoint("POST", f"{P}/channels/ops/test", CHANNEL_MANAGERS),
    Endpoint("GET", f"{P}/deliveries?state=failed", MEMBERS),
    Endpoint("POST", f"{P}/deliveries/{{delivery}}/retry", CHANNEL_MANAGERS),
    Endpoint("GET", f"{P}/subscriptions", MEMBERS),
    Endpoint(
        "POST", f"{P}/subscriptions", CHANNEL_MANAGERS, {"channel": "ops", "events": ["rollout.*"]}
    ),
    Endpoint("DELETE", f"{P}/subscriptions/{{cr:sub-{{who}}}}", CHANNEL_MANAGERS),
    Endpoint("GET", f"{P}/repository", MEMBERS),
    Endpoint("PUT", f"{P}/repository", POLICY_MANAGERS, {"location": "{repo}"}),
    Endpoint("GET", f"{P}/releases/notes-1/notes", MEMBERS),
    Endpoint("GET", f"{P}/releases/report-1/report", MEMBERS),  # its plan runs in dev
    Endpoint("GET", f"{P}/releases/rel-1/learnings", MEMBERS),
    Endpoint("PUT", f"{P}/releases/r-{{who}}/learnings", RELEASERS, {"version": 0}),
    Endpoint("GET", f"{P}/releases/rel-1/record.md", MEMBERS),
    Endpoint("GET", f"{P}/releases/rel-1/schedule", MEMBERS),
    Endpoint("GET", f"{P}/releases/rel-1/schedule.ics", MEMBERS),
    Endpoint("GET", f"{P}/calendar-feeds", MEMBERS),
    Endpoint("POST", f"{P}/calendar-feeds", MEMBERS, {"name": "{who}"}),
    # Made by the global admin: its maker or a token manager revokes it.
    Endpoint("DELETE", f"{P}/calendar-feeds/{{cr:feed-{{who}}}}", TOKEN_MANAGERS),
    Endpoint("POST", f"{P}/releases/notes-1/notes/refresh", RELEASERS),
    Endpoint("PATCH", f"{P}/releases/notes-1/notes/entries/{NOTE}", RELEASERS, {"hidden": True}),
    Endpoint("GET", ANNOUNCEMENTS, MEMBERS),
    Endpoint("POST", ANNOUNCEMENTS, RELEASERS, ANNOUNCEMENT),
    Endpoint("GET", f"{ANNOUNCEMENTS}/{{cr:ann-shown}}", MEMBERS),
    Endpoint("POST", f"{ANNOUNCEMENTS}/{{cr:ann-end-{{who}}}}/end", FLAG_WRITERS),
    Endpoint("DELETE", f"{ANNOUNCEMENTS}/{{cr:ann-gone-{{who}}}}", FLAG_WRITERS),
    Endpoint("GET", f"{P}/mailouts", RELEASERS),
    Endpoint("POST", f"{P}/releases/rel-1/mailouts", RELEASERS, {}),
    Endpoint("GET", f"{MAILOUT}", RELEASERS),
    Endpoint("PATCH", f"{MAILOUT}", RELEASERS, {"subject": "by {who}"}),
    Endpoint("GET", f"{MAILOUT}/preview", RELEASERS),
    Endpoint("POST", f"{MAILOUT}/test", RELEASERS, {"to": ["{who}@example.com"]}),
    # Tried at set-up and never edited: the first allowed send mails, the others find
    # nobody left to mail.
    Endpoint("POST", f"{P}/mailouts/{{cr:mail-send}}/send", CHANNEL_MANAGERS, {}),
    Endpoint("PUT", f"{P}/releases/rel-1/help-docs", RELEASERS, {"url": "https://x.example/{who}"}),
    Endpoint("GET", CR, MEMBERS),
    Endpoint("POST", CR, FLAG_WRITERS, {**FLAG_REQUEST, "flag": "requested"}),
    Endpoint("GET", f"{CR}/{{cr:shown}}", MEMBERS),
    Endpoint("POST", f"{CR}/{{cr:approve-{{who}}}}/approve", FLAG_WRITERS),
    Endpoint("POST", f"{CR}/{{cr:reject-{{who}}}}/reject", FLAG_WRITERS, {"reason": "{who}"}),
    Endpoint("POST", f"{CR}/{{cr:withdraw-{{who}}}}/withdraw", FLAG_WRITERS),
    Endpoint("POST", f"{CR}/{{cr:apply-{{who}}}}/apply", FLAG_WRITERS),
    # The SDK API, the other way round: a server key reads its environment's snapshot.
    Endpoint("GET", "/sdk/v1/snapshot", {"server"}),
    Endpoint("GET", "/sdk/v1/announcements", {"server"}),
    Endpoint(
        "POST",
        "/sdk/v1/events",
        SDK_KEYS,
        {
            "instanceId": "{who}",
            "events": [{"flag": "checkout", "arm": "on", "event": "error", "count": 1}],
        },
    ),
]


@dataclass
class World:
    server: RunningServer
    admin: httpx.Client
    secrets: dict[str, str]
    plans: dict[str, int]  # rollout plans started for the table, by name
    requests: dict[str, int]  # change requests opened for the table, by name
    repo: str  # the project's git repository, for the release-notes routes
    delivery: int  # an undelivered outbox item of channel ops, for "{delivery}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("roles")
    with running_server(database_url=f"sqlite:///{data / 'shipwise.db'}", data_dir=data) as server:
        admin = server.admin()
        assert admin.post("/api/v1/projects", json={"key": "other"}).status_code == 201
        assert admin.post(f"{P}/flags", json={"key": "checkout"}).status_code == 201
        segment = {"name": "beta", "constraints": []}
        assert admin.post(f"{P}/segments", json=segment).status_code == 201
        for who in PRINCIPALS:  # one segment per principal to delete (it happens once)
            gone = {"name": f"gone-{who}", "constraints": []}
            assert admin.post(f"{P}/segments", json=gone).status_code == 201
        secrets = {"global": server.admin_token}
        for role in ("viewer", "developer", "qa", "release-manager", "admin"):
            secrets[role] = issue(admin, kind="api", project="default", role=role, name=role)
        secrets["other-admin"] = issue(admin, kind="api", project="other", role="admin")
        for kind in ("server", "frontend"):
            secrets[kind] = issue(admin, kind=kind, project="default", environment="production")
        _releases(server, admin)
        plans = _rollouts(admin)
        for name in ["ops", *(f"gone-{who}" for who in PRINCIPALS)]:
            added = admin.post(f"{P}/channels", json={"name": name, "kind": "log"})
            assert added.status_code == 201, added.text
        requests = _change_requests(server, admin, secrets)
        for who in PRINCIPALS:  # one subscription per principal to remove (it happens once)
            body = {"channel": "ops", "events": ["promotion.done"]}
            added = admin.post(f"{P}/subscriptions", json=body)
            assert added.status_code == 201, added.text
            requests[f"sub-{who}"] = added.json()["id"]
            feed = admin.post(f"{P}/calendar-feeds", json={"name": f"feed-{who}"})
            assert feed.status_code == 201, feed.text
            requests[f"feed-{who}"] = feed.json()["id"]
        for name in ["ann-shown", *(f"ann-{n}-{w}" for w in PRINCIPALS for n in ("end", "gone"))]:
            added = admin.post(ANNOUNCEMENTS, json=ANNOUNCEMENT)
            assert added.status_code == 201, added.text
            requests[name] = added.json()["id"]
        repo = _repository(data / "repo", admin)
        delivery = _delivery(server)
        smtp = _mailouts(admin, requests)
        yield World(server, admin, secrets, plans, requests, repo, delivery)
        admin.close()
        smtp.stop()


def _releases(server: RunningServer, admin: httpx.Client) -> None:
    """rel-1 for everyone, and drill-1 (of flag checkout) to rehearse rolling back; per
    principal, r-<who> ready to promote into dev, a-<who> to abandon and rb-<who> to
    roll back (each may happen once). Owned by someone outside the table, so nobody
    in it approves their own release."""
    owned = {"owner": "someone-else", "commit": COMMIT}
    prefixes = ("r", "a", "rb")
    keys = ["rel-1"] + [f"{prefix}-{who}" for who in PRINCIPALS for prefix in prefixes]
    for key in keys:
        body = {"key": key, "title": key, "kind": "feature", **owned}
        assert admin.post(f"{P}/releases", json=body).status_code == 201
    drill = {"key": "drill-1", "title": "drill", "kind": "feature", "flags": ["checkout"], **owned}
    assert admin.post(f"{P}/releases", json=drill).status_code == 201
    ci = {"commit": COMMIT, "context": "ci", "state": "success"}
    assert admin.post(f"{P}/ci", json=ci).status_code == 201
    for who in PRINCIPALS:
        assert admin.post(f"{P}/releases/r-{who}/approve", json={}).status_code == 200
    # report-1: a release with a rollout plan (in dev), so it has a success report
    assert admin.post(f"{P}/flags", json={"key": "reported"}).status_code == 201
    body = {"key": "report-1", "title": "report", "kind": "feature", "flags": ["reported"]}
    assert admin.post(f"{P}/releases", json={**body, **owned}).status_code == 201
    plan = {"flag": "reported", "environment": "dev", "plan": PLAN, "release": "report-1"}
    assert admin.post(f"{P}/rollouts", json=plan).status_code == 201


def _repository(path: Path, admin: httpx.Client) -> str:
    """A real git repository with one commit, the project pointed at it, and release
    notes-1 on that commit (its notes: one entry, NOTE)."""
    repo = make_repo(path)
    sha = repo.commit(f"feat: one change (#{NOTE.removeprefix('pr-')})")
    assert admin.put(f"{P}/repository", json={"location": str(path)}).status_code == 200
    body = {"key": "notes-1", "title": "notes", "kind": "feature", "commit": sha}
    assert admin.post(f"{P}/releases", json={**body, "owner": "someone-else"}).status_code == 201
    return str(path)


_PLAN_KINDS = ("pause", "resume", "skip", "abort")


def _rollouts(admin: httpx.Client) -> dict[str, int]:
    """Per principal, a flag to start a plan on and plans to pause, resume (paused
    already), skip and abort (each may happen once); one plan everyone watches and
    approves; metrics and templates to read, push to and delete."""
    metrics = {"errors": "sdk", "tickets": "pushed"} | {f"gone-{w}": "sdk" for w in PRINCIPALS}
    for name, source in metrics.items():
        settings = {"event": "error"} if source == "sdk" else {}
        body = {"source": source, "settings": settings}
        assert admin.put(f"{P}/metrics/{name}", json=body).status_code == 200
    for who in PRINCIPALS:
        response = admin.put(f"{P}/rollout-templates/gone-{who}", json={"plan": PLAN})
        assert response.status_code == 200, response.text
    plans: dict[str, int] = {}
    names = ["watched"] + [f"{kind}-{who}" for who in PRINCIPALS for kind in _PLAN_KINDS]
    for name in [*names, *(f"start-{who}" for who in PRINCIPALS)]:
        assert admin.post(f"{P}/flags", json={"key": name}).status_code == 201
    for name in names:
        body = {"flag": name, "environment": "staging", "plan": PLAN}
        started = admin.post(f"{P}/rollouts", json=body)
        assert started.status_code == 201, started.text
        plans[name] = started.json()["id"]
        if name.startswith("resume-"):
            paused = admin.post(f"{P}/rollouts/{plans[name]}/pause", json={"reason": "held"})
            assert paused.status_code == 200, paused.text
    return plans


def _change_requests(
    server: RunningServer, admin: httpx.Client, secrets: dict[str, str]
) -> dict[str, int]:
    """Per principal, a request to approve, to reject and to apply (approved already; on
    a flag of its own, so applying one leaves the others pending), all by someone outside
    the table; and one it opened itself to withdraw, for those who may open one."""
    people = {
        name: issue(admin, kind="api", project="default", role="developer", name=name)
        for name in ("requester", "reviewer-1", "reviewer-2")
    }
    requests: dict[str, int] = {}

    def post(secret: str, path: str, body: Any = None) -> dict[str, Any]:
        with as_token(server, secret) as client:
            response = client.post(path, json=body)
        assert response.is_success, response.text
        return response.json()  # type: ignore[no-any-return]

    def open_as(secret: str, name: str, flag: str) -> int:
        requests[name] = int(post(secret, CR, {**FLAG_REQUEST, "flag": flag})["id"])
        return requests[name]

    assert admin.post(f"{P}/flags", json={"key": "requested"}).status_code == 201
    open_as(people["requester"], "shown", "requested")
    for who in PRINCIPALS:
        open_as(people["requester"], f"approve-{who}", "requested")
        open_as(people["requester"], f"reject-{who}", "requested")
        assert admin.post(f"{P}/flags", json={"key": f"apply-{who}"}).status_code == 201
        number = open_as(people["requester"], f"apply-{who}", f"apply-{who}")
        for reviewer in ("reviewer-1", "reviewer-2"):
            post(people[reviewer], f"{CR}/{number}/approve")
        if who in FLAG_WRITERS:
            open_as(secrets[who], f"withdraw-{who}", "requested")
    return requests


def _delivery(server: RunningServer) -> int:
    """A message queued for channel ops (this server runs no delivery loop: it stays
    undelivered, so sending it again is always allowed to those who may)."""
    store = server.services.database
    with store.transaction() as tx:
        project = tx.get_project("default")
        assert project is not None
        [ops] = [c for c in tx.list_channels(project.id) if c.name == "ops"]
        note = Notification("rollout.advance", "default", "queued", "for ops", tx.now())
        tx.enqueue(f"channel:{ops.id}", note)
    with store.read() as tx:
        return tx.list_deliveries([f"channel:{ops.id}"], list(DeliveryState), 1)[0].id


class _Accepting:
    async def handle_DATA(self, _server: object, _session: object, _envelope: object) -> str:  # noqa: N802 (aiosmtpd's name)
        return "250 OK"


def _mailouts(admin: httpx.Client, requests: dict[str, int]) -> Controller:
    """An email channel to an SMTP server on loopback (returned, to stop), and two email
    announcements of rel-1: one to read, edit and try, one tried already to send."""
    smtp = Controller(_Accepting(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = {"host": "127.0.0.1", "port": smtp.port, "security": "none"}
    settings |= {"from": "news@example.com", "recipients": ["team@example.com"]}
    added = admin.post(
        f"{P}/channels", json={"name": "mail", "kind": "email", "settings": settings}
    )
    assert added.status_code == 201, added.text
    for name in ("mail-edit", "mail-send"):
        body = {"channel": "mail", "recipients": ["someone@example.com"]}
        drafted = admin.post(f"{P}/releases/rel-1/mailouts", json=body)
        assert drafted.status_code == 201, drafted.text
        requests[name] = drafted.json()["id"]
    tried = admin.post(f"{P}/mailouts/{requests['mail-send']}/test", json={"to": ["t@example.com"]})
    assert tried.json()["ok"] is True, tried.text
    return smtp


def _paths(world: World, path: str) -> str:
    path = path.replace("{delivery}", str(world.delivery))
    path = PLAN_OF.sub(lambda m: str(world.plans[m.group(1)]), path)
    return CR_OF.sub(lambda m: str(world.requests.get(m.group(1), world.requests["shown"])), path)


def _fill(value: Any, who: str, token: str, repo: str = "") -> Any:
    if isinstance(value, str):
        return value.replace("{who}", who).replace("{token}", token).replace("{repo}", repo)
    if isinstance(value, dict):
        return {k: _fill(v, who, token, repo) for k, v in value.items()}
    return value


def _send(world: World, endpoint: Endpoint, who: str, token: str) -> httpx.Response:
    headers = {}
    if endpoint.etag_from is not None:
        headers["If-Match"] = world.admin.get(endpoint.etag_from).headers["ETag"]
    body = (
        _import_document(who)
        if endpoint.body == "import"
        else _fill(endpoint.body, who, token, world.repo)
    )
    path = _paths(world, _fill(endpoint.path, who, token))
    with as_token(world.server, world.secrets[who]) as client:
        return client.request(endpoint.method, path, json=body, headers=headers)


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=Endpoint.label)
def test_endpoint__with_each_principal__gets_exactly_what_its_role_allows(
    world: World, endpoint: Endpoint, who: str
) -> None:
    # Given a token of project "default" for the token endpoints to read or revoke
    fresh = world.admin.post("/api/v1/tokens", json=_fill(SERVER_KEY, f"target-{who}", ""))
    before = newest_audit_id(world.admin)

    response = _send(world, endpoint, who, str(fresh.json()["id"]))

    if who in endpoint.allowed:
        assert response.is_success, f"{who}: {response.status_code} {response.text}"
    else:
        assert response.status_code == 403, f"{who}: {response.status_code} {response.text}"
        assert response.json()["error"]["message"]
        assert newest_audit_id(world.admin) == before  # refused: nothing written


# The concrete paths above, as the OpenAPI document names their parameters.
_TEMPLATE = {
    "/projects/default": "/projects/{project}",
    "/environments/production": "/environments/{environment}",
    "/environments/staging": "/environments/{environment}",
    "/environments/dev": "/environments/{environment}",
    "/flags/checkout": "/flags/{key}",
    "/segments/beta": "/segments/{name}",
    "/segments/gone-{who}": "/segments/{name}",
    "/tokens/{token}": "/tokens/{token_id}",
    "/releases/rel-1": "/releases/{key}",
    "/releases/r-{who}": "/releases/{key}",
    "/releases/a-{who}": "/releases/{key}",
    "/releases/rb-{who}": "/releases/{key}",
    "/releases/drill-1": "/releases/{key}",
    "/releases/notes-1": "/releases/{key}",
    "/releases/report-1": "/releases/{key}",
    f"/entries/{NOTE}": "/entries/{entry}",
    "/rollout-templates/t-{who}": "/rollout-templates/{name}",
    "/rollout-templates/gone-{who}": "/rollout-templates/{name}",
    "/metrics/errors": "/metrics/{name}",
    "/metrics/tickets": "/metrics/{name}",
    "/metrics/m-{who}": "/metrics/{name}",
    "/metrics/gone-{who}": "/metrics/{name}",
    "/channels/ops": "/channels/{channel}",
    "/channels/gone-{who}": "/channels/{channel}",
    "/subscriptions/{cr:sub-{who}}": "/subscriptions/{subscription}",
    "/mailouts/{cr:mail-edit}": "/mailouts/{mailout}",
    "/mailouts/{cr:mail-send}": "/mailouts/{mailout}",
    "/announcements/{cr:ann-shown}": "/announcements/{announcement}",
    "/announcements/{cr:ann-end-{who}}": "/announcements/{announcement}",
    "/announcements/{cr:ann-gone-{who}}": "/announcements/{announcement}",
    "/calendar-feeds/{cr:feed-{who}}": "/calendar-feeds/{feed}",
}
_PLAN_PATH = re.compile(r"/rollouts/\{plan:(?:[^{}]|\{who\})+\}")
_CR_PATH = re.compile(r"/change-requests/\{cr:(?:[^{}]|\{who\})+\}")


def _route(endpoint: Endpoint) -> tuple[str, str]:
    path = endpoint.path.split("?")[0]
    for concrete, template in _TEMPLATE.items():
        path = path.replace(concrete, template)
    path = _CR_PATH.sub("/change-requests/{request_id}", path)
    return endpoint.method, _PLAN_PATH.sub("/rollouts/{plan_id}", path)


def test_the_table__covers_every_admin_route(world: World) -> None:
    document = world.admin.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    covered = {_route(e) for e in ENDPOINTS if e.path.startswith("/api/v1/")}
    assert covered == routes


# Permission before validation: a body that is missing, of the wrong shape or not JSON at
# all must not earn a 422 that describes the route to a token that may not use it.
NOT_ALLOWED_TO = [
    pytest.param(endpoint, who, broken, id=f"{who}-{endpoint.label()}-{broken}")
    for endpoint in ENDPOINTS
    if endpoint.path.startswith("/api/v1/")
    for who in ("viewer", "server")
    if who not in endpoint.allowed
    for broken in ("missing", "wrong-shape", "not-json")
]
BROKEN_BODIES: dict[str, dict[str, Any]] = {
    "missing": {},
    "wrong-shape": {"json": {"unknown-field": [1], "reason": 7, "key": "Not A Key"}},
    "not-json": {"content": b'{"reason": ', "headers": {"Content-Type": "application/json"}},
}


@pytest.mark.parametrize(("endpoint", "who", "broken"), NOT_ALLOWED_TO)
def test_endpoint__with_a_broken_body_from_a_token_that_may_not__is_refused_403_not_422(
    world: World, endpoint: Endpoint, who: str, broken: str
) -> None:
    # Given a token whose role (or kind) may not use the endpoint, and a broken body
    before = newest_audit_id(world.admin)
    path = _paths(world, _fill(endpoint.path, who, "1"))

    with as_token(world.server, world.secrets[who]) as client:
        response = client.request(endpoint.method, path, **BROKEN_BODIES[broken])

    # Then the answer is about permission, and nothing was written
    assert response.status_code == 403, f"{who}: {response.status_code} {response.text}"
    assert response.json()["error"]["status"] == 403
    assert newest_audit_id(world.admin) == before
