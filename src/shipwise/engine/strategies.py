"""Activation strategies: who a strategy turns the flag on for, before its constraints
and segments are considered. One factory per strategy name, in one dispatch table.

Each factory returns an ``Activation``: a predicate over contexts (None meaning "everyone",
so the compiler can drop it), a one-line description for explanations, and optionally a
function giving the context's rollout bucket, so an explanation can say "bucket 61 > 25".
"""

from __future__ import annotations

import ipaddress
import math
import os
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipwise.engine.context import STANDARD_FIELDS, Context, as_text, field_reader
from shipwise.engine.hashing import bucket, hash32
from shipwise.engine.model import ParameterValue, Strategy
from shipwise.engine.operators import Predicate, never

Random = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Activation:
    check: Predicate | None  # None: every context is included
    description: str
    bucket: Callable[[Context], int | None] | None = None
    percentage: int | None = None  # with ``bucket``: included iff bucket <= percentage
    problem: str | None = None

    def includes(self, context: Context) -> tuple[bool, int | None]:
        """Whether the context is included, and its bucket, from a single draw when
        the bucket is random, so an explanation's answer and the bucket it quotes agree."""
        if self.check is None:
            return True, None
        if self.bucket is None or self.percentage is None:
            return self.check(context), None
        position = self.bucket(context)
        return position is not None and position <= self.percentage, position


@dataclass(frozen=True, slots=True)
class StrategyEnvironment:
    """What strategies need from outside the snapshot, passed in to keep the engine pure."""

    random: Random
    hostname: str


def _percentage(parameters: Mapping[str, ParameterValue], key: str) -> int | None:
    raw = parameters.get(key, 0)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None  # "NaN", "inf", "1e999": a percentage nobody meant
    return max(0, min(100, int(value)))


def _list_parameter(parameters: Mapping[str, ParameterValue], key: str) -> list[str]:
    raw = as_text(parameters.get(key, "")) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


def _random_bucket(rand: Random) -> int:
    return int(rand() * 100) + 1


def _sticky_rollout(
    percentage: int, group_id: str, stickiness: str, rand: Random
) -> tuple[Predicate | None, Callable[[Context], int | None]]:
    """A rollout over buckets of ``stickiness`` ('default' = userId, else sessionId, else
    random; 'random'; or any field name, which must be present)."""
    prefix = f"{group_id}:"

    if stickiness == "random":

        def random_bucket(_context: Context) -> int | None:
            return _random_bucket(rand)

        check: Predicate | None = (
            None if percentage >= 100 else lambda context: _random_bucket(rand) <= percentage
        )
        return (never if percentage <= 0 else check), random_bucket

    if stickiness == "default":
        read_user, read_session = field_reader("userId"), field_reader("sessionId")

        def default_bucket(context: Context) -> int | None:
            identifier = read_user(context) or read_session(context)
            if identifier is None:
                return _random_bucket(rand)
            return int(hash32(prefix + identifier, 0, False)) % 100 + 1

        if percentage <= 0:
            return never, default_bucket
        if percentage >= 100:
            return None, default_bucket

        def default_check(context: Context) -> bool:
            identifier = context.get("userId")
            if identifier.__class__ is not str or not identifier:
                identifier = read_user(context) or read_session(context)
                if identifier is None:
                    return _random_bucket(rand) <= percentage
            return hash32(prefix + identifier, 0, False) % 100 < percentage

        return default_check, default_bucket

    read = field_reader(stickiness)

    def field_bucket(context: Context) -> int | None:
        identifier = read(context)
        return None if identifier is None else bucket(group_id, identifier)

    if percentage <= 0:
        return never, field_bucket

    def field_check(context: Context) -> bool:
        identifier = context.get(stickiness)  # userId/sessionId: top level first, like read()
        if identifier.__class__ is not str or not identifier:
            identifier = read(context)
            if identifier is None:
                return False
        # bucket = hash % 100 + 1; "bucket <= percentage" without the extra addition
        return hash32(prefix + identifier, 0, False) % 100 < percentage

    def custom_field_check(context: Context) -> bool:
        identifier = read(context)
        return identifier is not None and hash32(prefix + identifier, 0, False) % 100 < percentage

    return (field_check if stickiness in STANDARD_FIELDS else custom_field_check), field_bucket


def _default(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
    return Activation(None, "on for everyone")


def _flexible_rollout(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
    parameters = strategy.parameters
    percentage = _percentage(parameters, "rollout")
    if percentage is None:
        return Activation(
            never, "rollout", problem=f"rollout {parameters.get('rollout')!r} is not a number"
        )
    group_id = as_text(parameters.get("groupId")) or flag
    stickiness = as_text(parameters.get("stickiness")) or "default"
    check, bucket_of = _sticky_rollout(percentage, group_id, stickiness, env.random)
    description = f"{percentage}% of {stickiness} in group {group_id!r}"
    return Activation(check, description, bucket_of, percentage)


def _gradual(stickiness: str) -> Callable[[Strategy, str, StrategyEnvironment], Activation]:
    def factory(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
        percentage = _percentage(strategy.parameters, "percentage")
        if percentage is None:
            return Activation(never, "rollout", problem="percentage is not a number")
        group_id = as_text(strategy.parameters.get("groupId")) or flag
        check, bucket_of = _sticky_rollout(percentage, group_id, stickiness, env.random)
        description = f"{percentage}% of {stickiness} in group {group_id!r}"
        return Activation(check, description, bucket_of, percentage)

    return factory


def _user_with_id(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
    users = frozenset(_list_parameter(strategy.parameters, "userIds"))
    read = field_reader("userId")
    return Activation(lambda context: read(context) in users, f"users {sorted(users)}")


def _remote_address(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
    exact: set[str] = set()
    networks = []
    for item in _list_parameter(strategy.parameters, "IPs"):
        exact.add(item)
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    read = field_reader("remoteAddress")

    def matches(context: Context) -> bool:
        address = read(context)
        if address is None:
            return False
        if address in exact:
            return True
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in networks)

    return Activation(matches, f"addresses {sorted(exact)}")


def _application_hostname(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
    hosts = {host.lower() for host in _list_parameter(strategy.parameters, "hostNames")}
    here = env.hostname.lower() in hosts
    return Activation(None if here else never, f"hosts {sorted(hosts)} (this host: {env.hostname})")


_StrategyFactory = Callable[[Strategy, str, StrategyEnvironment], Activation]

STRATEGIES: dict[str, _StrategyFactory] = {
    "default": _default,
    "flexibleRollout": _flexible_rollout,
    "gradualRolloutUserId": _gradual("userId"),
    "gradualRolloutSessionId": _gradual("sessionId"),
    "gradualRolloutRandom": _gradual("random"),
    "userWithId": _user_with_id,
    "remoteAddress": _remote_address,
    "applicationHostname": _application_hostname,
}


def compile_activation(strategy: Strategy, flag: str, env: StrategyEnvironment) -> Activation:
    factory = STRATEGIES.get(strategy.name)
    if factory is None:
        return Activation(never, strategy.name, problem=f"unknown strategy {strategy.name!r}")
    return factory(strategy, flag, env)


def default_environment() -> StrategyEnvironment:
    return StrategyEnvironment(
        random=random.random, hostname=os.environ.get("HOSTNAME") or socket.gethostname()
    )
