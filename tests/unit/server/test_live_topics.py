"""What an audit record tells the dashboard's open pages (server/web/live_topics.py)."""

from __future__ import annotations

import pytest

from shipwise.server.ports import AuditEntry
from shipwise.server.web.live_topics import topics_of


def entry(target_type: str, target_key: str) -> AuditEntry:
    return AuditEntry("token:ana (#3)", f"{target_type}.update", target_type, target_key, "shop")


@pytest.mark.parametrize(
    ("target_type", "target_key", "topics"),
    [
        pytest.param("release", "rel-3", {"release:rel-3", "board"}, id="release"),
        pytest.param("commit", "4f2a", {"commit:4f2a", "board"}, id="ci-result"),
        pytest.param("deploy", "4f2a", {"deploy:4f2a", "commit:4f2a", "board"}, id="deploy"),
        pytest.param("flag", "checkout", {"flag:checkout", "flags"}, id="flag"),
        pytest.param(
            "rollout",
            "new-checkout@production#12",
            {
                "rollout:new-checkout@production#12",
                "rollout:12",
                "flag:new-checkout",
                "flags",
                "board",
            },
            id="rollout-step",
        ),
        pytest.param("policy", "shop", {"policy:shop", "board", "flags", "*"}, id="policy"),
        pytest.param("token", "7", {"token:7"}, id="token"),
        pytest.param("session", "9", set(), id="a-sign-in-refreshes-nothing"),
    ],
)
def test_topics_of__each_kind_of_record__names_the_pages_it_reaches(
    target_type: str, target_key: str, topics: set[str]
) -> None:
    assert topics_of(entry(target_type, target_key)) == topics
