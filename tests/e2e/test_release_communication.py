"""One feature walked through the whole release process on a simulated clock, with the
team's channels listening: what each channel hears, in order, exactly once.

The channels, as a team would set them up:
- ``releases``: Slack with a bot token, the process's defaults (production promotions,
  the upcoming release, every rollout decision, the report); a rollout is one message
  updated in place with its steps in the thread;
- ``dev``: Slack's incoming webhook, subscribed to what the developers act on (a
  release created, reviews and sign-offs asked for, approvals, refusals, drills);
- ``managers``: email to the release managers: the upcoming release and the report.

On the way the server is restarted mid-rollout (a new runner on the same database) and
Slack refuses one message, which a person sends again by hand: nothing is heard twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from cryptography.fernet import Fernet
from tests.support.chromium import chromium
from tests.support.clock import ManualClock
from tests.support.dashboard import screenshot
from tests.support.git_repos import GitRepo, make_repo
from tests.support.releases import release_in_production
from tests.support.server import RunningServer, running_server
from tests.support.slack_preview import email_page, slack_page
from tests.support.slack_standin import CHANNEL_ID, TOKEN, Message, SlackStandin, slack_standin
from tests.support.smtp_inbox import Inbox, smtp_inbox

from shipwise.domain.events import EventKind, event_kind
from shipwise.domain.rollout import PlanStatus
from shipwise.sdk import Client
from shipwise.server.services.notifications import RETRY_AFTER
from shipwise.server.services.principal import SYSTEM

MONDAY_9 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # business hours, no freeze
P = "/api/v1/projects/default"
ARCHIVE = "releases-archive@shop.example"
FLAG = "new-checkout"
PEOPLE = {
    "alice": "developer",
    "bob": "developer",
    "carol": "release-manager",
    "quinn": "qa",
    "ci": "developer",
}
PLAN = {
    "steps": [
        {"percentage": 10, "audiences": ["beta-testers"], "min_duration": "7d"},
        {"percentage": 25, "min_duration": "7d"},
        {"percentage": 50, "min_duration": "7d", "approval": True},
        {"percentage": 100, "min_duration": "0s"},
    ],
    "guardrails": [{"metric": "errors", "max_worse": 0.5}],
}


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.url}: {response.text}"
    return response.json()


@dataclass
class World:
    """The outside world the server talks to, kept across its restarts."""

    tmp: Path
    clock: ManualClock
    slack: SlackStandin
    hooks: SlackStandin
    inbox: Inbox
    repo: GitRepo
    tokens: dict[str, str] = field(default_factory=dict)  # person -> api token


class Shipwise:
    """The running server and the team's clients; ``restart`` stops it and starts a new
    one on the same data directory (its runner and delivery state start afresh)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._stack = ExitStack()
        self.server = self._start()
        self.people = self._people()

    def _start(self) -> RunningServer:
        return self._stack.enter_context(
            running_server(data_dir=self.world.tmp / "server", clock=self.world.clock)
        )

    def _people(self) -> dict[str, httpx.Client]:
        tokens = self.world.tokens
        for name, role in PEOPLE.items():
            if name not in tokens:
                tokens[name] = self.server.services.tokens.create(
                    SYSTEM, name=name, kind="api", project_key="default", role=role
                ).secret
        return {
            name: self._stack.enter_context(
                httpx.Client(
                    base_url=self.server.url,
                    headers={"Authorization": f"Bearer {secret}"},
                    timeout=30,
                )
            )
            for name, secret in tokens.items()
        }

    def __getattr__(self, name: str) -> httpx.Client:
        return self.people[name]

    def restart(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        self.server = self._start()
        self.people = self._people()

    def deliver(self) -> None:
        self.server.services.notifications.deliver_due()

    def close(self) -> None:
        self._stack.close()


@dataclass
class Walked:
    """The walk done: the world and the server as they are after it."""

    world: World
    shipwise: Shipwise
    key: str  # the feature's release
    plan_id: int
    faulty_key: str  # the feature its guardrail rolled back
    hotfix_key: str
    # At the first step (10% and the beta testers): which users saw the announcement,
    # through the frontend API and through the SDK.
    seen: dict[str, dict[str, bool]]
    schedule_ics: bytes  # the release's schedule as a calendar, when approved
    record: str  # the whole release record, as Markdown, after its learnings


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walked]:
    """The whole walk, once for the module's tests (each looks at one side of it)."""
    tmp = tmp_path_factory.mktemp("communication")
    with ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())
        repo = make_repo(tmp / "shop")
        repo.commit("chore: start the shop")
        world = World(
            tmp,
            ManualClock(MONDAY_9),
            stack.enter_context(slack_standin()),
            stack.enter_context(slack_standin()),
            stack.enter_context(smtp_inbox()),
            repo,
        )
        shipwise = Shipwise(world)
        stack.callback(shipwise.close)
        yield walk(world, shipwise)


