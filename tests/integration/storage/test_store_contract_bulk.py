"""The store contract for the dashboard's bulk reads: ``configs_for_project``,
``configs_for_flags`` and ``evidence_for`` give what the one-at-a-time reads give, for
every flag or release at once, and nothing of another project's; ``find_flags`` filters
and pages a project's flags, ``flag_facets`` lists their tags and owners. On the memory
store, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.support.store_backend import START, Backend

from shipwise.domain.releases import ChangeKind, Release
from shipwise.server.ports import FlagConfig
from shipwise.server.ports.flags import FlagFacets, FlagPage, FlagQuery


def _release(key: str, **fields: object) -> Release:
    return replace(
        Release(0, "", key, f"{key} title", ChangeKind.FEATURE, "ana", START, START),
        **fields,  # type: ignore[arg-type]
    )


def test_configs_for_project__every_config_of_every_flag__and_no_other_projects(
    backend: Backend,
) -> None:
    with backend.store.transaction() as tx:
        shop = tx.add_project("shop", "Shop", "UTC")
        other = tx.add_project("other", "Other", "UTC")
        dev = tx.add_environment(shop.id, "dev", "Dev", "dev", 0)
        prod = tx.add_environment(shop.id, "production", "Production", "main", 1)
        elsewhere = tx.add_environment(other.id, "dev", "Dev", "dev", 0)
        flags = [tx.add_flag(shop.id, key, "release", None, None, []) for key in ("a", "b")]
        foreign = tx.add_flag(other.id, "a", "release", None, None, [])
        unconfigured = tx.add_flag(shop.id, "c", "release", None, None, [])
        for flag in flags:
            for env in (dev, prod):
                tx.save_config(FlagConfig(flag.id, env.id, env is dev, [], [], [], 0, START))
        tx.save_config(FlagConfig(foreign.id, elsewhere.id, True, [], [], [], 0, START))

    with backend.store.read() as tx:
        bulk = tx.configs_for_project(shop.id)
        one_by_one = [c for flag in flags for c in tx.configs_for_flag(flag.id)]
        theirs = tx.configs_for_project(other.id)

    def by_key(config: FlagConfig) -> tuple[int, int]:
        return (config.flag_id, config.environment_id)

    assert sorted(bulk, key=by_key) == sorted(one_by_one, key=by_key)
    assert len(bulk) == 4
    assert unconfigured.id not in {c.flag_id for c in bulk}
    assert [(c.flag_id, c.environment_id) for c in theirs] == [(foreign.id, elsewhere.id)]


def test_evidence_for__gives_each_release_its_own_evidence__as_evidence_does(
    backend: Backend,
) -> None:
    with backend.store.transaction() as tx:
        shop = tx.add_project("shop", "Shop", "UTC")
        other = tx.add_project("other", "Other", "UTC")
        first = tx.add_release(shop.id, _release("R-1", commit="abc"))
        second = tx.add_release(shop.id, _release("R-2", commit="def"))
        same_commit = tx.add_release(shop.id, _release("R-3", commit="abc"))
        bare = tx.add_release(shop.id, _release("R-4"))
        tx.add_evidence(first, "approval", "production", "bo", START, {"roles": ["qa"]})
        tx.add_evidence(first, "check", "production", "bo", START, {"item": "docs"})
        tx.add_evidence(second, "signoff", "staging", "cy", START, {"kind": "qa"})
        tx.add_evidence(second, "drill", "staging", "cy", START, {"succeeded": True})
        tx.add_evidence(first, "approval", "production", "cy", START, {"roles": ["qa"]})
        tx.add_ci_result(shop.id, "abc", "ci/test", "success", START)
        tx.add_ci_result(shop.id, "def", "ci/test", "failure", START)
        tx.add_ci_result(other.id, "abc", "ci/test", "failure", START)  # another project's
        tx.add_deploy(shop.id, "staging", "def", True, "deployer", START)
        tx.add_deploy(other.id, "staging", "abc", True, "deployer", START)
        releases = [first, second, same_commit, bare]

    with backend.store.read() as tx:
        bulk = tx.evidence_for(shop.id, releases)
        one_by_one = {r.id: tx.evidence(shop.id, r) for r in releases}
        none = tx.evidence_for(shop.id, [])

    assert bulk == one_by_one
    assert none == {}
    assert [a.approver for a in bulk[first.id].approvals] == ["bo", "cy"]
    assert [c.item for c in bulk[first.id].checks] == ["docs"]
    assert [(c.commit, c.state) for c in bulk[first.id].ci] == [("abc", "success")]
    assert bulk[first.id].deploys == ()
    assert [(s.kind, s.by) for s in bulk[second.id].signoffs] == [("qa", "cy")]
    assert [d.succeeded for d in bulk[second.id].drills] == [True]
    assert [(d.environment, d.commit) for d in bulk[second.id].deploys] == [("staging", "def")]
    assert bulk[same_commit.id].approvals == ()
    assert bulk[same_commit.id].ci == bulk[first.id].ci
    assert bulk[bare.id] == one_by_one[bare.id]
    assert bulk[bare.id].ci == ()
    assert bulk[bare.id].approvals == ()


def _listed(page: FlagPage) -> tuple[list[str], int]:
    return [f.key for f in page.flags], page.total


def test_find_flags__filters_and_pages_in_key_order__counting_every_match(
    backend: Backend,
) -> None:
    with backend.store.transaction() as tx:
        shop = tx.add_project("shop", "Shop", "UTC")
        other = tx.add_project("other", "Other", "UTC")
        dev = tx.add_environment(shop.id, "dev", "Dev", "dev", 0)
        prod = tx.add_environment(shop.id, "production", "Production", "main", 1)
        add = tx.add_flag
        checkout = add(shop.id, "Checkout_v2", "release", "ana", None, ["payments", "web"])
        refunds = add(shop.id, "refunds", "operational", "bo", None, ["payments"])
        search = add(shop.id, "search", "experiment", "ana", None, ["web"])
        percent = add(shop.id, "check%out", "release", None, None, [])
        old = add(shop.id, "checkout-old", "release", "ana", None, ["payments"])
        tx.update_flag(replace(old, archived=True))
        add(other.id, "checkout", "release", "ana", None, ["payments"])  # another project's
        for flag, on_in in ((checkout, prod), (refunds, dev), (search, None), (percent, None)):
            for env in (dev, prod):
                tx.save_config(FlagConfig(flag.id, env.id, env is on_in, [], [], [], 0, START))

    with backend.store.read() as tx:

        def find(**query: Any) -> tuple[list[str], int]:
            return _listed(tx.find_flags(shop.id, FlagQuery(**query)))

        everyone = ["Checkout_v2", "check%out", "refunds", "search"]
        assert find() == (everyone, 4)
        assert _listed(tx.find_flags(shop.id, FlagQuery(), offset=1, limit=2)) == (
            ["check%out", "refunds"],
            4,
        )
        assert _listed(tx.find_flags(shop.id, FlagQuery(), offset=4, limit=2)) == ([], 4)
        assert find(tag="payments") == (["Checkout_v2", "refunds"], 2)
        assert find(tag="pay") == ([], 0)  # a whole tag, not a part of one
        assert find(kind="experiment") == (["search"], 1)
        assert find(owner="ana") == (["Checkout_v2", "search"], 2)
        assert find(search="CHECK") == (["Checkout_v2", "check%out"], 2)  # any case
        assert find(search="%") == (["check%out"], 1)  # no wildcard
        assert find(search="t_v") == (["Checkout_v2"], 1)
        assert find(search="K") == (["Checkout_v2", "check%out"], 2)
        assert find(search="\u212a") == ([], 0)  # the Kelvin sign is not a K
        assert find(enabled=True) == (["Checkout_v2", "refunds"], 2)
        assert find(enabled=False) == (["check%out", "search"], 2)
        assert find(keys=frozenset({"search", "refunds", "nope"})) == (["refunds", "search"], 2)
        assert find(keys=frozenset()) == ([], 0)
        assert find(archived=True) == (["checkout-old"], 1)
        assert find(archived=None, tag="payments", owner="ana") == (
            ["Checkout_v2", "checkout-old"],
            2,
        )


def test_configs_for_flags__every_config_of_those_flags_only(backend: Backend) -> None:
    with backend.store.transaction() as tx:
        shop = tx.add_project("shop", "Shop", "UTC")
        dev = tx.add_environment(shop.id, "dev", "Dev", "dev", 0)
        prod = tx.add_environment(shop.id, "production", "Production", "main", 1)
        flags = [tx.add_flag(shop.id, key, "release", None, None, []) for key in "abc"]
        for flag in flags:
            for env in (dev, prod):
                tx.save_config(FlagConfig(flag.id, env.id, env is dev, [], [], [], 0, START))

    with backend.store.read() as tx:
        some = tx.configs_for_flags([flags[0].id, flags[2].id])
        one_by_one = tx.configs_for_flag(flags[0].id) + tx.configs_for_flag(flags[2].id)
        none = tx.configs_for_flags([])

    def by_key(config: FlagConfig) -> tuple[int, int]:
        return (config.flag_id, config.environment_id)

    assert sorted(some, key=by_key) == sorted(one_by_one, key=by_key)
    assert len(some) == 4
    assert none == []


def test_flag_facets__every_tag_and_owner_of_the_project_once_sorted(backend: Backend) -> None:
    with backend.store.transaction() as tx:
        shop = tx.add_project("shop", "Shop", "UTC")
        other = tx.add_project("other", "Other", "UTC")
        tx.add_flag(shop.id, "a", "release", "bo", None, ["web", "payments"])
        tx.add_flag(shop.id, "b", "release", "ana", None, ["payments"])
        tx.add_flag(shop.id, "c", "release", None, None, [])
        tx.add_flag(other.id, "a", "release", "cy", None, ["elsewhere"])

    with backend.store.read() as tx:
        facets = tx.flag_facets(shop.id)

    assert facets == FlagFacets(tags=["payments", "web"], owners=["ana", "bo"])
