"""The SDK ``Client``: evaluation never raises, exposures are counted exactly (also
across threads), clients build from dicts and files, and the public surface is what
``__all__`` says."""

from __future__ import annotations

import json
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mmh3
import pytest

import shipwise
import shipwise.sdk
from shipwise import Client, FlagExposure, Reason, SnapshotError, Variant
from shipwise.sdk._exposures import MAX_UNKNOWN_FLAGS

ROLLOUT_PERCENT = 30


def _bucket(group_id: str, user_id: str) -> int:
    """The documented rollout bucket, computed independently of Shipwise."""
    return int(mmh3.hash(f"{group_id}:{user_id}", 0, signed=False)) % 100 + 1


def _snapshot_document() -> dict[str, Any]:
    return {
        "format": "shipwise-snapshot",
        "version": 1,
        "flags": [
            {"key": "everyone", "enabled": True},
            {"key": "nobody", "enabled": False, "strategies": [{"name": "default"}]},
            {
                "key": "pro-only",
                "enabled": True,
                "strategies": [
                    {
                        "name": "default",
                        "constraints": [
                            {"contextName": "plan", "operator": "IN", "values": ["pro"]}
                        ],
                    }
                ],
            },
            {
                "key": "allow-list",
                "enabled": True,
                "strategies": [{"name": "userWithId", "parameters": {"userIds": "42, alice"}}],
            },
            {
                "key": "rollout",
                "enabled": True,
                "strategies": [
                    {
                        "name": "flexibleRollout",
                        "parameters": {
                            "rollout": str(ROLLOUT_PERCENT),
                            "stickiness": "userId",
                            "groupId": "rollout",
                        },
                    }
                ],
            },
            {
                "key": "colour",
                "enabled": True,
                "strategies": [{"name": "default"}],
                "variants": [
                    {
                        "name": "blue",
                        "weight": 0,
                        "overrides": [{"contextName": "userId", "values": ["b1", "b2"]}],
                    },
                    {
                        "name": "green",
                        "weight": 1,
                        "payload": {"type": "string", "value": "g"},
                        "overrides": [{"contextName": "userId", "values": ["g1"]}],
                    },
                ],
            },
        ],
    }


@pytest.fixture
def client() -> Client:
    return Client.offline(_snapshot_document())


DISABLED = Variant("disabled", enabled=False, feature_enabled=False)


# -- evaluation never raises ------------------------------------------------------------

ODD_CONTEXTS = [
    pytest.param(["userId", "42"], id="a list"),
    pytest.param("userId=42", id="a string"),
    pytest.param(42, id="an int"),
    pytest.param({"userId": "42", "properties": "plan=pro"}, id="properties a string"),
    pytest.param({"userId": "42", "properties": ["pro"]}, id="properties a list"),
]


@pytest.mark.parametrize("context", ODD_CONTEXTS)
@pytest.mark.parametrize("default", [False, True])
def test_is_enabled__odd_context__gives_the_default(
    client: Client, context: Any, default: bool
) -> None:
    # Given a flag whose rule reads a custom context field
    # When the context is not the dict of dicts the SDK expects
    # Then the caller gets the default back, never an exception
    assert client.is_enabled("pro-only", context, default=default) is default


@pytest.mark.parametrize("context", ODD_CONTEXTS)
def test_get_variant__odd_context__gives_the_disabled_variant(client: Client, context: Any) -> None:
    assert client.get_variant("pro-only", context) == DISABLED


@pytest.mark.parametrize(
    "context",
    [
        *ODD_CONTEXTS,
        pytest.param([], id="an empty list"),
        pytest.param("", id="an empty string"),
        pytest.param(0, id="zero"),
    ],
)
@pytest.mark.parametrize("default", [False, True])
def test_explain__odd_context__agrees_with_is_enabled(context: Any, default: bool) -> None:
    # Client.explain promises "the value is_enabled would return"; NOT_IN on a missing
    # field is true, so an odd context read as empty would answer True, not the default.
    document = _snapshot_document()
    document["flags"].append(
        {
            "key": "not-banned",
            "enabled": True,
            "strategies": [
                {
                    "name": "default",
                    "constraints": [
                        {"contextName": "plan", "operator": "NOT_IN", "values": ["banned"]}
                    ],
                }
            ],
        }
    )
    client = Client.offline(document)
    expected = client.is_enabled("not-banned", context, default=default)
    assert client.explain("not-banned", context, default=default).enabled is expected


def test_explain__odd_context__says_what_is_wrong_with_it(client: Client) -> None:
    explanation = client.explain("pro-only", {"properties": "plan=pro"})
    assert explanation.reason is Reason.ERROR
    assert explanation.error is not None
    assert "properties" in explanation.error


def test_is_enabled__none_context__is_the_empty_context(client: Client) -> None:
    assert client.is_enabled("everyone", None) is True
    assert client.is_enabled("pro-only", None, default=True) is False
    assert client.is_enabled("rollout", None, default=True) is False


