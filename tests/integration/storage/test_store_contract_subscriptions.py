"""The store contract, subscriptions: which events go to which channel, gone with their
channel; and dedupe keys, each claimed once per destination. On the memory store,
SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.store_backend import START, Backend

from shipwise.server.ports import Store


def _channel(store: Store, name: str = "team") -> tuple[int, int]:
    with store.transaction() as tx:
        project = tx.get_project("shop") or tx.add_project("shop", "Shop", "UTC")
        channel = tx.add_channel(
            project_id=project.id, name=name, kind="log", settings={}, sealed=None, created_by="a"
        )
        return project.id, channel.id


def _subscribe(store: Store, project: int, channel: int, *events: str) -> int:
    with store.transaction() as tx:
        return tx.add_subscription(
            project_id=project,
            channel_id=channel,
            events=events,
            environments=("production",),
            flags=("checkout",),
            release_kinds=("hotfix",),
            min_severity="warning",
            created_by="ana",
        ).id


def test_subscriptions__added__are_listed_in_order_with_their_scope(backend: Backend) -> None:
    project, channel = _channel(backend.store)
    first = _subscribe(backend.store, project, channel, "promotion.done", "rollout.*")
    second = _subscribe(backend.store, project, channel, "*")

    with backend.store.read() as tx:
        listed = tx.list_subscriptions(project)
    assert [s.id for s in listed] == [first, second]
    one = listed[0]
    assert (one.channel_id, one.events, one.environments) == (
        channel,
        ("promotion.done", "rollout.*"),
        ("production",),
    )
    assert (one.flags, one.release_kinds, one.min_severity) == (
        ("checkout",),
        ("hotfix",),
        "warning",
    )
    assert (one.created_by, one.created_at) == ("ana", START)


def test_remove_subscription__once__then_false(backend: Backend) -> None:
    project, channel = _channel(backend.store)
    gone = _subscribe(backend.store, project, channel, "*")
    kept = _subscribe(backend.store, project, channel, "drill.done")
    with backend.store.transaction() as tx:
        assert tx.remove_subscription(gone) is True
        assert tx.remove_subscription(gone) is False
    with backend.store.read() as tx:
        assert [s.id for s in tx.list_subscriptions(project)] == [kept]


def test_remove_channel__takes_its_subscriptions(backend: Backend) -> None:
    project, channel = _channel(backend.store)
    _, other = _channel(backend.store, "ops")
    _subscribe(backend.store, project, channel, "*")
    kept = _subscribe(backend.store, project, other, "*")
    with backend.store.transaction() as tx:
        tx.remove_channel(channel)
    with backend.store.read() as tx:
        assert [s.id for s in tx.list_subscriptions(project)] == [kept]


def test_claim_dedupe__first_claim_wins__per_destination(backend: Backend) -> None:
    with backend.store.transaction() as tx:
        assert tx.claim_dedupe("channel:1", "promotion.done|shop/rel-1|production|-") is True
        assert tx.claim_dedupe("channel:1", "promotion.done|shop/rel-1|production|-") is False
        assert tx.claim_dedupe("channel:2", "promotion.done|shop/rel-1|production|-") is True
    with backend.store.transaction() as tx:  # a later unit of work (a runner restarted)
        assert tx.claim_dedupe("channel:1", "promotion.done|shop/rel-1|production|-") is False
        assert tx.claim_dedupe("channel:1", "promotion.done|shop/rel-1|staging|-") is True


def test_claim_dedupe__in_a_unit_of_work_that_failed__is_not_kept(backend: Backend) -> None:
    try:
        with backend.store.transaction() as tx:
            assert tx.claim_dedupe("log", "drill.done|shop/rel-1|-|-") is True
            raise RuntimeError("the promotion failed")
    except RuntimeError:
        pass
    with backend.store.transaction() as tx:
        assert tx.claim_dedupe("log", "drill.done|shop/rel-1|-|-") is True
