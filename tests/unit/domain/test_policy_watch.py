"""``[watch]`` in shipwise.toml: read, written back, each mistake named by key and line,
watching less counted as a weakening, and a plan's own watch winning over it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from textwrap import dedent

import pytest

from shipwise.domain.plan_format import parse_plan
from shipwise.domain.policy import default_policy, dump_policy, parse_policy
from shipwise.domain.policy_diff import weakenings
from shipwise.domain.policy_reading import PolicyError
from shipwise.domain.policy_watch import plan_watch
from shipwise.domain.rollout import DEFAULT_PLAN, Watch

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def test_watch__left_out__is_every_minute_for_an_hour_then_every_five_and_a_day_of_bake() -> None:
    assert parse_policy('timezone = "UTC"\n').watch == Watch(HOUR, MINUTE, 5 * MINUTE, 24 * HOUR)


def test_watch__written__sets_the_keys_it_names_and_keeps_the_others() -> None:
    text = dedent(
        """\
        [watch]
        close_for = "2h"
        then_every = "10m"
        """
    )
    assert parse_policy(text).watch == Watch(2 * HOUR, MINUTE, 10 * MINUTE, 24 * HOUR)


def test_watch__round_trips_through_dump_policy() -> None:
    policy = replace(
        default_policy(), watch=Watch(30 * MINUTE, 30 * timedelta(seconds=1), 2 * MINUTE, 48 * HOUR)
    )
    assert parse_policy(dump_policy(policy)) == policy


@pytest.mark.parametrize(
    ("body", "key", "line", "words"),
    [
        ('then_every = "soon"', "watch.then_every", 3, 'write then_every = "5m"'),
        ("close_every = 60", "watch.close_every", 3, "is not a duration"),
        ('close_every = "1s"', "watch.close_every", 3, "is too often"),
        ('bake = "0s"', "watch.bake", 3, "watched at 100% before it is called released"),
        ('bake = "400d"', "watch.bake", 3, "is not a duration for [watch]"),
        ('bak = "1d"', "watch.bak", 3, 'did you mean "bake"?'),
        ('close_every = "10m"\nthen_every = "2m"', "watch.close_every", 3, "less often"),
    ],
)
def test_watch__a_mistake__is_named_with_its_key_and_line(
    body: str, key: str, line: int, words: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(f'timezone = "UTC"\n[watch]\n{body}\n')
    assert (raised.value.key, raised.value.line) == (key, line)
    assert words in str(raised.value)


def test_watch__not_a_table__says_to_write_one() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy('watch = "1m"\n')
    assert raised.value.key == "watch"
    assert "write [watch] (single brackets)" in str(raised.value)


def test_watching_less__is_a_weakening_and_watching_more_is_not() -> None:
    old = default_policy()
    less = replace(old, watch=Watch(30 * MINUTE, MINUTE, 15 * MINUTE, 12 * HOUR))
    assert weakenings(old, less) == [
        "watch close_for: 30m instead of 1h",
        "watch then_every: 15m instead of 5m",
        "watch bake: 12h instead of 1d",
    ]
    assert weakenings(less, old) == []


def test_a_plans_watch__is_the_policys_unless_the_plan_chose_its_own() -> None:
    policy = Watch(2 * HOUR, MINUTE, 2 * MINUTE, 48 * HOUR)
    assert plan_watch(DEFAULT_PLAN, policy).watch == policy
    own = replace(DEFAULT_PLAN, watch=Watch(bake=HOUR))
    assert plan_watch(own, policy).watch == Watch(bake=HOUR)
    given = parse_plan({"steps": [{"percentage": 100}], "watch": {"bake": "3h"}}, watch=policy)
    assert given.watch == replace(policy, bake=3 * HOUR)