def set_up_the_team(shipwise: Shipwise, world: World) -> None:
    services = shipwise.server.services
    services.flags.create(SYSTEM, "default", FLAG)
    services.segments.create(
        SYSTEM,
        "default",
        "beta-testers",
        [{"contextName": "userId", "operator": "IN", "values": ["beta-1"]}],
    )
    services.metric_catalog.define(SYSTEM, "default", "errors", "sdk", {"event": "error"})
    ok(shipwise.carol.put(f"{P}/repository", json={"location": str(world.repo.path)}))
    channels = [
        {
            "name": "releases",
            "kind": "slack",
            "settings": {"channel": CHANNEL_ID, "api_url": world.slack.api_url},
            "secrets": {"token": TOKEN},
        },
        {"name": "dev", "kind": "slack", "secrets": {"webhook_url": world.hooks.webhook_url}},
        {
            "name": "managers",
            "kind": "email",
            "settings": {
                "host": "127.0.0.1",
                "port": world.inbox.port,
                "security": "none",
                "from": "shipwise@shop.example",
                "recipients": ["carol@shop.example"],
            },
        },
        {  # the release archive: a mailing list that keeps everything
            "name": "archive",
            "kind": "email",
            "settings": {
                "host": "127.0.0.1",
                "port": world.inbox.port,
                "security": "none",
                "from": "shipwise@shop.example",
                "recipients": [ARCHIVE],
            },
        },
    ]
    for channel in channels:
        ok(shipwise.carol.post(f"{P}/channels", json=channel))
    developers = [
        "release.created",
        "review.requested",
        "signoff.requested",
        "release.approved",
        "promotion.refused",
        "promotion.done",
        "drill.done",
        "fix.due_soon",
        "fix.overdue",
        "release.rolled_back",
    ]
    managers = ["release.upcoming", "release.report", "rollout.rolled_back", "hotfix.started"]
    subscribed = (("dev", developers), ("managers", managers), ("archive", ["*"]))
    for channel, events in subscribed:
        ok(shipwise.carol.post(f"{P}/subscriptions", json={"channel": channel, "events": events}))
    # A freeze for the holidays applies at once; lifting it weakens the policy, so it
    # waits for a second person's review.
    freeze = '[[freeze]]\nname = "Holidays"\nstart = 2026-12-21\nend = 2027-01-04\n'
    assert ok(shipwise.carol.put(f"{P}/policy", json={"source": freeze}))["applied"] is True
    assert ok(shipwise.carol.put(f"{P}/policy", json={"source": ""}))["change_request"]
    shipwise.deliver()


def feed(
    shipwise: Shipwise, hours: int, share: float, *, flag: str = FLAG, on_rate: float = 0.01
) -> None:
    """``hours`` of production traffic, 500 users an hour, 1% of those without the
    feature erroring and ``on_rate`` of those with it."""
    services = shipwise.server.services
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, "production")
        assert environment is not None
    users = 500 * hours
    shown = round(users * share)
    services.metrics.record_exposures(environment.id, "shop", {flag: (shown, users - shown, {})})
    services.metric_catalog.record_tracked(
        environment.id,
        "shop",
        [
            {"flag": flag, "arm": "on", "event": "error", "count": round(shown * on_rate)},
            {"flag": flag, "arm": "off", "event": "error", "count": round((users - shown) * 0.01)},
        ],
    )


def plan_state(shipwise: Shipwise, plan_id: int) -> dict[str, Any]:
    return ok(shipwise.carol.get(f"{P}/rollouts/{plan_id}"))  # type: ignore[no-any-return]


def slack_titles(slack: SlackStandin) -> list[str]:
    return [m.body["blocks"][0]["text"]["text"] for m in slack.posts]