@pytest.mark.parametrize(
    ("user", "text"),
    [(1234, "1234"), (99, "99"), (7, "7"), (True, "true")],
    ids=["1234", "99", "7", "True"],
)
def test_is_enabled__non_string_user_id__is_bucketed_by_its_text(
    client: Client, user: object, text: str
) -> None:
    expected = _bucket("rollout", text) <= ROLLOUT_PERCENT
    assert client.is_enabled("rollout", {"userId": user}) is expected


def test_is_enabled__int_user_id_on_allow_list__is_on(client: Client) -> None:
    assert client.is_enabled("allow-list", {"userId": 42}) is True


@pytest.mark.parametrize("default", [False, True])
def test_is_enabled__unknown_flag__gives_the_default(client: Client, default: bool) -> None:
    assert client.is_enabled("no-such-flag", {"userId": "1"}, default=default) is default


def test_get_variant__unknown_flag__gives_the_disabled_variant(client: Client) -> None:
    variant = client.get_variant("no-such-flag", {"userId": "1"})
    assert variant == DISABLED
    assert variant.to_dict() == {"name": "disabled", "enabled": False, "feature_enabled": False}


def test_get_variant__override__gives_the_variant_with_its_payload(client: Client) -> None:
    variant = client.get_variant("colour", {"userId": "g1"})
    assert variant == Variant("green", True, True, {"type": "string", "value": "g"})


# -- exposures --------------------------------------------------------------------------


def test_exposures__is_enabled__counts_yes_and_no_per_flag(client: Client) -> None:
    for _ in range(3):
        client.is_enabled("everyone")
    for plan in ("pro", "free", "team", "pro"):
        client.is_enabled("pro-only", {"properties": {"plan": plan}})
    client.is_enabled("nobody")
    assert client.exposures() == {
        "everyone": FlagExposure(yes=3, no=0),
        "pro-only": FlagExposure(yes=2, no=2),
        "nobody": FlagExposure(yes=0, no=1),
    }


def test_exposures__get_variant__counts_each_variant(client: Client) -> None:
    for user in ("b1", "b2", "g1", "b1"):
        client.get_variant("colour", {"userId": user})
    client.get_variant("nobody", {"userId": "x"})
    exposures = client.exposures()
    assert exposures["colour"] == FlagExposure(yes=4, no=0, variants={"blue": 3, "green": 1})
    assert exposures["nobody"] == FlagExposure(yes=0, no=1, variants={"disabled": 1})


def test_exposures__failed_evaluations__are_counted_as_errors(client: Client) -> None:
    client.is_enabled("pro-only", ["not", "a", "dict"])  # type: ignore[arg-type]  # deliberately odd
    client.get_variant("pro-only", "nor this")  # type: ignore[arg-type]
    client.is_enabled("pro-only", {"properties": {"plan": "pro"}})
    assert client.exposures()["pro-only"] == FlagExposure(yes=1, no=0, errors=2)


def test_exposures__flags_never_asked_for__are_left_out(client: Client) -> None:
    client.is_enabled("everyone")
    assert list(client.exposures()) == ["everyone"]


def test_unknown_flags__lists_names_asked_for_but_missing(client: Client) -> None:
    client.is_enabled("zeta")
    client.get_variant("alpha")
    client.is_enabled("zeta", default=True)
    client.is_enabled("everyone")
    assert client.unknown_flags() == ["alpha", "zeta"]
    exposures = client.exposures()
    assert exposures["zeta"].yes + exposures["zeta"].no == 2
    assert exposures["alpha"].yes + exposures["alpha"].no == 1


def test_unknown_flags__100_000_distinct_names__keeps_only_the_first_1_000(
    client: Client,
) -> None:
    # Given an application that builds flag names from input
    for i in range(100_000):
        assert client.is_enabled(f"flag-{i}", {"userId": "1"}, default=True) is True
    # When it asks again for a name kept and one past the cap
    client.is_enabled("flag-7")
    assert client.get_variant("flag-99999") == DISABLED
    # Then the client names and counts the first 1,000, and counts the rest unnamed
    assert MAX_UNKNOWN_FLAGS == 1_000
    names = client.unknown_flags()
    assert len(names) == MAX_UNKNOWN_FLAGS
    assert set(names) == {f"flag-{i}" for i in range(MAX_UNKNOWN_FLAGS)}
    exposures = client.exposures()
    assert len(exposures) == MAX_UNKNOWN_FLAGS
    assert exposures["flag-7"] == FlagExposure(yes=1, no=1)
    assert client.unknown_overflow == 100_000 - MAX_UNKNOWN_FLAGS + 1


