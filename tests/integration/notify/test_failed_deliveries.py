"""Channels that fail hold up nothing but their own messages: on SQLite and PostgreSQL,
with Slack stand-ins on loopback answering 500, 429 (Retry-After) or hanging.

A failed delivery is listed with its error and sent again by hand; a channel that keeps
failing is announced once (``delivery.failing``), not once per attempt; 429s are Slack
asking to wait, not a failure. Delivery runs in its own loop, so while a channel hangs
the runner advances a plan and a promotion and a rollback through the API answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from tests.integration.cli.cli_runner import Shipwise
from tests.integration.notify.slack_channels import hook, two_slacks
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production
from tests.support.server import free_port
from tests.support.slack_standin import SlackStandin

from shipwise.domain.rollout import PlanStatus
from shipwise.server.api.app import create_app
from shipwise.server.bootstrap import (
    Services,
    change_bus,
    database_secret_box,
    metric_sources,
    notifiers,
    open_database,
    wire_services,
)
from shipwise.server.notify.channels import Senders
from shipwise.server.notify.log import LogNotifier
from shipwise.server.ports import AuditFilter, DeliveryState, Notification, OutboxItem
from shipwise.server.serve import Server
from shipwise.server.services.deliveries import FAILED
from shipwise.server.services.errors import Conflict
from shipwise.server.services.notifications import FAILING_KIND, Notifications
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings
from shipwise.server.worker import DeliveryLoop

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADMIN = "sw_api_failed-deliveries-admin-token-0001"
PATIENT = 120.0  # seconds a channel may take: longer than any hang guard below

__all__ = ["two_slacks"]  # a fixture


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def services(
    database_url: str, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    """The server's services as ``build`` wires them, with channels that wait up to
    ``PATIENT`` seconds for an answer: a hang lasts as long as the stand-in holds it."""
    monkeypatch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())
    settings = Settings(data_dir=tmp_path, database_url=database_url, admin_token=ADMIN)
    database = open_database(settings, clock)
    database.upgrade()
    bus = change_bus(database)
    database.attach_bus(bus)
    built = wire_services(
        database,
        bus,
        notifiers(settings),
        metric_sources(settings),
        box=database_secret_box(database),
        senders=Senders(timeout=PATIENT),
    )
    built.tokens.bootstrap_admin(ADMIN)
    built.projects.create(SYSTEM, "default", "Default project")
    yield built
    built.close()


def announce(services: Services, title: str) -> None:
    with services.database.transaction() as tx:
        notification = Notification(
            kind="rollout.advance",
            project="default",
            title=title,
            text="Step advanced.",
            at=tx.now(),
            flag="new-checkout",
            environment="production",
            data={"event_key": title},
        )
        services.notifications.announce(tx, notification)


def headlines(slack: SlackStandin) -> list[str]:
    return [m.body["blocks"][0]["text"]["text"] for m in slack.posts]


def failing_notices(services: Services) -> list[Notification]:
    """Every ``delivery.failing`` notice queued for the log notifier."""
    with services.database.read() as tx:
        logged = tx.list_deliveries(["log"], list(DeliveryState), 1000)
    return [d.notification for d in logged if d.notification.kind == FAILING_KIND]


def test_a_channel_answering_500__is_listed_failing_announced_once_and_retried_by_hand(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], clock: ManualClock
) -> None:
    # Given a channel that answers 500 four times, beside one that works
    broken, fine = two_slacks
    hook(services, "broken", broken)
    hook(services, "fine", fine)
    broken.refuse(500, times=4)
    announce(services, "new-checkout at 25%")

    # When delivery rounds retry it on its schedule (10 s, 1 min, 5 min)
    services.notifications.deliver_due()
    [first] = services.deliveries.list(SYSTEM, "default", FAILED)
    for pause in (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5)):
        clock.advance(seconds=pause.total_seconds())
        services.notifications.deliver_due()
    [listed] = services.deliveries.list(SYSTEM, "default", FAILED)
    notices = failing_notices(services)

    # Then the working channel got its message at once, and the failure is listed
    assert headlines(fine)[:1] == ["new-checkout at 25%"]
    assert (first.channel, first.event, first.title, first.attempts) == (
        "broken",
        "rollout.advance",
        "new-checkout at 25%",
        1,
    )
    assert "500" in (first.last_error or "")
    assert first.next_attempt_at == T0 + timedelta(seconds=10)
    assert (listed.id, listed.state, listed.attempts) == (first.id, DeliveryState.FAILING, 4)
    # and the channel that keeps failing was announced once, at its third failed attempt,
    # to the log and the other channels
    assert len(notices) == 1
    assert "broken" in notices[0].title
    assert "500" in notices[0].text
    assert headlines(fine) == ["new-checkout at 25%", "Deliveries to channel broken keep failing"]

    # When a release manager sends it again by hand
    retried = services.deliveries.retry(SYSTEM, "default", listed.id)
    services.notifications.deliver_due()

    # Then it is due at once with its attempts kept, goes out, and the retry is audited
    assert (retried.state, retried.attempts, retried.next_attempt_at) == (
        DeliveryState.FAILING,
        4,
        clock.now,
    )
    # (the notice that it was failing queued behind it: its readers learn it was late)
    assert headlines(broken) == [
        "new-checkout at 25%",
        "Deliveries to channel broken keep failing",
    ]
    assert services.deliveries.list(SYSTEM, "default", FAILED) == []
    [sent] = services.deliveries.list(SYSTEM, "default", [DeliveryState.DELIVERED])[-1:]
    assert sent.attempts == 5
    audit = services.audit.all(SYSTEM, AuditFilter(project="default", target_type="delivery"))
    assert [(r.entry.action, r.entry.target_key) for r in audit] == [
        ("delivery.retry", str(listed.id))
    ]
    with pytest.raises(Conflict):
        services.deliveries.retry(SYSTEM, "default", listed.id)  # went out: nothing to retry


def test_a_given_up_message_retried_by_hand__goes_out_without_letting_later_ones_overtake(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], clock: ManualClock
) -> None:
    # Given messages A, B, C on a channel where A was given up and B now fails
    broken, _ = two_slacks
    hook(services, "broken", broken)
    broken.refuse(500, times=7)  # A's six attempts, then B's first
    for title in ("A", "B", "C"):
        announce(services, title)
    services.notifications.deliver_due()
    for pause in (10, 60, 300, 1800, 7200, 1):
        clock.advance(seconds=pause)
        services.notifications.deliver_due()
    states = {d.title: d.state for d in services.deliveries.list(SYSTEM, "default")}
    states.pop("Deliveries to channel broken keep failing")  # the notice, behind C
    [given_up] = services.deliveries.list(SYSTEM, "default", [DeliveryState.GIVEN_UP])

    # When A is sent again by hand, and later B's retry comes due
    services.deliveries.retry(SYSTEM, "default", given_up.id)
    services.notifications.deliver_due()
    after_retry = headlines(broken)
    clock.advance(seconds=10)
    services.notifications.deliver_due()

    # Then A went out at once, C waited behind B, and all arrived in order
    assert states == {
        "A": DeliveryState.GIVEN_UP,
        "B": DeliveryState.FAILING,
        "C": DeliveryState.PENDING,
    }
    assert given_up.title == "A"
    assert after_retry == ["A"]
    assert headlines(broken)[:3] == ["A", "B", "C"]


def test_a_channel_answering_429__is_failing_but_never_announced_as_failing(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], clock: ManualClock
) -> None:
    # Given a channel that answers 429 (Retry-After 30 s) four times
    limited, _ = two_slacks
    hook(services, "limited", limited)
    limited.refuse(429, times=4, retry_after=30)
    announce(services, "new-checkout at 25%")

    # When rounds come after each Retry-After
    listed = []
    for _ in range(4):
        services.notifications.deliver_due()
        listed.append(services.deliveries.list(SYSTEM, "default", FAILED))
        clock.advance(seconds=31)
    services.notifications.deliver_due()

    # Then it waited as asked, each time listed failing, and nobody was told it fails
    assert [len(found) for found in listed] == [1, 1, 1, 1]
    assert "429" in (listed[-1][0].last_error or "")
    assert listed[0][0].next_attempt_at == T0 + timedelta(seconds=30)
    assert failing_notices(services) == []
    assert len(limited.posts) == 1


def test_a_channel_down_with_a_long_backlog__does_not_starve_the_other_channels(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin]
) -> None:
    # Given a channel that is down with more messages waiting than a round takes in,
    # and one message for a working channel queued after them
    down, fine = two_slacks
    hook(services, "down", down)
    down.refuse(500, times=1000)
    for number in range(150):
        with services.database.transaction() as tx:
            project = tx.get_project("default")
            assert project is not None
            [record] = tx.list_channels(project.id)
            note = Notification("rollout.advance", "default", f"backlog {number}", "t", tx.now())
            tx.enqueue(f"channel:{record.id}", note)
    hook(services, "fine", fine)
    announce(services, "new-checkout at 25%")

    # When a delivery round runs
    services.notifications.deliver_due()

    # Then the working channel got its message; the one that is down was tried once
    assert headlines(fine) == ["new-checkout at 25%"]
    assert down.requests == 1


def test_a_channel_that_hangs__holds_up_neither_the_runner_nor_a_promotion_or_a_rollback(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], clock: ManualClock
) -> None:
    # Given a plan in production, and a channel whose delivery hangs in the delivery loop
    stuck, fine = two_slacks
    hook(services, "stuck", stuck)
    hook(services, "fine", fine)
    services.flags.create(SYSTEM, "default", "new-checkout")
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        "new-checkout",
        "production",
        plan={"steps": [{"percentage": 10}, {"percentage": 100}]},
        release=release_in_production(services, "new-checkout"),
    )
    stuck.hold()
    announce(services, "the message that hangs")
    services.start_runner(interval=0.05, lease=60)
    assert _wait_for(lambda: stuck.arrived >= 1)

    with serving(services) as api:
        # When the plan's step comes due, and people promote and roll back meanwhile
        clock.advance(days=8)
        advanced = _wait_for(
            lambda: services.rollouts.get(SYSTEM, "default", plan.id).state.step == 1
        )
        promoted, rolled_back = _promote_and_roll_back(api)
        announce(services, "a later message")
        other_channel_went_on = _wait_for(lambda: "a later message" in headlines(fine))
        still_hanging = stuck.posts == [] and stuck.requests == 0
        stuck.release()

    # Then the runner advanced the plan, the API answered and the other channel got its
    # messages, all while the channel hung
    assert advanced
    assert other_channel_went_on
    assert still_hanging
    assert services.rollouts.get(SYSTEM, "default", plan.id).state.status is not PlanStatus.PAUSED
    assert promoted.status_code == 200, promoted.text
    assert rolled_back.status_code == 200, rolled_back.text


class _ReadThen(Notifications):
    """The real outbox delivery, with ``then()`` run right after a round reads what is
    due: it makes certain the moment a delivery under way ends at (between the read and
    the round starting each queue), which otherwise only happens now and then."""

    then: Callable[[], None] = staticmethod(lambda: None)

    def due_queues(self, limit: int = 1000) -> tuple[datetime, dict[str, list[OutboxItem]]]:
        read = super().due_queues(limit)
        self.then()
        return read


def _delivering(channel: str) -> bool:
    return any(t.name == f"shipwise-deliver-{channel}" for t in threading.enumerate())


def test_delivery_loop__a_delivery_ending_while_a_round_reads__is_not_sent_again(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin]
) -> None:
    # Given a channel whose first message is under way (the stand-in holds it)
    slack, _ = two_slacks
    hook(services, "hook", slack)
    notifications = _ReadThen(
        services.database,
        {"log": LogNotifier()},
        Senders(timeout=PATIENT),
        database_secret_box(services.database),
    )
    loop = DeliveryLoop(notifications, lambda: True)
    announce(services, "sent once")
    slack.hold()
    loop.run_once()
    assert _wait_for(lambda: slack.arrived == 1)

    # When the next round reads the outbox while it is under way, and it ends right after
    def first_ends() -> None:
        slack.release()
        assert _wait_for(lambda: not _delivering("channel:1"))

    notifications.then = first_ends
    loop.run_once()
    notifications.then = lambda: None
    loop.stop(grace=PATIENT)

    # Then the message went out once: the round did not send what it read as due again
    assert headlines(slack) == ["sent once"]


def test_delivery_loop__the_runner_lease_lost_mid_queue__sends_no_more_of_it(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin]
) -> None:
    # Given a channel with two messages due, the first under way (the stand-in holds it)
    slack, _ = two_slacks
    hook(services, "hook", slack)
    holding = [True]
    loop = DeliveryLoop(services.notifications, lambda: holding[0])
    announce(services, "first")
    announce(services, "second")
    slack.hold()
    loop.run_once()
    assert _wait_for(lambda: slack.arrived == 1)

    # When this instance loses the runner's lease (another one may deliver from now on)
    holding[0] = False
    slack.release()
    loop.stop(grace=PATIENT)

    # Then the message under way ends, and the rest of the queue is left to the holder
    assert headlines(slack) == ["first"]
    with services.database.read() as tx:
        due = tx.due_outbox(tx.now(), 100)
    assert [item.notification.title for item in due if item.channel == "channel:1"] == ["second"]


def test_failed_deliveries__over_the_api_and_the_cli__are_listed_and_sent_again(
    services: Services, two_slacks: tuple[SlackStandin, SlackStandin], tmp_path: Path
) -> None:
    # Given a channel whose message failed once (a 500)
    broken, _ = two_slacks
    hook(services, "broken", broken)
    broken.refuse(500)
    announce(services, "new-checkout at 25%")
    services.notifications.deliver_due()
    deliveries = "/api/v1/projects/default/deliveries"
    shipwise = Shipwise(tmp_path / "home")

    with serving(services) as api:
        remote = ("--url", str(api.base_url), "--token", ADMIN)
        # When it is listed, sent again, and the API is asked wrongly
        failed = api.get(deliveries, params={"state": "failed"})
        pending = api.get(deliveries, params={"state": "pending"})
        printed = shipwise("channel", "deliveries", "--failed", *remote)
        [item] = failed.json()["deliveries"]
        retried = shipwise.json("channel", "retry", str(item["id"]), *remote)
        unknown = api.post(f"{deliveries}/999999/retry")
        bad_state = api.get(deliveries, params={"state": "lost"})

    # Then the listing names the channel, the event, the error and the next attempt
    assert failed.status_code == 200, failed.text
    assert {k: item[k] for k in ("channel", "event", "title", "state", "attempts")} == {
        "channel": "broken",
        "event": "rollout.advance",
        "title": "new-checkout at 25%",
        "state": "failing",
        "attempts": 1,
    }
    assert "500" in item["last_error"]
    assert item["next_attempt_at"]
    assert pending.json()["deliveries"] == []
    assert printed.exit_code == 0, printed.output
    assert "broken" in printed.stdout
    assert "failing" in printed.stdout
    assert (retried["id"], retried["attempts"]) == (item["id"], 1)
    # and mistakes are 4xx naming the culprit
    assert unknown.status_code == 404
    assert "no delivery 999999" in unknown.json()["error"]["message"]
    assert bad_state.status_code in (400, 422)
    assert bad_state.json()["error"]["message"]


def _promote_and_roll_back(api: httpx.Client) -> tuple[httpx.Response, httpx.Response]:
    """Promote a release into dev and roll another back, through the API."""
    project = "/api/v1/projects/default"
    commit = "c0ffee00" * 5
    for key in ("to-dev", "to-undo"):
        body = {"key": key, "title": key, "kind": "feature", "owner": "someone", "commit": commit}
        assert api.post(f"{project}/releases", json=body).status_code == 201
    ci = {"commit": commit, "context": "ci", "state": "success"}
    assert api.post(f"{project}/ci", json=ci).status_code == 201
    assert api.post(f"{project}/releases/to-dev/approve", json={}).status_code == 200
    promoted = api.post(f"{project}/releases/to-dev/promote", json={})
    rolled_back = api.post(f"{project}/releases/to-undo/rollback", json={"reason": "drill"})
    return promoted, rolled_back


class serving:  # noqa: N801 (used as a context manager, like ``running_server``)
    """The API over ``services`` on 127.0.0.1, as ``shipwise serve`` runs it."""

    def __init__(self, services: Services) -> None:
        self._port = free_port()
        app = create_app(services)
        config = uvicorn.Config(app, host="127.0.0.1", port=self._port, log_level="warning")
        self._server = Server(config, app)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> httpx.Client:
        self._thread.start()
        assert _wait_for(lambda: self._server.started)
        self._client = httpx.Client(
            base_url=f"http://127.0.0.1:{self._port}",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=20,  # a hang guard: an answer held by the channel fails the test
        )
        return self._client

    def __exit__(self, *_: object) -> None:
        self._client.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    """Wait (not a timed assertion: a generous bound on a hang) until ``condition()``."""
    deadline = datetime.now(UTC) + timedelta(seconds=seconds)
    while datetime.now(UTC) < deadline:
        if condition():
            return True
        threading.Event().wait(0.02)
    return False