def walk(world: World, shipwise: Shipwise) -> Walked:  # noqa: PLR0915 - the process, step by step
    set_up_the_team(shipwise, world)
    repo = world.repo
    repo.commit("feat(checkout): one-page checkout (#42)")
    repo.commit("fix(cart): totals rounded to the cent (#43)")
    commit = repo.commit("chore: bump the payment client")

    # Before: the release, its reviews and QA, the drill, two production approvals.
    release = ok(
        shipwise.alice.post(
            f"{P}/releases",
            json={
                "title": "New checkout",
                "kind": "feature",
                "flags": [FLAG],
                "commit": commit,
                "pull_requests": [{"number": 42, "title": "One-page checkout"}],
                "rollback_plan": "Turn new-checkout off; revert the merge of #42.",
            },
        )
    )
    key = release["key"]
    notes = ok(shipwise.alice.get(f"{P}/releases/{key}/notes"))  # drawn from git, kept
    assert notes
    ok(shipwise.ci.post(f"{P}/ci", json={"commit": commit, "context": "tests", "state": "success"}))
    assert shipwise.carol.post(f"{P}/releases/{key}/promote", json={}).status_code == 409
    ok(shipwise.bob.post(f"{P}/releases/{key}/approve", json={}))
    ok(shipwise.carol.post(f"{P}/releases/{key}/promote", json={}))
    ok(shipwise.ci.post(f"{P}/deploys", json={"environment": "dev", "commit": commit}))
    ok(shipwise.bob.post(f"{P}/releases/{key}/approve", json={}))
    ok(shipwise.carol.post(f"{P}/releases/{key}/promote", json={}))
    ok(shipwise.ci.post(f"{P}/deploys", json={"environment": "staging", "commit": commit}))
    ok(shipwise.quinn.post(f"{P}/releases/{key}/signoff", json={"kind": "qa", "stage": "staging"}))
    drill = ok(
        shipwise.carol.post(
            f"{P}/releases/{key}/rollback-drill", json={"environment": "staging", "sample": 50}
        )
    )
    assert drill["succeeded"] is True, drill
    ok(shipwise.bob.post(f"{P}/releases/{key}/approve", json={}))
    ok(shipwise.carol.post(f"{P}/releases/{key}/approve", json={}))
    shipwise.deliver()
    schedule_ics = shipwise.carol.get(f"{P}/releases/{key}/schedule.ics")
    assert schedule_ics.status_code == 200, schedule_ics.text
    ok(shipwise.carol.post(f"{P}/releases/{key}/promote", json={}))
    shipwise.deliver()

    announcement = ok(
        shipwise.carol.post(
            f"{P}/releases/{key}/announcements",
            json={
                "flag": FLAG,
                "title": "Checkout in one step",
                "body": "Pay in **one** step. <script>alert(1)</script>",
                "link": "https://help.shop.example/checkout",
                "starts_at": MONDAY_9.isoformat(),
                "ends_at": (MONDAY_9 + timedelta(days=60)).isoformat(),
            },
        )
    )
    assert "<script>" not in announcement["html"]

    # During: the plan, a week a step, the runner checking as the clock moves.
    plan = ok(
        shipwise.carol.post(
            f"{P}/rollouts",
            json={"flag": FLAG, "environment": "production", "plan": PLAN, "release": key},
        )
    )
    plan_id = plan["id"]
    seen = who_sees_the_announcement(shipwise)
    restarted = refused = paused = False
    rollout = f"{P}/rollouts/{plan_id}"
    while plan_state(shipwise, plan_id)["state"]["status"] not in ("released", "rolled-back"):
        state = plan_state(shipwise, plan_id)["state"]
        feed(shipwise, 6, state["percentage"] / 100)
        world.clock.advance(hours=6)
        if state["status"] == "paused":  # carol looked: the tickets were not about it
            ok(shipwise.carol.post(f"{rollout}/resume"))
        elif state["status"] == "waiting-approval":  # 50% → 100% waits for a person
            ok(shipwise.carol.post(f"{rollout}/approve"))
        shipwise.server.services.runner.tick()
        step = plan_state(shipwise, plan_id)["state"]["step"]
        if step == 2 and not refused:  # Slack answers 500 once: retried, sent once
            world.slack.refuse(500)
            refused = True
        shipwise.deliver()
        if step == 2 and not paused:
            reason = {"reason": "support tickets about payments went up; checking"}
            ok(shipwise.carol.post(f"{rollout}/pause", json=reason))
            shipwise.deliver()
            paused = True
        if step == 3 and not restarted:  # a new server, its runner and deliveries afresh
            shipwise.restart()
            shipwise.server.services.runner.tick()
            shipwise.deliver()
            restarted = True
    assert plan_state(shipwise, plan_id)["state"]["status"] == PlanStatus.RELEASED.value

    # The message Slack refused is sent again by hand, once.
    failed = ok(shipwise.carol.get(f"{P}/deliveries", params={"state": "failing"}))
    for delivery in failed["deliveries"]:
        ok(shipwise.carol.post(f"{P}/deliveries/{delivery['id']}/retry"))
    shipwise.deliver()
    world.clock.advance(hours=1)
    shipwise.deliver()

    # After: the report (the runner's sweep, twice: it says each thing once), then the
    # learnings the owner is asked for, and the whole record exported.
    for _ in range(2):
        shipwise.server.services.success_reports.sweep()
        shipwise.deliver()
    learned = {
        "version": 0,
        "went_well": "The beta testers found the coupon bug before 25%.",
        "went_badly": "The Slack update at 25% failed once.",
        "contributing_factors": "Slack answered 500 for a minute.",
        "action_items": [
            {"what": "Alert on failing deliveries", "owner": "carol", "due": "2026-12-18"}
        ],
    }
    ok(shipwise.alice.put(f"{P}/releases/{key}/learnings", json=learned))
    record = shipwise.carol.get(f"{P}/releases/{key}/record.md")
    assert record.status_code == 200, record.text

    faulty_key = faulty_feature(shipwise, world)
    overdue_fix(shipwise, world)
    hotfix_key = hotfix(shipwise, world)
    return Walked(
        world,
        shipwise,
        key,
        plan_id,
        faulty_key,
        hotfix_key,
        seen,
        schedule_ics.content,
        record.text,
    )


