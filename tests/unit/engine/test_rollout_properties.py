"""Properties of gradual rollouts that must hold for every user and every percentage:
raising a rollout never takes the feature away from anyone, a p% rollout reaches p% of
users, and variant weights split users in proportion.

Expected buckets come from the documented formula, computed here with mmh3 directly:
``mmh3.hash(f"{groupId}:{userId}", 0, signed=False) % 100 + 1``.
"""

from __future__ import annotations

import math
from typing import Any

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipwise.engine import Flag, FlagState, Snapshot, Strategy, StrategyEnvironment
from shipwise.engine import VariantDefinition as Def

# Contexts without an identifier fall back to a random bucket; pin it so every
# evaluation here is deterministic.
FIXED_ENV = StrategyEnvironment(random=lambda: 0.5, hostname="test-host")
USERS = 20_000
TOLERANCE = 4.5  # standard errors: a false alarm about once in 150,000 checks (~100 a run)

group_ids = st.text(min_size=1, max_size=30)
user_ids = st.text(max_size=40)
percentages = st.integers(min_value=0, max_value=100)


def _rollout(percentage: int, group_id: str, stickiness: str) -> Snapshot:
    parameters = {"rollout": str(percentage), "groupId": group_id, "stickiness": stickiness}
    flag = Flag("f", enabled=True, strategies=(Strategy("flexibleRollout", parameters),))
    return Snapshot(FlagState(flags={"f": flag}), environment=FIXED_ENV)


def _bucket(group_id: str, identifier: str) -> int:
    return int(mmh3.hash(f"{group_id}:{identifier}", 0, signed=False)) % 100 + 1


# stickiness parameter, and how a context carries the identifier it reads
STICKINESS = [
    pytest.param("userId", lambda uid: {"userId": uid}, id="userId"),
    pytest.param("default", lambda uid: {"userId": uid, "sessionId": "s-1"}, id="default"),
    pytest.param("tenantId", lambda uid: {"properties": {"tenantId": uid}}, id="custom property"),
]


@pytest.mark.parametrize(("stickiness", "context_for"), STICKINESS)
@settings(max_examples=300, deadline=None, database=None)
@given(group_id=group_ids, user_id=user_ids, levels=st.lists(percentages, min_size=2, max_size=2))
def test_rollout__raised__never_removes_a_user_who_had_it(
    stickiness: str, context_for: Any, group_id: str, user_id: str, levels: list[int]
) -> None:
    # Given a user evaluated at the lower and at the higher of two percentages
    low, high = sorted(levels)
    context = context_for(user_id)
    had_it = _rollout(low, group_id, stickiness).is_enabled("f", context)
    # Then having it at the lower means having it at the higher
    assert not had_it or _rollout(high, group_id, stickiness).is_enabled("f", context)


@pytest.mark.parametrize(("stickiness", "context_for"), STICKINESS)
@settings(max_examples=300, deadline=None, database=None)
@given(group_id=group_ids, user_id=st.text(min_size=1, max_size=40), percentage=percentages)
def test_rollout__includes_exactly_the_buckets_up_to_the_percentage(
    stickiness: str, context_for: Any, group_id: str, user_id: str, percentage: int
) -> None:
    snapshot = _rollout(percentage, group_id, stickiness)
    expected = _bucket(group_id, user_id) <= percentage
    assert snapshot.is_enabled("f", context_for(user_id)) is expected


def _within_sampling_error(observed: int, total: int, share: float) -> bool:
    standard_error = math.sqrt(share * (1 - share) / total)
    return abs(observed / total - share) <= TOLERANCE * standard_error


@settings(max_examples=40, deadline=None, database=None)
@given(percentage=percentages, group_id=group_ids, prefix=st.text(max_size=8))
def test_rollout__reaches_its_percentage_of_users_within_sampling_error(
    percentage: int, group_id: str, prefix: str
) -> None:
    # Given 20,000 distinct users
    snapshot = _rollout(percentage, group_id, "userId")
    is_enabled = snapshot.is_enabled
    # When each is evaluated against a p% rollout
    included = sum(is_enabled("f", {"userId": f"{prefix}#{n}"}) for n in range(USERS))
    # Then the share included is p% give or take sampling error (exactly, at 0 and 100)
    assert _within_sampling_error(included, USERS, percentage / 100), (included, percentage)


# A weight is 0 (never chosen, exactly) or at least 50 of at most 4,000, so every expected
# count is in the hundreds and the normal approximation behind TOLERANCE holds.
weight = st.one_of(st.just(0), st.integers(min_value=50, max_value=1000))
weights = st.lists(weight, min_size=2, max_size=4).filter(lambda ws: sum(ws) > 0)


@settings(max_examples=25, deadline=None, database=None)
@given(weights=weights, group_id=group_ids)
def test_variants__weights_split_users_in_proportion_within_sampling_error(
    weights: list[int], group_id: str
) -> None:
    # Given a flag on for everyone with weighted variants
    names = [f"v{index}" for index in range(len(weights))]
    variants = tuple(Def(name, weight) for name, weight in zip(names, weights, strict=True))
    strategy = Strategy("default", {"groupId": group_id}, variants=variants)
    flag = Flag("f", enabled=True, strategies=(strategy,))
    snapshot = Snapshot(FlagState(flags={"f": flag}), environment=FIXED_ENV)
    # When 20,000 distinct users get a variant
    counts = dict.fromkeys(names, 0)
    for n in range(USERS):
        counts[snapshot.variant("f", {"userId": f"u{n}"}).name] += 1
    # Then each variant's share is its weight's share, within sampling error
    total = sum(weights)
    for name, weight in zip(names, weights, strict=True):
        assert _within_sampling_error(counts[name], USERS, weight / total), (counts, weights)