@pytest.mark.usefixtures("frequent_thread_switches")
def test_unknown_flags__new_names_from_many_threads__never_pass_the_cap(client: Client) -> None:
    def ask(thread: int) -> None:
        for i in range(600):
            client.is_enabled(f"t{thread}-{i}")

    threads = [threading.Thread(target=ask, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(client.unknown_flags()) == MAX_UNKNOWN_FLAGS
    assert client.unknown_overflow == 8 * 600 - MAX_UNKNOWN_FLAGS


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    # Make the interpreter switch threads often, so a lost update would show.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_exposures__four_threads_of_50000_evaluations__counts_every_one(client: Client) -> None:
    # Given 50,000 users and, from the documented formula, how many fall in a 30% rollout
    threads, users = 4, [f"user-{n}" for n in range(50_000)]
    contexts = [{"userId": user} for user in users]
    in_rollout = sum(_bucket("rollout", user) <= ROLLOUT_PERCENT for user in users)
    start = threading.Barrier(threads)

    def evaluate() -> None:
        start.wait()
        is_enabled = client.is_enabled
        for context in contexts:
            is_enabled("rollout", context)

    # When four threads evaluate every user at once
    workers = [threading.Thread(target=evaluate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # Then not one evaluation is lost, and each thread's yes/no split is the formula's
    exposure = client.exposures()["rollout"]
    assert exposure.yes + exposure.no == threads * len(users)
    assert exposure == FlagExposure(yes=threads * in_rollout, no=threads * (50_000 - in_rollout))


@pytest.mark.usefixtures("frequent_thread_switches")
def test_exposures__threads_counting_variants__count_every_one(client: Client) -> None:
    threads, rounds = 4, 12_500
    start = threading.Barrier(threads)
    contexts = [{"userId": user} for user in ("b1", "b2", "g1", "someone")]

    def evaluate() -> None:
        start.wait()
        for _ in range(rounds):
            for context in contexts:
                client.get_variant("colour", context)

    workers = [threading.Thread(target=evaluate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # "someone" has no override and blue weighs 0, so green: weight decides, not the hash
    total = threads * rounds
    assert client.exposures()["colour"] == FlagExposure(
        yes=4 * total, no=0, variants={"blue": 2 * total, "green": 2 * total}
    )


# -- construction -----------------------------------------------------------------------


def test_offline__from_a_dict__evaluates(client: Client) -> None:
    assert client.is_enabled("everyone") is True
    assert sorted(client.snapshot.flags) == sorted(f["key"] for f in _snapshot_document()["flags"])


@pytest.mark.parametrize("as_text", [False, True], ids=["Path", "str"])
def test_offline__from_a_file_path__evaluates(tmp_path: Path, as_text: bool) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(_snapshot_document()), encoding="utf-8")
    client = Client.offline(str(path) if as_text else path)
    assert client.is_enabled("allow-list", {"userId": "alice"}) is True
    assert client.is_enabled("allow-list", {"userId": "mallory"}) is False


def test_offline__malformed_snapshot__raises_snapshot_error_naming_the_flag() -> None:
    document = _snapshot_document()
    document["flags"][2]["strategies"][0]["constraints"][0].pop("operator")
    with pytest.raises(SnapshotError) as caught:
        Client.offline(document)
    assert str(caught.value) == "flag 'pro-only': strategies[0].constraints[0].operator: is missing"


def test_offline__file_that_is_not_json__raises_snapshot_error(tmp_path: Path) -> None:
    # Like load_snapshot given the same text: a truncated cache file is a malformed snapshot.
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(_snapshot_document())[:-20], encoding="utf-8")
    with pytest.raises(SnapshotError):
        Client.offline(path)


def _unleash_document() -> dict[str, Any]:
    return {
        "version": 2,
        "features": [
            {
                "name": "beta",
                "enabled": True,
                "strategies": [{"name": "default", "segments": [1]}],
            },
        ],
        "segments": [
            {
                "id": 1,
                "constraints": [{"contextName": "plan", "operator": "IN", "values": ["beta"]}],
            }
        ],
    }


@pytest.mark.parametrize("as_text", [False, True], ids=["Path", "str"])
def test_from_unleash__from_a_file_path__evaluates(tmp_path: Path, as_text: bool) -> None:
    path = tmp_path / "features.json"
    path.write_text(json.dumps(_unleash_document()), encoding="utf-8")
    client = Client.from_unleash(str(path) if as_text else path)
    assert client.is_enabled("beta", {"properties": {"plan": "beta"}}) is True
    assert client.is_enabled("beta", {"properties": {"plan": "free"}}) is False


def test_from_unleash__from_a_dict__evaluates() -> None:
    client = Client.from_unleash(_unleash_document())
    assert client.is_enabled("beta", {"plan": "beta"}) is True


# -- the public surface -----------------------------------------------------------------


@pytest.mark.parametrize("module", [shipwise, shipwise.sdk], ids=lambda m: m.__name__)
def test_all__every_name_exists(module: types.ModuleType) -> None:
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("module", [shipwise, shipwise.sdk], ids=lambda m: m.__name__)
def test_all__names_every_public_member(module: types.ModuleType) -> None:
    # Sub-packages (shipwise.engine, shipwise.sdk) are reached by import, not by name.
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(module.__all__)


def test_all__top_level_and_sdk__offer_the_same_names() -> None:
    assert sorted(shipwise.__all__) == sorted(shipwise.sdk.__all__)
    for name in shipwise.__all__:
        assert getattr(shipwise, name) is getattr(shipwise.sdk, name)