def who_sees_the_announcement(shipwise: Shipwise) -> dict[str, dict[str, bool]]:
    """For a beta tester (the flag on) and a user the 10% leaves out: whether the
    frontend API and the SDK show them the announcement."""
    services = shipwise.server.services

    def key(kind: str) -> str:
        return services.tokens.create(
            SYSTEM,
            name=f"shop-{kind}",
            kind=kind,
            project_key="default",
            environment_key="production",
        ).secret

    client = Client(url=shipwise.server.url, sdk_key=key("server"), metrics_interval=None)
    browser = httpx.Client(
        base_url=shipwise.server.url, headers={"Authorization": key("frontend")}, timeout=30
    )
    try:
        assert client.wait_until_ready(10)
        left_out = next(
            f"user-{n}" for n in range(1000) if not client.is_enabled(FLAG, {"userId": f"user-{n}"})
        )
        seen: dict[str, dict[str, bool]] = {}
        for user in ("beta-1", left_out):
            answer = ok(browser.get("/api/frontend/announcements", params={"userId": user}))
            shown = client.announcements({"userId": user})
            seen[user if user == "beta-1" else "left-out"] = {
                "frontend": [a["title"] for a in answer["announcements"]]
                == ["Checkout in one step"],
                "sdk": [a.title for a in shown] == ["Checkout in one step"],
            }
        return seen
    finally:
        browser.close()
        client.close()


def faulty_feature(shipwise: Shipwise, world: World) -> str:
    """A second feature, in production as its walk leaves it, whose users with the
    feature see three times the errors: the runner rolls it back at its first step."""
    services = shipwise.server.services
    services.flags.create(SYSTEM, "default", "saved-carts")
    key = release_in_production(services, "saved-carts")
    plan = {**PLAN, "steps": PLAN["steps"][1:]}
    plan_id = ok(
        shipwise.carol.post(
            f"{P}/rollouts",
            json={"flag": "saved-carts", "environment": "production", "plan": plan, "release": key},
        )
    )["id"]
    while plan_state(shipwise, plan_id)["state"]["status"] == "running":
        share = plan_state(shipwise, plan_id)["state"]["percentage"] / 100
        feed(shipwise, 6, share, flag="saved-carts", on_rate=0.03)
        world.clock.advance(hours=6)
        shipwise.server.services.runner.tick()
        shipwise.deliver()
    assert plan_state(shipwise, plan_id)["state"]["status"] == "rolled-back"
    return key


