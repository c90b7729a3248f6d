"""The flag page's forms in a real browser: an edit made on a page someone else changed
meanwhile is refused with "someone changed this; reload" and changes nothing; and "Who
gets this?", filled in by a person, answers in every environment what a real SDK client
(``shipwise.sdk.Client.explain``, with an SDK key, against the same server) answers for
the same context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.support.dashboard import Browsing, assert_accessible
from tests.support.server import RunningServer
from tests.support.team import API, PROJECT, Team

from shipwise.sdk import Client, Explanation

pytestmark = pytest.mark.browser

ENVIRONMENTS = ("dev", "staging", "production")
STALE = "Someone changed this flag since this page was loaded; reload it to see the change."
SDK_WAIT = 30  # seconds: a hang guard for the first snapshot, not a latency bound

WHO_FLAG = "address-book"
PRO = {"contextName": "plan", "operator": "IN", "values": ["pro"]}
# dev: two listed users and every pro user; staging: half of the pro users, in two
# variants; production (protected) stays off, so everyone there is told no.
WHO_RULES: dict[str, dict[str, Any]] = {
    "dev": {
        "enabled": True,
        "strategies": [
            {"name": "userWithId", "parameters": {"userIds": "7,42"}},
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": "100", "stickiness": "userId", "groupId": WHO_FLAG},
                "constraints": [PRO],
            },
        ],
    },
    "staging": {
        "enabled": True,
        "strategies": [
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": "50", "stickiness": "userId", "groupId": WHO_FLAG},
                "constraints": [PRO],
            }
        ],
        "variants": [
            {"name": "blue", "weight": 500, "stickiness": "userId"},
            {"name": "green", "weight": 500, "stickiness": "userId"},
        ],
    },
}


def flag_page(page: Page, flag: str) -> Page:
    page.goto(f"/projects/{PROJECT}/flags/{flag}")
    assert_accessible(page)
    return page


def test_flag_page__edited_after_someone_changed_the_flag__says_reload_and_changes_nothing(
    browsing: Browsing, team: Team
) -> None:
    team.flag("bulk-pricing")
    page = flag_page(browsing.as_person("alice"), "bulk-pricing")
    form = page.locator("main form[action$='/envs/dev/rollout']")
    # alice types her percentage (the form is in use: the live page keeps it as it is) …
    form.get_by_label("Rollout percentage in dev").fill("40")

    # … while bob switches the flag on at 10% through the API.
    path = f"{API}/flags/bulk-pricing/environments/dev/rollout"
    changed = team.admin.post(path, json={"percentage": 10}, headers=team.as_person("bob"))
    assert changed.is_success, changed.text
    after_bob = team.rules("bulk-pricing", "dev")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button").click()
    page.wait_for_load_state()

    assert answer.value.status == 409
    problem = page.locator("#problem-dev")
    assert STALE in problem.inner_text()
    assert problem.evaluate("message => message === document.activeElement")
    assert page.get_by_label("Rollout percentage in dev").input_value() == "40"  # kept
    assert team.rules("bulk-pricing", "dev") == after_bob  # bob's 10%, not alice's 40%
    assert_accessible(page)


@pytest.fixture(scope="module")
def explained_by_sdk(server: RunningServer, team: Team) -> Iterator[dict[str, Client]]:
    """WHO_FLAG with WHO_RULES, and a real SDK client per environment that has them."""
    team.flag(WHO_FLAG)
    for environment, rules in WHO_RULES.items():
        team.set_rules(WHO_FLAG, environment, rules)
    clients: dict[str, Client] = {}
    try:
        for environment in ENVIRONMENTS:
            key = team.sdk_key(environment)
            clients[environment] = Client(server.url, key, stream=False, metrics_interval=None)
            assert clients[environment].wait_until_ready(SDK_WAIT)
        yield clients
    finally:
        for client in clients.values():
            client.close()


def asked(page: Page, user_id: str, prop: tuple[str, str]) -> Page:
    """The "Who gets this?" form filled in with a user id and one property, and sent."""
    who = page.locator("main form[action$='/who']")
    who.get_by_label("User id").fill(user_id)
    who.get_by_label("Name 1").fill(prop[0])
    who.get_by_label("Value 1").fill(prop[1])
    with page.expect_navigation():
        who.get_by_role("button", name="Who gets this?").click()
    return page


def shown(page: Page, cell: str) -> str:
    return " ".join(page.locator(f"#{cell}").inner_text().split())


@pytest.mark.parametrize(
    ("user_id", "plan", "gets_it_in_dev"),
    [
        pytest.param("42", "free", True, id="listed-user"),
        pytest.param("1234", "pro", True, id="pro-user"),
        pytest.param("9", "free", False, id="free-user-who-does-not-get-it"),
    ],
)
def test_who_gets_this__filled_in_the_browser__answers_what_the_sdk_explains(
    browsing: Browsing,
    explained_by_sdk: dict[str, Client],
    user_id: str,
    plan: str,
    gets_it_in_dev: bool,
) -> None:
    page = flag_page(browsing.as_person("vic"), WHO_FLAG)  # reading is enough to ask

    asked(page, user_id, ("plan", plan))

    context = {"userId": user_id, "properties": {"plan": plan}}
    expected: dict[str, Explanation] = {
        environment: client.explain(WHO_FLAG, context)
        for environment, client in explained_by_sdk.items()
    }
    assert expected["dev"].enabled is gets_it_in_dev  # the cases cover both answers
    for environment, explanation in expected.items():
        assert shown(page, f"who-{environment}-why") == " ".join(explanation.message.split())
        assert shown(page, f"who-{environment}-variant") == explanation.variant.name
        answer = "gets it (on)" if explanation.enabled else "does not get it (off)"
        assert shown(page, f"who-{environment}-answer") == answer
    assert_accessible(page)