def hotfix(shipwise: Shipwise, world: World) -> str:
    """A critical bug fixed from main straight to production, on a Saturday night."""
    world.clock.set(datetime(2026, 12, 5, 23, 30, tzinfo=UTC))
    commit = world.repo.commit("fix(payments): stop charging twice (#51)")
    key = ok(
        shipwise.alice.post(
            f"{P}/releases",
            json={
                "title": "Stop double charges",
                "kind": "hotfix",
                "severity": "critical",
                "branch": "main",
                "commit": commit,
                "justification": "Customers are charged twice since 22:10.",
            },
        )
    )["key"]
    # The developers' Slack is down through the night: its messages wait, it is given
    # up after the last retry, and the team channel hears that it keeps failing.
    world.hooks.refuse(500, times=len(RETRY_AFTER) + 1)
    shipwise.deliver()
    ok(shipwise.ci.post(f"{P}/ci", json={"commit": commit, "context": "tests", "state": "success"}))
    ok(shipwise.bob.post(f"{P}/releases/{key}/approve", json={}))
    ok(shipwise.carol.post(f"{P}/releases/{key}/approve", json={}))
    ok(shipwise.carol.post(f"{P}/releases/{key}/promote", json={}))
    shipwise.deliver()
    for pause in RETRY_AFTER:
        world.clock.advance(seconds=pause.total_seconds() + 1)
        shipwise.deliver()
    given_up = ok(shipwise.carol.get(f"{P}/deliveries", params={"state": "given-up"}))
    assert [d["title"] for d in given_up["deliveries"]] == [
        f"New release {key} (Stop double charges)"
    ]
    ok(shipwise.carol.post(f"{P}/deliveries/{given_up['deliveries'][0]['id']}/retry"))
    shipwise.deliver()
    # Sunday morning: the fix made refunds fail; carol takes it back.
    world.clock.advance(hours=8)
    reason = {"reason": "refunds fail since the fix; reverting"}
    ok(shipwise.carol.post(f"{P}/releases/{key}/rollback", json=reason))
    for _ in range(2):
        shipwise.deliver()
    return key


def overdue_fix(shipwise: Shipwise, world: World) -> None:
    """A high-severity bug fix (24 h to fix) that sits: due soon, then overdue."""
    ok(
        shipwise.alice.post(
            f"{P}/releases",
            json={"title": "Coupons applied twice", "kind": "bugfix", "severity": "high"},
        )
    )
    for _ in range(6):
        world.clock.advance(hours=6)
        shipwise.server.services.fix_sweep.sweep()
        shipwise.deliver()


def test_the_announcement__is_seen_by_a_user_with_the_feature_and_not_by_one_without(
    walked: Walked,
) -> None:
    assert walked.seen == {
        "beta-1": {"frontend": True, "sdk": True},
        "left-out": {"frontend": False, "sdk": False},
    }


def test_the_schedule__is_a_calendar_of_each_step_its_close_watch_and_the_bake(
    walked: Walked,
) -> None:
    calendar = icalendar.Calendar.from_ical(walked.schedule_ics)
    events = {
        str(event["UID"]): (event.decoded("DTSTART"), event.decoded("DTEND"))
        for event in calendar.walk("VEVENT")
    }
    week = timedelta(days=7)
    hour = timedelta(hours=1)
    expected = {}
    for step in range(1, 4):  # 10% + beta, 25%, 50%: a week each from the approval
        start = MONDAY_9 + (step - 1) * week
        expected[f"default/rel-1/estimate/step/{step}@shipwise"] = (start, start + week)
        expected[f"default/rel-1/estimate/close-watch/{step}@shipwise"] = (start, start + hour)
    at_100 = MONDAY_9 + 3 * week
    expected["default/rel-1/estimate/close-watch/4@shipwise"] = (at_100, at_100 + hour)
    expected["default/rel-1/estimate/bake/4@shipwise"] = (at_100, at_100 + timedelta(days=1))
    assert events == expected


def test_each_channel__hears_each_thing_once__in_order(walked: Walked) -> None:
    world = walked.world
    checkout = "new-checkout (rel-1) in production:"
    carts = "saved-carts (rel-2) in production:"
    rollout_one = [
        f"{checkout} moved to 10% + beta-testers for 7d (step 1 of 4)",
        f"{checkout} moved to 25% for 7d (step 2 of 4)",
        f"{checkout} paused at step 2 of 4: a person must look",
        f"{checkout} moved to 50% for 7d (step 3 of 4)",
        f"{checkout} step 3 of 4 done, waiting for approval to go on",
        f"{checkout} reached 100%, baking (step 4 of 4)",
        f"{checkout} released",
    ]
    rollout_two = [
        f"{carts} moved to 25% for 7d (step 1 of 3)",
        f"{carts} ROLLED BACK at step 1 of 3 (flag off)",
    ]
    # The team's channel (a bot): the before, one message per rollout updated in place
    # with its steps in the thread, the report, the hotfix, the failing channel.
    assert slack_titles(world.slack) == [
        "Upcoming in production: rel-1 (New checkout)",
        "rel-1 (New checkout) promoted to production",
        *rollout_one,
        "rel-1 (New checkout) is released: the success report",
        "rel-1 (New checkout): alice, please write its learnings",
        *rollout_two,
        "Upcoming in production: rel-4 (Stop double charges)",
        "HOTFIX rel-4 (Stop double charges) promoted to production",
        "Deliveries to channel dev keep failing",
        "rel-4 (Stop double charges) rolled back",
    ]
    assert [title(m) for m in world.slack.updates] == rollout_one[1:] + rollout_two[1:]
    parents = {m.ts: title(m) for m in world.slack.posts if "thread_ts" not in m.body}
    replies = [
        (parents[m.body["thread_ts"]], title(m)) for m in world.slack.posts if "thread_ts" in m.body
    ]
    assert replies == [(rollout_one[0], t) for t in rollout_one[1:]] + [
        (rollout_two[0], rollout_two[1])
    ]
    # The developers' channel (an incoming webhook): what they act on. Its messages of
    # the hotfix's night waited behind the one it could not take, sent again by hand.
    assert slack_titles(world.hooks) == [
        "change request #1: carol asks to change the policy of 'default'",
        "New release rel-1 (New checkout)",
        "rel-1 (New checkout) cannot go to dev yet",
        "rel-1 (New checkout) approved for dev by bob",
        "rel-1 (New checkout) promoted to dev",
        "rel-1 (New checkout) approved for staging by bob",
        "rel-1 (New checkout) promoted to staging",
        "rel-1 (New checkout) waits for QA sign-off in staging",
        "Rollback drill of rel-1 (New checkout) passed in staging",
        "rel-1 (New checkout) approved for production by bob",
        "rel-1 (New checkout) approved for production by carol",
        "rel-1 (New checkout) promoted to production",
        "New release rel-2 (saved-carts for everyone)",
        "New release rel-3 (Coupons applied twice)",
        "Fix rel-3 (Coupons applied twice) is due in 6 h",
        "Fix rel-3 (Coupons applied twice) is overdue",
        "New release rel-4 (Stop double charges)",
        "rel-4 (Stop double charges) approved for production by bob",
        "rel-4 (Stop double charges) approved for production by carol",
        "rel-4 (Stop double charges) rolled back",
    ]
    # The release managers' inbox.
    managers = [m for m in world.inbox.messages if m["To"] == "carol@shop.example"]
    assert [m["Subject"] for m in managers] == [
        "Upcoming in production: rel-1 (New checkout)",
        "rel-1 (New checkout) is released: the success report",
        f"{carts} ROLLED BACK at step 1 of 3 (flag off)",
        "Upcoming in production: rel-4 (Stop double charges)",
        "HOTFIX rel-4 (Stop double charges) promoted to production",
    ]
    # The archive: every message, the same as the team's and the developers' together.
    archived = [m for m in world.inbox.messages if m["To"] == ARCHIVE]
    assert len(archived) + len(managers) == len(world.inbox.messages)
    assert len({m["Subject"] for m in archived}) == len(archived)  # none twice
    assert not world.slack.problems
    assert not world.hooks.problems


def title(message: Message) -> str:
    return str(message.body["blocks"][0]["text"]["text"])


def test_the_messages__carry_what_each_stage_of_the_process_asks_for(walked: Walked) -> None:
    by_title = {title(m): m for m in walked.world.slack.posts}
    upcoming = text_of(by_title["Upcoming in production: rel-1 (New checkout)"])
    for expected in (
        "one-page checkout",  # the notes
        "bob",  # who approved
        "carol",
        "Turn new-checkout off; revert the merge of #42.",  # the rollback plan
        "2026-11-09",  # the schedule: step 2 a week later
    ):
        assert expected in upcoming, (expected, upcoming)
    step = text_of(
        by_title["new-checkout (rel-1) in production: moved to 25% for 7d (step 2 of 4)"]
    )
    assert "with the feature" in step
    assert "without" in step
    assert "interval" in step
    assert f"/projects/default/rollouts/{walked.plan_id}" in step
    rollback = text_of(
        by_title["saved-carts (rel-2) in production: ROLLED BACK at step 1 of 3 (flag off)"]
    )
    assert "errors" in rollback
    assert "observed" in rollback
    assert "allowed" in rollback
    report = text_of(by_title["rel-1 (New checkout) is released: the success report"])
    assert "10% + beta-testers" in report
    assert "errors" in report
    email = next(m for m in walked.world.inbox.messages if "success report" in str(m["Subject"]))
    plain = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert "errors" in plain.get_content()
    assert "errors" in html.get_content()


def text_of(message: Message) -> str:
    """Everything a Slack message says, its blocks' texts and fields joined, unescaped."""
    parts: list[str] = []
    for block in message.body["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(field["text"] for field in block.get("fields", []))
        parts.extend(element["text"] for element in block.get("elements", []))
    return html.unescape("\n".join(parts))


def test_the_record__exports_notes_gates_approvals_rollout_report_and_learnings(
    walked: Walked,
) -> None:
    record = walked.record
    headings = [line for line in record.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Release notes",
        "## Gates",
        "## Approvals and sign-offs",
        "## Checklist",
        "## Rollback drills",
        "## Promotions",
        "## Rollout",
        "## Success report",
        "## Learnings",
        "## Timeline",
    ]
    for expected in (
        "- one-page checkout",
        "| 2026-11-02 09:00 UTC | carol | approval | production | 1 |",
        "| 2 | 25% for 7d |",
        "The beta testers found the coupon bug before 25%.",
        "| Alert on failing deliveries | carol | 2026-12-18 |",
    ):
        assert expected in record, expected


# --- each kind of message as people see it (the pictures in docs/communication.md) ------

KIND_FACT = re.compile(r"kind: \*?([a-z_.-]+)\*?")


def stable_kind(kind: str, title: str) -> str:
    """The event's stable name (a rollout's first step is its start)."""
    return event_kind(kind, 1 if "(step 1 of" in title else None)


def slack_by_kind(walked: Walked) -> dict[str, Message]:
    """The first Slack message of each kind, from both channels."""
    found: dict[str, Message] = {}
    for message in [*walked.world.slack.posts, *walked.world.hooks.posts]:
        context = message.body["blocks"][-1]["elements"][0]["text"]
        matched = KIND_FACT.search(context)
        assert matched, context
        found.setdefault(stable_kind(matched[1], title(message)), message)
    return found


def emails_by_kind(walked: Walked) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for message in walked.world.inbox.messages:
        if message["To"] != ARCHIVE:
            continue
        plain = message.get_body(("plain",))
        assert plain is not None
        matched = KIND_FACT.search(plain.get_content())
        assert matched
        found.setdefault(stable_kind(matched[1], str(message["Subject"])), message)
    return found


@pytest.mark.browser
def test_each_kind_of_message__is_drawn_as_slack_and_email_show_it(walked: Walked) -> None:
    slack = slack_by_kind(walked)
    emails = emails_by_kind(walked)
    # The walk goes through every stable kind; each is drawn once.
    assert set(slack) == {kind.value for kind in EventKind}
    assert set(emails) == set(slack)  # the archive hears every kind too
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 820, "height": 400})
        try:
            for kind, message in sorted(slack.items()):
                page.set_content(slack_page(message.body))
                assert title(message) in page.inner_text("body")
                screenshot(page, f"messages/slack-{kind}")
            for kind, mail in sorted(emails.items()):
                html_part = mail.get_body(("html",))
                assert html_part is not None
                subject = str(mail["Subject"])
                page.set_content(
                    email_page(subject, str(mail["From"]), str(mail["To"]), html_part.get_content())
                )
                assert subject in page.inner_text("body")
                screenshot(page, f"messages/email-{kind}")
        finally:
            page.close()
